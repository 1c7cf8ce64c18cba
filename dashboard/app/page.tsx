import Link from 'next/link';
import { db } from '../../db/dashboard/client.ts';
import {
  fetchLeaderboardView,
  type LeaderboardQuery,
  type LeaderboardSort,
  parseLeaderboardQuery,
} from '../../db/dashboard/leaderboard.ts';
import type { SearchParams } from '../../db/dashboard/params.ts';
import { ACROSS_FAMILIES_NOTE, WITHIN_FAMILIES_NOTE } from '../../db/family-rank.ts';
import { SUMMARY_METRIC_NAMES, SUMMARY_METRICS } from '../../lib/metrics/display.ts';
import { SelectField, SUMMARY_METRIC_CHOICES, SweepFamilyFields } from '../components/filters.tsx';
import { LeaderboardRows } from '../components/leaderboard-rows.tsx';
import { hrefWith, type QueryValues } from '../view/url.ts';

export const dynamic = 'force-dynamic';

function currentValues(query: LeaderboardQuery): QueryValues {
  return {
    metric: query.metric === 'alpha_weighted' ? null : query.metric,
    better: query.lowerIsBetter ? null : 'higher',
    sweep: query.sweepId,
    family: query.family,
    q: query.search,
    across: query.acrossFamilies ? '1' : null,
    sort: query.sort === 'rank' ? null : query.sort,
    dir: query.direction === 'asc' ? null : 'desc',
    page: query.page === 1 ? null : query.page,
  };
}

function SortHeader(props: {
  query: LeaderboardQuery;
  column: LeaderboardSort;
  label: string;
  text?: boolean;
}) {
  const { query, column, label } = props;
  const active = query.sort === column;
  const nextDirection = active && query.direction === 'asc' ? 'desc' : 'asc';
  const href = hrefWith('/', currentValues(query), {
    sort: column === 'rank' ? null : column,
    dir: nextDirection === 'asc' ? null : 'desc',
    page: null,
  });
  return (
    <th
      className={props.text ? 'text' : undefined}
      aria-sort={active ? (query.direction === 'asc' ? 'ascending' : 'descending') : undefined}
    >
      <Link prefetch={false} href={href} data-testid={`sort-${column}`}>
        {label}
        {active ? (query.direction === 'asc' ? ' ▲' : ' ▼') : ''}
      </Link>
    </th>
  );
}

const METRIC_COLUMNS = SUMMARY_METRIC_NAMES;

const betterIs = (query: LeaderboardQuery) => (query.lowerIsBetter ? 'lower' : 'higher');

export default async function LeaderboardPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const query = parseLeaderboardQuery(await searchParams);
  const { board, options } = await fetchLeaderboardView(db(), query);
  const pages = Math.max(1, Math.ceil(board.total / query.pageSize));
  // Curvature columns only when some checkpoint on this page has a curvature run.
  const showCurvature = board.rows.some((row) => row.hessian_top !== null || row.hessian_trace !== null);
  // Series as groups in the ranking order; a sort by another column is one flat list.
  const grouped = !query.acrossFamilies && query.sort === 'rank';
  return (
    <>
      <h1>Leaderboard</h1>
      <form className="filters" method="get" action="/" data-testid="filters">
        <SelectField label="Rank by" name="metric" value={query.metric} choices={SUMMARY_METRIC_CHOICES} />
        <SelectField label="Better is" name="better" value={betterIs(query)} choices={['lower', 'higher']} />
        <SweepFamilyFields options={options} sweepId={query.sweepId} family={query.family} />
        <label>
          Search
          <input
            name="q"
            type="search"
            defaultValue={query.search ?? ''}
            placeholder="name, uri, run"
            data-testid="search"
          />
        </label>
        <label>
          <input
            type="checkbox"
            name="across"
            value="1"
            defaultChecked={query.acrossFamilies}
            data-testid="filter-across"
          />{' '}
          rank across series
        </label>
        <button type="submit" data-testid="apply">
          Apply
        </button>
      </form>
      <p className="muted" data-testid="total">
        {board.total} checkpoint result{board.total === 1 ? '' : 's'} · ranked by{' '}
        {SUMMARY_METRICS[query.metric].label}, {betterIs(query)} is better
      </p>
      <p className="muted" data-testid="series-note">
        {query.acrossFamilies ? ACROSS_FAMILIES_NOTE : WITHIN_FAMILIES_NOTE}
      </p>
      <form method="get" action="/compare">
        <div className="scroll">
          <table data-testid="leaderboard">
            <thead>
              <tr>
                <th />
                <SortHeader query={query} column="rank" label="# in series" />
                <th>overall #</th>
                <SortHeader query={query} column="name" label="checkpoint" text />
                <SortHeader query={query} column="family" label="family" text />
                <SortHeader query={query} column="step" label="step" />
                <SortHeader query={query} column="accuracy" label="known acc." />
                {METRIC_COLUMNS.map((metric) => (
                  <SortHeader key={metric} query={query} column={metric} label={metric} />
                ))}
                {showCurvature && <SortHeader query={query} column="hessian_top" label="Hessian λmax" />}
                {showCurvature && <SortHeader query={query} column="hessian_trace" label="Hessian trace" />}
                <SortHeader query={query} column="layers" label="layers" />
                <SortHeader query={query} column="warnings" label="warnings" text />
              </tr>
            </thead>
            <LeaderboardRows rows={board.rows} showCurvature={showCurvature} grouped={grouped} />
          </table>
        </div>
        <button type="submit">Compare selected</button>
      </form>
      <div className="pager" data-testid="pager">
        {query.page > 1 && (
          <Link prefetch={false} href={hrefWith('/', currentValues(query), { page: query.page - 1 })}>
            ← previous
          </Link>
        )}
        <span>
          page {query.page} of {pages}
        </span>
        {query.page < pages && (
          <Link
            prefetch={false}
            href={hrefWith('/', currentValues(query), { page: query.page + 1 })}
            data-testid="next-page"
          >
            next →
          </Link>
        )}
      </div>
    </>
  );
}
