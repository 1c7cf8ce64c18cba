/**
 * The leaderboard: the one ranking of checkpoint summaries, used by the CLI (`weightlens
 * leaderboard`, the table after `sweep --wait`) and the dashboard's leaderboard page. Filtering,
 * ranking, grouping, sorting and pagination all happen in one SQL query over the typed summary
 * columns, so both read the same ranks, names and order.
 *
 * Ranking rule (ties): competition ranking, SQL `rank()` — equal values share a rank and the next
 * rank skips (1, 1, 3). Checkpoints without the metric rank after all that have it. `rank` is over
 * every filtered row; `rank_in_family` the same within the row's family (series). Rows are listed
 * grouped per family (families ordered by their best rank, then name) unless `acrossFamilies`;
 * within a rank, by URI. HT-SR metrics compare models of one series, hence the default.
 */
import {
  CHECKPOINT_METRIC_NAMES,
  type CheckpointMetricName,
  checkpointMetric,
  columnOf,
  DEFAULT_RANK_METRIC,
  isCheckpointMetric,
} from '../lib/metrics/registry.ts';
import { checkpointDisplayName } from './checkpoint-name.ts';
import { Prisma, type PrismaClient } from './client.ts';
import type { FamilyRanked } from './family-rank.ts';
import { inFamilies, sweepSummaries } from './result-filters.ts';
import { scheduleCheckpoints } from './schedules.ts';

export { checkpointDisplayName, DEFAULT_RANK_METRIC };

/** Summary columns every row carries (the registry's checkpoint metrics, get_summary names). */
export const SUMMARY_METRICS = CHECKPOINT_METRIC_NAMES;

export type SummaryMetricName = CheckpointMetricName;

export type LeaderboardRow = LeaderboardBase & FamilyRanked & { [name in SummaryMetricName]: number | null };

interface LeaderboardBase {
  rank: number;
  /** Display name (`checkpointDisplayName`). */
  checkpoint: string;
  checkpoint_id: string;
  config_hash: string;
  uri: string;
  family: string | null;
  run: string | null;
  step: number | null;
  epoch: number | null;
  /** The ranking metric's value. */
  score: number | null;
  metric: SummaryMetricName;
  layers_analyzed: number;
  layers_failed: number;
  over_trained: number;
  under_trained: number;
  correlation_traps: number;
  known_test_accuracy: number | null;
  /** Newest succeeded curvature run of the checkpoint, when there is one. */
  hessian_top: number | null;
  hessian_trace: number | null;
}

/** Which summaries: one sweep's (under its config), a schedule's latest per checkpoint, or all. */
export type LeaderboardScope = { sweepId: string } | { scheduleName: string } | { all: true };

/** Columns a page may sort by besides the rank: URL key → SQL expression (a fixed whitelist). */
const SORT_COLUMNS = {
  name: `coalesce(c.metadata->>'name', c.uri)`,
  family: 'c.family',
  run: 'c.run',
  step: 'c.step',
  epoch: 'c.epoch',
  accuracy: 'c."knownTestAccuracy"',
  ...(Object.fromEntries(CHECKPOINT_METRIC_NAMES.map((m) => [m, `s."${columnOf(m)}"`])) as Record<
    SummaryMetricName,
    string
  >),
  layers: 's."layersAnalyzed"',
  failed: 's."layersFailed"',
  warnings: '(s."overTrained" + s."underTrained" + s."correlationTraps")',
  hessian_top: 'cur.top',
  hessian_trace: 'cur.trace',
} as const;

export type LeaderboardSort = 'rank' | keyof typeof SORT_COLUMNS;

export function isLeaderboardSort(value: unknown): value is LeaderboardSort {
  return typeof value === 'string' && (value === 'rank' || Object.hasOwn(SORT_COLUMNS, value));
}

