/**
 * `weightlens schedule create|list|describe|pause|unpause|trigger|delete|alerts`: sweeps that run
 * on their own, backed by Temporal Schedules (workers/schedule-client.ts). Each run is an ordinary
 * sweep of the sources as they are then; content hashes key the results, so checkpoints already
 * analyzed are reused and only new or changed ones are computed. Runs need workers
 * (`weightlens worker`) polling the cpu queue.
 */
import { type Command, Option } from 'commander';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { listAlerts, markScheduleDeleted } from '../../db/schedules.ts';
import { resolveServices } from '../../infra/config.ts';
import { BadInputError } from '../../lib/errors.ts';
import type { CompletenessRule } from '../../lib/formats/completeness.ts';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  recordSchedule,
  type ScheduleSummary,
  type ScheduleTiming,
  triggerSchedule,
  unpauseSchedule,
} from '../../workers/schedule-client.ts';
import { connectClient } from '../../workers/sweep-client.ts';
import { terminalText } from '../terminal-text.ts';
import { formatTable } from './leaderboard.ts';
import { loadConfig } from './sweep.ts';

type Format = 'table' | 'json';
const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['table', 'json']).default('table');

type TemporalClient = Awaited<ReturnType<typeof connectClient>>['client'];

async function withTemporal<T>(body: (client: TemporalClient, prisma: PrismaClient) => Promise<T>) {
  const services = await resolveServices({ start: true });
  const temporal = await connectClient(services);
  const prisma = createPrismaClient(services.databaseUrl);
  try {
    return await body(temporal.client, prisma);
  } finally {
    await temporal.close();
    await prisma.$disconnect();
  }
}

function timingFrom(options: { every?: string; cron?: string }): ScheduleTiming {
  if (options.every !== undefined && options.cron !== undefined) {
    throw new BadInputError('give either --every or --cron, not both');
  }
  if (options.every !== undefined) return { every: options.every };
  if (options.cron !== undefined) return { cron: options.cron };
  throw new BadInputError('a schedule needs --every <duration> or --cron "<expression>"');
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : '-');

