/**
 * `weightlens watch <prefix> [--every 5m] [--complete-when readable|marker:<file>]`: follow a
 * training run as it writes checkpoints. A schedule (see `weightlens schedule`) whose runs sweep
 * the prefix but take a checkpoint only once it is complete under the rule
 * (lib/formats/completeness.ts), so a half-written one is never analyzed; steps come from
 * trainer_state.json, weightlens.json or the folder name `checkpoint-<step>`.
 */
import type { Command } from 'commander';
import { parseCompletenessRule } from '../../lib/formats/completeness.ts';
import { basename } from '../../lib/formats/uri.ts';
import { checkDuration } from '../../workers/schedule-client.ts';
import { normalizeSource } from '../../workers/sweep-client.ts';
import { addRunOptions, createFromOptions, type RunOptions } from './schedule.ts';

export function register(program: Command): void {
  addRunOptions(
    program
      .command('watch')
      .description('follow a training run: sweep new checkpoints of a prefix as they are complete')
      .argument('<prefix>', 'directory or s3:// prefix the run writes checkpoints into')
      .option('--name <name>', 'schedule name (default: watch-<last path segment>)')
      .option('--every <duration>', 'how often to look (30s, 5m, 1h)', '5m')
      .option(
        '--complete-when <rule>',
        "when a checkpoint counts as written: 'readable' (every shard present and whole) or 'marker:<file>'",
        'readable',
      ),
  ).action(
    async (prefix: string, options: RunOptions & { name?: string; every: string; completeWhen: string }) => {
      const completeness = parseCompletenessRule(options.completeWhen);
      checkDuration(options.every, '--every');
      const name =
        options.name ?? `watch-${basename(normalizeSource(prefix)).replace(/[^A-Za-z0-9._-]/g, '-')}`;
      await createFromOptions(name, [prefix], { every: options.every }, options, completeness);
    },
  );
}