export interface LeaderboardQuery {
  scope: LeaderboardScope;
  /** A registry checkpoint metric (default mean `alpha_weighted`). */
  metric?: SummaryMetricName;
  /** Which way ranks better (default: the registry's direction for the metric). */
  better?: 'lower' | 'higher';
  family?: string | null;
  /** Case-insensitive substring of the URI, sidecar name, family or run. */
  search?: string | null;
  /** One ordering over all families instead of groups per family (rank_in_family is kept). */
  acrossFamilies?: boolean;
  /** 'rank' (default): the ranking order above; another column: flat, by it, then by rank. */
  sort?: LeaderboardSort;
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface LeaderboardPage {
  rows: LeaderboardRow[];
  /** Filtered rows before limit/offset. */
  total: number;
}

type RawRow = Record<string, number | null> & {
  rank: bigint;
  rankInFamily: bigint;
  total: bigint;
  checkpointId: string;
  configHash: string;
  uri: string;
  metadataName: string | null;
  family: string | null;
  run: string | null;
  step: number | null;
  epoch: number | null;
  knownTestAccuracy: number | null;
  layersAnalyzed: number;
  layersFailed: number;
  overTrained: number;
  underTrained: number;
  correlationTraps: number;
  hessianTop: number | null;
  hessianTrace: number | null;
};

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

async function scopeCondition(prisma: PrismaClient, scope: LeaderboardScope): Promise<Prisma.Sql | null> {
  if ('sweepId' in scope) {
    return sweepSummaries(scope.sweepId);
  }
  if ('scheduleName' in scope) {
    // Each checkpoint under the configuration of the run that saw it last.
    const items = await scheduleCheckpoints(prisma, scope.scheduleName);
    if (items.length === 0) return Prisma.sql`false`;
    const pairs = items.map((i) => Prisma.sql`(${i.checkpointId}, ${i.sweep.configHash})`);
    return Prisma.sql`(s."checkpointId", s."configHash") IN (${Prisma.join(pairs)})`;
  }
  return null;
}

async function whereClause(prisma: PrismaClient, query: LeaderboardQuery): Promise<Prisma.Sql> {
  const conditions: Prisma.Sql[] = [];
  const scope = await scopeCondition(prisma, query.scope);
  if (scope) conditions.push(scope);
  if (query.family) conditions.push(inFamilies(query.family));
  const search = query.search?.trim();
  if (search) {
    const pattern = `%${escapeLike(search)}%`;
    conditions.push(Prisma.sql`(c.uri ILIKE ${pattern} OR c.metadata->>'name' ILIKE ${pattern}
      OR c.family ILIKE ${pattern} OR c.run ILIKE ${pattern})`);
  }
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}`;
}

/** The summary metric columns, quoted for SQL (registry names; no user input). */
const METRIC_SELECT = Prisma.raw(CHECKPOINT_METRIC_NAMES.map((m) => `s."${columnOf(m)}"`).join(', '));

/** The page's sort column, computed inside the ranking query (the outer query sees only its columns). */
function sortKey(query: LeaderboardQuery): Prisma.Sql {
  const sort = query.sort ?? 'rank';
  return Prisma.raw(sort === 'rank' ? 'NULL::int' : SORT_COLUMNS[sort]);
}

function orderClause(query: LeaderboardQuery): Prisma.Sql {
  const dir = query.direction === 'desc' ? 'DESC' : 'ASC';
  const sort = query.sort ?? 'rank';
  if (sort !== 'rank') {
    return Prisma.raw(`ORDER BY "sortKey" ${dir} NULLS LAST, rank ASC, uri ASC, id ASC`);
  }
  if (query.acrossFamilies) return Prisma.raw(`ORDER BY rank ${dir}, uri ${dir}, id ${dir}`);
  return Prisma.raw(
    `ORDER BY "familyBest" ${dir}, family ${dir} NULLS LAST, "rankInFamily" ${dir}, uri ${dir}, id ${dir}`,
  );
}

export async function leaderboardPage(
  prisma: PrismaClient,
  query: LeaderboardQuery,
): Promise<LeaderboardPage> {
  const metric = query.metric ?? DEFAULT_RANK_METRIC;
  if (!isCheckpointMetric(metric)) throw new Error(`not a registry checkpoint metric: ${String(metric)}`);
  const better = query.better ?? checkpointMetric(metric).better;
  const metricColumn = Prisma.raw(`s."${columnOf(metric)}"`);
  const rankDirection = Prisma.raw(better === 'higher' ? 'DESC' : 'ASC');
  const where = await whereClause(prisma, query);
  const limit = query.limit === undefined ? Prisma.empty : Prisma.sql`LIMIT ${query.limit}`;
  const offset = query.offset ? Prisma.sql`OFFSET ${query.offset}` : Prisma.empty;
  // Window functions run before ORDER BY/LIMIT: ranks and the total are over the whole filtered set.
  const raw = await prisma.$queryRaw<RawRow[]>`
    WITH ranked AS (
      SELECT s.id, s."checkpointId", s."configHash", c.uri, c.metadata->>'name' AS "metadataName",
        c.family, c.run, c.step, c.epoch, c."knownTestAccuracy",
        ${METRIC_SELECT}, s."layersAnalyzed", s."layersFailed",
        s."overTrained", s."underTrained", s."correlationTraps",
        cur.top AS "hessianTop", cur.trace AS "hessianTrace", ${sortKey(query)} AS "sortKey",
        rank() OVER (ORDER BY ${metricColumn} ${rankDirection} NULLS LAST) AS rank,
        rank() OVER (PARTITION BY c.family ORDER BY ${metricColumn} ${rankDirection} NULLS LAST) AS "rankInFamily",
        count(*) OVER () AS total
      FROM "CheckpointSummary" s JOIN "Checkpoint" c ON c.id = s."checkpointId"
      LEFT JOIN (
        -- Each checkpoint's latest succeeded curvature in one pass (a LATERAL subquery per row
        -- scanned the table once per checkpoint: 2/3 of the query's time at 600 checkpoints).
        SELECT DISTINCT ON (cr."checkpointId") cr."checkpointId", cr."topEigenvalues"[1] AS top, cr.trace
        FROM "CurvatureResult" cr WHERE cr.status = 'succeeded'
        ORDER BY cr."checkpointId", cr."createdAt" DESC
      ) cur ON cur."checkpointId" = c.id
      ${where}
    ), grouped AS (
      SELECT ranked.*, min(rank) OVER (PARTITION BY family) AS "familyBest" FROM ranked
    )
    SELECT * FROM grouped ${orderClause(query)} ${limit} ${offset}`;
  const total = raw.length > 0 ? Number(raw[0]!.total) : query.offset ? await countOnly(prisma, where) : 0;
  return { rows: raw.map((row) => toRow(row, metric)), total };
}

async function countOnly(prisma: PrismaClient, where: Prisma.Sql): Promise<number> {
  const counted = await prisma.$queryRaw<{ total: bigint }[]>`
    SELECT count(*) AS total FROM "CheckpointSummary" s JOIN "Checkpoint" c ON c.id = s."checkpointId" ${where}`;
  return Number(counted[0]?.total ?? 0n);
}

function toRow(row: RawRow, metric: SummaryMetricName): LeaderboardRow {
  const metrics = Object.fromEntries(CHECKPOINT_METRIC_NAMES.map((m) => [m, row[columnOf(m)] ?? null])) as {
    [name in SummaryMetricName]: number | null;
  };
  return {
    rank: Number(row.rank),
    rank_in_family: Number(row.rankInFamily),
    checkpoint: checkpointDisplayName(row.uri, row.metadataName),
    checkpoint_id: row.checkpointId,
    config_hash: row.configHash,
    uri: row.uri,
    family: row.family,
    run: row.run,
    step: row.step,
    epoch: row.epoch,
    score: metrics[metric],
    metric,
    ...metrics,
    layers_analyzed: row.layersAnalyzed,
    layers_failed: row.layersFailed,
    over_trained: row.overTrained,
    under_trained: row.underTrained,
    correlation_traps: row.correlationTraps,
    known_test_accuracy: row.knownTestAccuracy,
    hessian_top: row.hessianTop,
    hessian_trace: row.hessianTrace,
  };
}

/** Every row of the query, in leaderboard order (the CLI's view). */
export async function leaderboard(prisma: PrismaClient, query: LeaderboardQuery): Promise<LeaderboardRow[]> {
  return (await leaderboardPage(prisma, { ...query, limit: undefined, offset: undefined })).rows;
}
