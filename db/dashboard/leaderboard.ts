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
import { choiceParam, firstParam, type SearchParams, sweepFamilyParams } from './params.ts';

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

/** Parse the page's URL parameters; anything unknown falls back to the defaults. */
export function parseLeaderboardQuery(params: SearchParams): LeaderboardQuery {
  const page = Number.parseInt(firstParam(params, 'page') ?? '1', 10);
  return {
    metric: choiceParam(params, 'metric', isSummaryMetric, DEFAULT_SUMMARY_METRIC),
    lowerIsBetter: firstParam(params, 'better') !== 'higher',
    ...sweepFamilyParams(params),
    search: firstParam(params, 'q')?.trim() || null,
    acrossFamilies: firstParam(params, 'across') === '1',
    sort: choiceParam(params, 'sort', isLeaderboardSort, 'rank'),
    direction: choiceParam(params, 'dir', ['asc', 'desc'], 'asc'),
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