function summaryJson(s: ScheduleSummary) {
  return {
    name: s.name,
    paused: s.paused,
    timing: s.timing,
    sources: s.sources,
    alerts: s.alerts,
    webhook: s.webhook ?? null,
    watch: s.completeness ?? null,
    next_runs: s.nextRuns.map(iso),
    recent_runs: s.recentRuns.map((r) => ({
      scheduled_at: iso(r.scheduledAt),
      started_at: iso(r.startedAt),
      workflow_id: r.workflowId,
    })),
    runs_taken: s.runsTaken,
    runs_skipped: s.runsSkipped,
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface RunOptions {
  config?: string;
  alert?: string[];
  webhook?: string;
  catchup: string;
  paused?: boolean;
}

/** Options every scheduled run takes (`schedule create`, `watch`). */
export function addRunOptions(command: Command): Command {
  return command
    .option('--config <file>', 'analysis options as JSON (as for sweep)')
    .option(
      '--alert <rule>',
      "alert rule, repeatable: 'min(alpha) < 2', 'correlation_traps > 0', 'delta(alpha_weighted) > 0.5'",
      collect,
    )
    .option('--webhook <url>', 'POST fired alerts here as JSON (idempotency-key header per alert)')
    .option('--catchup <duration>', 'after downtime, catch up missed runs this far back', '1h')
    .option('--paused', 'create it paused');
}

export async function createFromOptions(
  name: string,
  uris: string[],
  timing: ScheduleTiming,
  options: RunOptions,
  completeness?: CompletenessRule,
): Promise<void> {
  const config = await loadConfig(options.config);
  await withTemporal(async (client, prisma) => {
    await createSchedule(client, {
      name,
      sources: uris,
      timing,
      config,
      alerts: options.alert,
      webhook: options.webhook,
      catchupWindow: options.catchup,
      paused: options.paused,
      completeness,
    });
    await recordSchedule(client, prisma, name);
  });
  process.stdout.write(`${name}\n`);
  process.stderr.write(
    `schedule ${name} created${options.paused ? ' (paused)' : ''}; runs need workers: npx weightlens worker\n`,
  );
}

/** `schedule describe`'s table: sources, rules and webhook are user text, shown escaped. */
export function formatScheduleDescription(
  s: ScheduleSummary,
  sweeps: {
    id: string;
    status: string;
    createdAt: Date;
    checkpointsTotal: number;
    checkpointsDone: number;
  }[],
): string {
  const lines = [
    `schedule ${s.name} (${s.paused ? 'paused' : 'active'}): ${s.timing}`,
    `sources: ${s.sources.join(' ')}`,
    `alerts: ${s.alerts.length ? s.alerts.join('; ') : '-'}${s.webhook ? ` → ${s.webhook}` : ''}`,
    `next run: ${iso(s.paused ? undefined : s.nextRuns[0])}; runs taken ${s.runsTaken}, skipped ${s.runsSkipped}`,
  ].map(terminalText);
  const table = formatTable(
    ['sweep', 'status', 'started', 'checkpoints', 'succeeded'],
    sweeps.map((w) => [w.id, w.status, iso(w.createdAt), w.checkpointsTotal, w.checkpointsDone]),
  );
  return [...lines, '', table].join('\n');
}

export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('sweeps that run on their own (Temporal Schedules): create, list, describe, pause, …');

  addRunOptions(
    schedule
      .command('create')
      .description('create a schedule that sweeps the sources every interval or on a cron spec')
      .argument('<name>', 'schedule name (letters, digits, . _ -)')
      .argument('<uri...>', 'checkpoint files, directories or s3:// prefixes')
      .option('--every <duration>', 'run every interval (30s, 5m, 1h, 1d)')
      .option('--cron <expression>', 'run on a cron expression, e.g. "0 3 * * *"'),
  ).action(async (name: string, uris: string[], options: RunOptions & { every?: string; cron?: string }) => {
    await createFromOptions(name, uris, timingFrom(options), options);
  });

  schedule
    .command('list')
    .description('every schedule with its timing, state and next run')
    .addOption(formatOption())
    .action(async (options: { format: Format }) => {
      const all = await withTemporal((client) => listSchedules(client));
      if (options.format === 'json') {
        process.stdout.write(`${JSON.stringify(all.map(summaryJson), null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['name', 'timing', 'state', 'next run', 'last run', 'runs'],
          all.map((s) => [
            s.name,
            s.timing,
            s.paused ? 'paused' : 'active',
            iso(s.paused ? undefined : s.nextRuns[0]),
            iso(s.recentRuns.at(-1)?.startedAt),
            s.runsTaken,
          ]),
        )}\n`,
      );
    });

  schedule
    .command('describe')
    .description('one schedule: timing, sources, rules, next and recent runs and the sweeps they ran')
    .argument('<name>')
    .addOption(formatOption())
    .action(async (name: string, options: { format: Format }) => {
      const s = await withTemporal((client) => describeSchedule(client, name));
      const services = await resolveServices({ start: false });
      const prisma = createPrismaClient(services.databaseUrl);
      try {
        const sweeps = await prisma.sweep.findMany({
          where: { scheduleName: name },
          orderBy: { createdAt: 'asc' },
          select: { id: true, status: true, createdAt: true, checkpointsTotal: true, checkpointsDone: true },
        });
        if (options.format === 'json') {
          const runs = sweeps.map((w) => ({
            sweep_id: w.id,
            status: w.status,
            created_at: iso(w.createdAt),
            checkpoints: w.checkpointsTotal,
            succeeded: w.checkpointsDone,
          }));
          process.stdout.write(`${JSON.stringify({ ...summaryJson(s), sweeps: runs }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${formatScheduleDescription(s, sweeps)}\n`);
      } finally {
        await prisma.$disconnect();
      }
    });

  for (const [verb, what, run] of [
    ['pause', 'stop starting runs (a running one finishes)', pauseSchedule],
    ['unpause', 'start runs again', unpauseSchedule],
    ['trigger', 'start a run now (skipped while one is running)', triggerSchedule],
    ['delete', 'delete the schedule (its sweeps and results stay)', deleteSchedule],
  ] as const) {
    schedule
      .command(verb)
      .description(what)
      .argument('<name>')
      .action(async (name: string) => {
        await withTemporal(async (client, prisma) => {
          await run(client, name);
          if (verb === 'delete') await markScheduleDeleted(prisma, name);
          else await recordSchedule(client, prisma, name);
        });
        process.stderr.write(`schedule ${name}: ${verb}${verb.endsWith('e') ? 'd' : 'ed'}\n`);
      });
  }

  schedule
    .command('alerts')
    .description('alerts fired by the rules of one schedule (or of all)')
    .argument('[name]')
    .addOption(formatOption())
    .action(async (name: string | undefined, options: { format: Format }) => {
      const services = await resolveServices({ start: true });
      const prisma = createPrismaClient(services.databaseUrl);
      try {
        const alerts = await listAlerts(prisma, name);
        if (options.format === 'json') {
          const rows = alerts.map((a) => ({
            schedule: a.scheduleName,
            rule: a.rule,
            checkpoint: a.checkpoint.uri,
            step: a.checkpoint.step,
            value: a.value,
            message: a.message,
            sweep_id: a.sweepId,
            fired_at: iso(a.createdAt),
            delivered_at: a.deliveredAt ? iso(a.deliveredAt) : null,
            delivery_error: a.deliveryError,
          }));
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${formatTable(
            ['schedule', 'rule', 'checkpoint', 'step', 'value', 'fired', 'delivered'],
            alerts.map((a) => [
              a.scheduleName,
              a.rule,
              a.checkpoint.uri,
              a.checkpoint.step,
              a.value,
              iso(a.createdAt),
              a.deliveredAt ? iso(a.deliveredAt) : (a.deliveryError ?? '-'),
            ]),
          )}\n`,
        );
      } finally {
        await prisma.$disconnect();
      }
    });
}
