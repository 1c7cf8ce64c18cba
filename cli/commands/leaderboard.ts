/**
 * `weightlens leaderboard [--sweep S | --schedule N] [--metric M] [--family F] [--format table|json|csv]`:
 * a sweep's checkpoints ranked by predicted quality (mean `alpha_weighted` by default; lower ranks
 * better), within each family (series) unless `--across-families`. The rows are `db/leaderboard.ts`'s,
 * the same query (ranks, ties, names, filters, order) the dashboard's leaderboard page shows.
 */
import { type Command, Option } from 'commander';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { ACROSS_FAMILIES_NOTE, familyGroups, familyOf } from '../../db/family-rank.ts';
import {
  DEFAULT_RANK_METRIC,
  type LeaderboardRow,
  leaderboard,
  SUMMARY_METRICS,
  type SummaryMetricName,
} from '../../db/leaderboard.ts';
import { findSweep, latestSweep } from '../../db/sweeps.ts';
import { resolveServices } from '../../infra/config.ts';
import { BadInputError } from '../../lib/errors.ts';
import { isCheckpointMetric } from '../../lib/metrics/registry.ts';
import { terminalLines, terminalText } from '../terminal-text.ts';

export type LeaderboardFormat = 'table' | 'json' | 'csv';

interface LeaderboardOptions {
  sweep?: string;
  schedule?: string;
  metric: string;
  family?: string;
  format: LeaderboardFormat;
  acrossFamilies?: boolean;
}

/** Filters shared by the sweep and schedule leaderboards (the dashboard's family filter). */
export interface LeaderboardFilters {
  acrossFamilies?: boolean;
  family?: string;
}

/** `--metric`: one of the registry's checkpoint metrics (the summary's typed columns). */
export function parseRankMetric(metric: string): SummaryMetricName {
  if (!isCheckpointMetric(metric)) {
    throw new BadInputError(`unknown metric "${metric}"; known: ${SUMMARY_METRICS.join(', ')}`);
  }
  return metric;
}

function cell(value: unknown, digits = 3): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  return String(value);
}

