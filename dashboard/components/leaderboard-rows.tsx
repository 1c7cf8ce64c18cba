'use client';
/**
 * The leaderboard's rows. A client component so the server sends the page's rows once as data
 * instead of a server-component tree per cell (the larger part of the page's payload); the rows are
 * still server-rendered into the HTML.
 */
import { Fragment } from 'react';
import type { LeaderboardRow } from '../../db/dashboard/leaderboard.ts';
import { familyOf } from '../../db/family-rank.ts';
import { SUMMARY_METRIC_NAMES } from '../../lib/metrics/display.ts';
import { formatNumber } from '../view/format.ts';
import { CheckpointLink } from './links.tsx';

/** A badge per kind of problem layer the checkpoint has. */
const WARNING_BADGES = [
  { count: 'over_trained', text: 'over', className: 'over', title: 'layers with α < 2' },
  { count: 'under_trained', text: 'under', className: 'under', title: 'layers with α > 6' },
  { count: 'correlation_traps', text: 'traps', className: 'trap', title: 'correlation traps' },
  { count: 'layers_failed', text: 'failed', className: 'failed', title: 'layers whose analysis failed' },
] as const;

function Warnings({ row }: { row: LeaderboardRow }) {
  return (
    <>
      {WARNING_BADGES.filter((badge) => row[badge.count] > 0).map((badge) => (
        <span key={badge.count} className={`badge ${badge.className}`} title={badge.title}>
          {row[badge.count]} {badge.text}
        </span>
      ))}
    </>
  );
}

/** Columns of a row besides the metrics and curvature: checkbox, 2 ranks, name, family, step, accuracy, layers, warnings. */
const FIXED_COLUMNS = 9;

export function LeaderboardRows({
  rows,
  showCurvature,
  grouped,
}: {
  rows: LeaderboardRow[];
  showCurvature: boolean;
  /** Rows come grouped per family (series): a header row opens each group. */
  grouped: boolean;
}) {
  const span = FIXED_COLUMNS + SUMMARY_METRIC_NAMES.length + (showCurvature ? 2 : 0);
  return (
    <tbody>
      {rows.map((row, index) => (
        <Fragment key={`${row.checkpoint_id}/${row.config_hash}`}>
          {grouped && (index === 0 || familyOf(rows[index - 1]!) !== familyOf(row)) && (
            <tr className="series" data-testid="series-header">
              <th colSpan={span} className="text">
                series {familyOf(row)}, ranked within the series
              </th>
            </tr>
          )}
          <tr data-testid="leaderboard-row" data-checkpoint-id={row.checkpoint_id}>
            <td>
              <input
                type="checkbox"
                name="ids"
                value={row.checkpoint_id}
                aria-label={`compare ${row.checkpoint}`}
              />
            </td>
            <td data-testid="cell-rank-in-family">{row.rank_in_family}</td>
            <td data-testid="cell-rank">{row.rank}</td>
            <td className="text" title={row.uri}>
              <CheckpointLink id={row.checkpoint_id} config={row.config_hash} testId="cell-name">
                {row.checkpoint}
              </CheckpointLink>
            </td>
            <td className="text" data-testid="cell-family">
              {row.family ?? '—'}
            </td>
            <td data-testid="cell-step">{row.step ?? '—'}</td>
            <td>{formatNumber(row.known_test_accuracy, 4)}</td>
            {SUMMARY_METRIC_NAMES.map((metric) => (
              <td key={metric} data-testid={`cell-${metric}`}>
                {formatNumber(row[metric])}
              </td>
            ))}
            {showCurvature && <td data-testid="cell-hessian-top">{formatNumber(row.hessian_top)}</td>}
            {showCurvature && <td>{formatNumber(row.hessian_trace)}</td>}
            <td>{row.layers_analyzed}</td>
            <td className="text" data-testid="cell-warnings">
              <Warnings row={row} />
            </td>
          </tr>
        </Fragment>
      ))}
    </tbody>
  );
}
