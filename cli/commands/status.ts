/**
 * `weightlens status [sweep] [--format table|json]`: where a sweep stands. Counts come from
 * Postgres (the record); while the workflow runs, its live progress query adds running counts.
 */
import { type Command, Option } from 'commander';
import type { SweepProgress } from '../../contracts/sweep.ts';
import { createPrismaClient } from '../../db/client.ts';
import { formatEta, sweepLayerProgress } from '../../db/layer-progress.ts';
import {
  failedSweepCheckpoints,
  findSweep,
  incompleteSweepCheckpoints,
  latestSweep,
  sweepCheckpointCounts,
} from '../../db/sweeps.ts';
import { resolveServices } from '../../infra/config.ts';
import { BadInputError } from '../../lib/errors.ts';
import { connectClient, querySweepProgress, sweepWorkflowEnd } from '../../workers/sweep-client.ts';
import type { sweepWorkflow } from '../../workflows/sweep.ts';
import { terminalLines } from '../terminal-text.ts';
import { formatTable } from './leaderboard.ts';
import { curvatureCountsLine } from './sweep-curvature.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description('progress and failures of a sweep')
    .argument('[sweep]', 'sweep id or name (default: the newest sweep)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (ref: string | undefined, options: { format: 'table' | 'json' }) => {
      const services = await resolveServices({ start: true });
      const prisma = createPrismaClient(services.databaseUrl);
      try {
        const sweep = ref ? await findSweep(prisma, ref) : await latestSweep(prisma);
        if (!sweep) throw new BadInputError(ref ? `no sweep with id or name "${ref}"` : 'no sweep yet');
        const counts = await sweepCheckpointCounts(prisma, sweep.id);
        const failures = await failedSweepCheckpoints(prisma, sweep.id);
        const incomplete = await incompleteSweepCheckpoints(prisma, sweep.id);
        const layers = await sweepLayerProgress(prisma, sweep.id);
        let live: SweepProgress | undefined;
        // The record says what the workflow last wrote; a workflow ended from outside (terminated,
        // timed out) never writes again, so Temporal's word decides whether it still runs.
        let status: string = sweep.status;
        let ended: string | undefined;
        if (sweep.status === 'running' || sweep.status === 'pending') {
          const temporal = await connectClient(services);
          try {
            const handle = temporal.client.workflow.getHandle<typeof sweepWorkflow>(sweep.workflowId);
            ended = await sweepWorkflowEnd(handle);
            if (ended) status = ended;
            else live = await querySweepProgress(handle);
          } finally {
            await temporal.close();
          }
        }
        const report = {
          id: sweep.id,
          name: sweep.name,
          status,
          workflow_id: sweep.workflowId,
          sources: sweep.sources,
          config_hash: sweep.configHash,
          created_at: sweep.createdAt.toISOString(),
          finished_at: sweep.finishedAt?.toISOString() ?? null,
          checkpoints: counts,
          layers: {
            total: layers.layersTotal,
            stored: layers.layersDone,
            computed: layers.layersComputed,
            checkpoints_inspected: layers.checkpointsInspected,
            eta_seconds: live ? layers.etaSeconds : null,
          },
          live: live ?? null,
          error: sweep.error,
          failures,
          incomplete: incomplete.map((c) => ({
            uri: c.uri,
            layers_done: c.layersDone,
            layers_total: c.layersTotal,
            reason: c.error,
          })),
        };
        if (options.format === 'json') {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const lines = [
          `sweep ${sweep.name} (${sweep.id}): ${status}`,
          `  workflow ${sweep.workflowId}, config ${sweep.configHash}`,
          `  checkpoints: ${counts.total} total, ${counts.succeeded} succeeded, ${counts.failed} failed, ` +
            `${counts.incomplete} incomplete, ${counts.running} running, ${counts.pending} pending`,
        ];
        lines.push(
          `  layers: ${layers.layersDone} of ${layers.layersTotal} stored (${layers.layersComputed} computed by this sweep` +
            `${layers.checkpointsInspected < layers.checkpointsTotal ? `; ${layers.checkpointsInspected} of ${layers.checkpointsTotal} checkpoints inspected` : ''})` +
            `${live && layers.etaSeconds !== null && layers.etaSeconds > 0 ? `, ETA ${formatEta(layers.etaSeconds)}` : ''}`,
        );
        if (live) {
          lines.push(
            `  live: ${live.phase}, ${live.running} running, layers ${live.layersComputed} computed / ` +
              `${live.layersReused} reused / ${live.layersFailed} failed`,
          );
          // Counters of a run started by an older client may lack the curvature ones.
          const curvatureDone =
            (live.curvatureComputed ?? 0) +
            (live.curvatureReused ?? 0) +
            (live.curvatureSkipped ?? 0) +
            (live.curvatureFailed ?? 0);
          if (curvatureDone > 0) lines.push(`  live ${curvatureCountsLine(live)}`);
        }
        if (sweep.error) lines.push(`  error: ${sweep.error}`);
        if (ended) {
          lines.push(
            `  its workflow was ${ended.replace('_', ' ')} outside weightlens, so the record stayed "${sweep.status}"; ` +
              'sweeping the same sources again reuses every stored layer',
          );
        }
        process.stdout.write(`${terminalLines(lines.join('\n'))}\n`);
        if (failures.length > 0) {
          process.stdout.write(
            `\n${terminalLines(
              formatTable(
                ['failed checkpoint', 'reason'],
                failures.map((f) => [f.uri, f.error]),
              ),
            )}\n`,
          );
        }
        if (incomplete.length > 0) {
          process.stdout.write(
            `\n${terminalLines(
              formatTable(
                ['incomplete checkpoint', 'layers', 'reason'],
                incomplete.map((c) => [c.uri, `${c.layersDone} of ${c.layersTotal}`, c.error]),
              ),
            )}\n(finish them with: npx weightlens sweep resume ${sweep.id})\n`,
          );
        }
      } finally {
        await prisma.$disconnect();
      }
    });
}
