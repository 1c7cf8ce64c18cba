/**
 * The leaderboard: one row per (checkpoint, analysis config) summary, ranked by a chosen summary
 * metric. Filtering, ranking, sorting and pagination all happen in SQL, so a page costs the same
 * whether the database holds ten checkpoints or a hundred thousand.
 */

import {
  DEFAULT_SUMMARY_METRIC,
  isSummaryMetric,
  SUMMARY_METRIC_NAMES,
  SUMMARY_METRICS,
  type SummaryMetric,
} from '../../lib/metrics/display.ts';
import type { CheckpointMetricColumn } from '../../lib/metrics/registry.ts';
import { checkpointDisplayName } from '../checkpoint-name.ts';
import { Prisma } from '../client.ts';
import type { Db } from './client.ts';

export const LEADERBOARD_PAGE_SIZE = 50;

/** Sortable columns: URL key → SQL expression (a fixed whitelist; user input never reaches SQL text). */
const SORT_COLUMNS = {
  rank: 'rank',
  name: `coalesce(c.metadata->>'name', c.uri)`,
  family: 'c.family',
  run: 'c.run',
  step: 'c.step',
  epoch: 'c.epoch',
  accuracy: 'c."knownTestAccuracy"',
  ...(Object.fromEntries(SUMMARY_METRIC_NAMES.map((m) => [m, `s."${SUMMARY_METRICS[m].column}"`])) as Record<
    SummaryMetric,
    string
  >),
  layers: 's."layersAnalyzed"',
  failed: 's."layersFailed"',
  warnings: '(s."overTrained" + s."underTrained" + s."correlationTraps")',
  hessian_top: 'cur.top',
  hessian_trace: 'cur.trace',
} as const;

export type LeaderboardSort = keyof typeof SORT_COLUMNS;
export type SortDirection = 'asc' | 'desc';

