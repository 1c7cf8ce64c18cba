/**
 * The dashboard's leaderboard page: its URL parameters → one page of `db/leaderboard.ts`, the
 * leaderboard the CLI prints (same ranks, ties, names, filters and order). Only the parsing of
 * the page's parameters (whitelisted; nothing user-typed reaches SQL text) lives here.
 */
import { DEFAULT_SUMMARY_METRIC, isSummaryMetric, type SummaryMetric } from '../../lib/metrics/display.ts';
import {
  isLeaderboardSort,
  type LeaderboardRow,
  type LeaderboardSort,
  leaderboardPage,
} from '../leaderboard.ts';
import { versionedReads } from './cache.ts';
import type { Db } from './client.ts';
import { type FilterOptions, fetchFilterOptions } from './filters.ts';

export type { LeaderboardRow, LeaderboardSort };

export const LEADERBOARD_PAGE_SIZE = 50;

export type SortDirection = 'asc' | 'desc';

export interface LeaderboardQuery {
  metric: SummaryMetric;
  /** Whether a lower metric value ranks better (WeightWatcher's convention for α-like metrics). */
  lowerIsBetter: boolean;
  sweepId: string | null;
  family: string | null;
  search: string | null;
  /** One ordering over all families (`?across=1`) instead of groups per series. */
  acrossFamilies: boolean;
  sort: LeaderboardSort;
  direction: SortDirection;
  /** 1-based. */
  page: number;
  pageSize: number;
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
  const sortParam = single(params, 'sort');
  const page = Number.parseInt(single(params, 'page') ?? '1', 10);
  return {
    metric: isSummaryMetric(metricParam) ? metricParam : DEFAULT_SUMMARY_METRIC,
    lowerIsBetter: single(params, 'better') !== 'higher',
    sweepId: single(params, 'sweep'),
    family: single(params, 'family'),
    search: single(params, 'q')?.trim() || null,
    acrossFamilies: single(params, 'across') === '1',
    sort: isLeaderboardSort(sortParam) ? sortParam : 'rank',
    direction: single(params, 'dir') === 'desc' ? 'desc' : 'asc',
    page: Number.isFinite(page) && page > 0 ? page : 1,
    pageSize: LEADERBOARD_PAGE_SIZE,
  };
}

export async function fetchLeaderboard(db: Db, query: LeaderboardQuery): Promise<LeaderboardPage> {
  const { rows, total } = await leaderboardPage(db, {
    scope: query.sweepId === null ? { all: true } : { sweepId: query.sweepId },
    metric: query.metric,
    better: query.lowerIsBetter ? 'lower' : 'higher',
    family: query.family,
    search: query.search,
    acrossFamilies: query.acrossFamilies,
    sort: query.sort,
    direction: query.direction,
    limit: query.pageSize,
    offset: (query.page - 1) * query.pageSize,
  });
  return { rows, total, query };
}

export interface LeaderboardView {
  board: LeaderboardPage;
  options: FilterOptions;
}

/**
 * The leaderboard page's reads (one page of rows, the filter choices) under one results version,
 * from the version-keyed cache (cache.ts): never older than the results when the request began.
 */
export async function fetchLeaderboardView(db: Db, query: LeaderboardQuery): Promise<LeaderboardView> {
  const read = await versionedReads(db);
  const [{ rows, total }, options] = await Promise.all([
    read(`leaderboard ${JSON.stringify(query)}`, () => fetchLeaderboard(db, query)),
    read('filter-options', () => fetchFilterOptions(db)),
  ]);
  return { board: { rows, total, query }, options };
}