/** Fixed-width text table, numbers right-aligned; every cell escaped for the terminal. */
export function formatTable(headers: string[], rows: unknown[][]): string {
  const text = rows.map((row) => row.map((v) => terminalText(cell(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (values: string[], raw?: unknown[]) =>
    values
      .map((v, i) => (typeof raw?.[i] === 'number' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...text.map((r, i) => line(r, rows[i])),
  ].join('\n');
}

export function formatLeaderboardTable(
  rows: LeaderboardRow[],
  metric: string,
  acrossFamilies = false,
): string {
  if (!acrossFamilies) {
    // One table per series, each ranked within itself.
    return familyGroups(rows)
      .map(({ family, count }) => {
        const members = rows.filter((r) => familyOf(r) === family);
        const title = `series ${family} (${count} checkpoint${count === 1 ? '' : 's'}), ranked within the series`;
        return `${title}\n${formatLeaderboardTable(members, metric, true)}`;
      })
      .join('\n\n');
  }
  const headers = [
    'rank',
    'in_family',
    'checkpoint',
    'family',
    'step',
    metric,
    'alpha',
    'log_spec_norm',
    'over',
    'under',
    'known_acc',
  ];
  return formatTable(
    headers,
    rows.map((r) => [
      r.rank,
      r.rank_in_family,
      r.checkpoint,
      r.family,
      r.step,
      r.score,
      r.alpha,
      r.log_spectral_norm,
      r.over_trained,
      r.under_trained,
      r.known_test_accuracy,
    ]),
  );
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatLeaderboardCsv(rows: LeaderboardRow[]): string {
  const columns = [
    'rank',
    'rank_in_family',
    'checkpoint',
    'uri',
    'family',
    'step',
    'score',
    'metric',
    ...SUMMARY_METRICS,
    'layers_analyzed',
    'layers_failed',
    'over_trained',
    'under_trained',
    'correlation_traps',
    'known_test_accuracy',
  ] as const;
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/** Rows of a sweep (by id or name; the newest sweep when none is given). */
export async function loadLeaderboard(
  prisma: PrismaClient,
  sweepRef: string | undefined,
  metric: string = DEFAULT_RANK_METRIC,
  filters: LeaderboardFilters = {},
) {
  const rankMetric = parseRankMetric(metric);
  const sweep = sweepRef ? await findSweep(prisma, sweepRef) : await latestSweep(prisma);
  if (!sweep) {
    throw new BadInputError(
      sweepRef ? `no sweep with id or name "${sweepRef}"` : 'no sweep yet; run `npx weightlens sweep <uri>`',
    );
  }
  return {
    sweep,
    rows: await leaderboard(prisma, { scope: { sweepId: sweep.id }, metric: rankMetric, ...filters }),
  };
}

/** Rows of a schedule: the latest result of each checkpoint any of its runs saw. */
export async function loadScheduleLeaderboard(
  prisma: PrismaClient,
  scheduleName: string,
  metric: string = DEFAULT_RANK_METRIC,
  filters: LeaderboardFilters = {},
): Promise<LeaderboardRow[]> {
  const rankMetric = parseRankMetric(metric);
  if ((await prisma.sweep.count({ where: { scheduleName } })) === 0) {
    throw new BadInputError(`schedule "${scheduleName}" has no runs yet (see: weightlens schedule list)`);
  }
  return leaderboard(prisma, { scope: { scheduleName }, metric: rankMetric, ...filters });
}

export function renderLeaderboard(
  rows: LeaderboardRow[],
  metric: string,
  format: LeaderboardFormat,
  acrossFamilies = false,
): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'csv') return formatLeaderboardCsv(rows);
  const note = acrossFamilies ? `${ACROSS_FAMILIES_NOTE}\n` : '';
  return `${note}${terminalLines(formatLeaderboardTable(rows, metric, acrossFamilies))}\n`;
}

export function register(program: Command): void {
  program
    .command('leaderboard')
    .description('checkpoints of a sweep ranked by predicted quality (lower mean alpha_weighted is better)')
    .option('--sweep <sweep>', 'sweep id or name (default: the newest sweep)')
    .option('--schedule <name>', "the latest result of every checkpoint a schedule's runs have seen")
    .option(
      '--metric <metric>',
      `summary metric to rank by (lower ranks better): ${SUMMARY_METRICS.join(', ')}`,
      DEFAULT_RANK_METRIC,
    )
    .option('--family <family>', 'only checkpoints of this family (series)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .option('--across-families', 'one ranking over all families (default: ranked within each family)')
    .action(async (options: LeaderboardOptions) => {
      const services = await resolveServices({ start: true });
      const prisma = createPrismaClient(services.databaseUrl);
      try {
        const across = options.acrossFamilies === true;
        const filters: LeaderboardFilters = { acrossFamilies: across, family: options.family };
        if (options.schedule !== undefined && options.sweep !== undefined) {
          throw new BadInputError('give --sweep or --schedule, not both');
        }
        let rows: LeaderboardRow[];
        if (options.schedule !== undefined) {
          rows = await loadScheduleLeaderboard(prisma, options.schedule, options.metric, filters);
          if (options.format === 'table') {
            process.stdout.write(
              `schedule ${terminalText(options.schedule)}: latest result of each checkpoint its runs have seen, ranked by ${options.metric}\n`,
            );
          }
        } else {
          const loaded = await loadLeaderboard(prisma, options.sweep, options.metric, filters);
          rows = loaded.rows;
          const { sweep } = loaded;
          if (options.format === 'table') {
            process.stdout.write(
              `sweep ${terminalText(sweep.name)} (${sweep.id}, ${sweep.status}), ranked by ${options.metric}\n`,
            );
          }
        }
        if (across && options.format !== 'table') process.stderr.write(`${ACROSS_FAMILIES_NOTE}\n`);
        process.stdout.write(renderLeaderboard(rows, options.metric, options.format, across));
      } finally {
        await prisma.$disconnect();
      }
    });
}