export interface LeaderboardQuery {
  metric: SummaryMetric;
  /** Whether a lower metric value ranks better (WeightWatcher's convention for α-like metrics). */
  lowerIsBetter: boolean;
  sweepId: string | null;
  family: string | null;
  search: string | null;
  sort: LeaderboardSort;
  direction: SortDirection;
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface LeaderboardRow {
  rank: number;
  checkpointId: string;
  configHash: string;
  name: string;
  uri: string;
  family: string | null;
  run: string | null;
  step: number | null;
  epoch: number | null;
  knownTestAccuracy: number | null;
  metrics: Record<SummaryMetric, number | null>;
  layersAnalyzed: number;
  layersFailed: number;
  overTrained: number;
  underTrained: number;
  correlationTraps: number;
  /** Newest succeeded curvature run of the checkpoint, when there is one. */
  hessianTop: number | null;
  hessianTrace: number | null;
}

export interface LeaderboardPage {
  rows: LeaderboardRow[];
  total: number;
  query: LeaderboardQuery;
}

type SearchParams = Record<string, string | string[] | undefined>;

function single(params: SearchParams, key: string): string | null {
  const value = params[key];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first;
}

/** Parse the page's URL parameters; anything unknown falls back to the defaults. */
export function parseLeaderboardQuery(params: SearchParams): LeaderboardQuery {
  const metricParam = single(params, 'metric');
  const metric = isSummaryMetric(metricParam) ? metricParam : DEFAULT_SUMMARY_METRIC;
  const sortParam = single(params, 'sort');
  const sort =
    sortParam !== null && Object.hasOwn(SORT_COLUMNS, sortParam) ? (sortParam as LeaderboardSort) : 'rank';
  const direction: SortDirection = single(params, 'dir') === 'desc' ? 'desc' : 'asc';
  const page = Number.parseInt(single(params, 'page') ?? '1', 10);
  return {
    metric,
    lowerIsBetter: single(params, 'better') !== 'higher',
    sweepId: single(params, 'sweep'),
    family: single(params, 'family'),
    search: single(params, 'q')?.trim() || null,
    sort,
    direction,
    page: Number.isFinite(page) && page > 0 ? page : 1,
    pageSize: LEADERBOARD_PAGE_SIZE,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

function whereClause(query: LeaderboardQuery): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (query.sweepId !== null) {
    // A sweep's results are the summaries of its checkpoints under its own config.
    conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "SweepCheckpoint" sc
      WHERE sc."checkpointId" = c.id AND sc."sweepId" = ${query.sweepId})`);
    conditions.push(
      Prisma.sql`s."configHash" = (SELECT w."configHash" FROM "Sweep" w WHERE w.id = ${query.sweepId})`,
    );
  }
  if (query.family !== null) conditions.push(Prisma.sql`c.family = ${query.family}`);
  if (query.search !== null) {
    const pattern = `%${escapeLike(query.search)}%`;
    conditions.push(Prisma.sql`(c.uri ILIKE ${pattern} OR c.metadata->>'name' ILIKE ${pattern}
      OR c.family ILIKE ${pattern} OR c.run ILIKE ${pattern})`);
  }
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}`;
}

type RawLeaderboardRow = Record<CheckpointMetricColumn, number | null> & {
  rank: bigint;
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

/** The summary metric columns, quoted for SQL (registry names; no user input). */
const METRIC_SELECT = Prisma.raw(
  SUMMARY_METRIC_NAMES.map((m) => `s."${SUMMARY_METRICS[m].column}"`).join(', '),
);

export async function fetchLeaderboard(db: Db, query: LeaderboardQuery): Promise<LeaderboardPage> {
  const where = whereClause(query);
  const metricColumn = Prisma.raw(`s."${SUMMARY_METRICS[query.metric].column}"`);
  const rankDirection = Prisma.raw(query.lowerIsBetter ? 'ASC' : 'DESC');
  const sortExpression = Prisma.raw(SORT_COLUMNS[query.sort]);
  const sortDirection = Prisma.raw(query.direction === 'desc' ? 'DESC' : 'ASC');
  const offset = (query.page - 1) * query.pageSize;
  const [rows, counted] = await Promise.all([
    // Window functions run before ORDER BY/LIMIT: rank is over the whole filtered set.
    db.$queryRaw<RawLeaderboardRow[]>`
      SELECT rank() OVER (ORDER BY ${metricColumn} ${rankDirection} NULLS LAST) AS rank,
        s."checkpointId", s."configHash", c.uri, c.metadata->>'name' AS "metadataName",
        c.family, c.run, c.step, c.epoch, c."knownTestAccuracy",
        ${METRIC_SELECT}, s."layersAnalyzed", s."layersFailed",
        s."overTrained", s."underTrained", s."correlationTraps",
        cur.top AS "hessianTop", cur.trace AS "hessianTrace"
      FROM "CheckpointSummary" s JOIN "Checkpoint" c ON c.id = s."checkpointId"
      LEFT JOIN LATERAL (
        SELECT cr."topEigenvalues"[1] AS top, cr.trace FROM "CurvatureResult" cr
        WHERE cr."checkpointId" = c.id AND cr.status = 'succeeded'
        ORDER BY cr."createdAt" DESC LIMIT 1
      ) cur ON true
      ${where}
      ORDER BY ${sortExpression} ${sortDirection} NULLS LAST, rank ASC, s.id ASC
      LIMIT ${query.pageSize} OFFSET ${offset}`,
    db.$queryRaw<{ total: bigint }[]>`
      SELECT count(*) AS total FROM "CheckpointSummary" s JOIN "Checkpoint" c ON c.id = s."checkpointId" ${where}`,
  ]);
  return {
    rows: rows.map((row) => ({
      rank: Number(row.rank),
      checkpointId: row.checkpointId,
      configHash: row.configHash,
      name: checkpointDisplayName(row.uri, row.metadataName),
      uri: row.uri,
      family: row.family,
      run: row.run,
      step: row.step,
      epoch: row.epoch,
      knownTestAccuracy: row.knownTestAccuracy,
      metrics: Object.fromEntries(
        SUMMARY_METRIC_NAMES.map((m) => [m, row[SUMMARY_METRICS[m].column]]),
      ) as Record<SummaryMetric, number | null>,
      layersAnalyzed: row.layersAnalyzed,
      layersFailed: row.layersFailed,
      overTrained: row.overTrained,
      underTrained: row.underTrained,
      correlationTraps: row.correlationTraps,
      hessianTop: row.hessianTop,
      hessianTrace: row.hessianTrace,
    })),
    total: Number(counted[0]?.total ?? 0n),
    query,
  };
}
