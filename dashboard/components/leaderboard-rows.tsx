'use client';
/**
 * The leaderboard's rows. A client component so the server sends the page's rows once as data
 * instead of a server-component tree per cell (the larger part of the page's payload); the rows are
 * still server-rendered into the HTML.
 */
import Link from 'next/link';
import type { LeaderboardRow } from '../../db/dashboard/leaderboard.ts';
import { SUMMARY_METRIC_NAMES } from '../../lib/metrics/display.ts';
import { formatNumber } from '../view/format.ts';
import { hrefWith } from '../view/url.ts';

function Warnings({ row }: { row: LeaderboardRow }) {
  return (
    <>
      {row.overTrained > 0 && (
        <span className="badge over" title="layers with α < 2">
          {row.overTrained} over
        </span>
      )}
      {row.underTrained > 0 && (
        <span className="badge under" title="layers with α > 6">
          {row.underTrained} under
        </span>
      )}
      {row.correlationTraps > 0 && (
        <span className="badge trap" title="correlation traps">
          {row.correlationTraps} traps
        </span>
      )}
      {row.layersFailed > 0 && (
        <span className="badge failed" title="layers whose analysis failed">
          {row.layersFailed} failed
        </span>
      )}
    </>
  );
}

export function LeaderboardRows({ rows, showCurvature }: { rows: LeaderboardRow[]; showCurvature: boolean }) {
  return (
    <tbody>
      {rows.map((row) => (
        <tr
          key={`${row.checkpointId}/${row.configHash}`}
          data-testid="leaderboard-row"
          data-checkpoint-id={row.checkpointId}
        >
          <td>
            <input type="checkbox" name="ids" value={row.checkpointId} aria-label={`compare ${row.name}`} />
          </td>
          <td data-testid="cell-rank">{row.rank}</td>
          <td className="text" title={row.uri}>
            <Link
              prefetch={false}
              href={hrefWith(`/checkpoints/${encodeURIComponent(row.checkpointId)}`, {
                config: row.configHash,
              })}
              data-testid="cell-name"
            >
              {row.name}
            </Link>
          </td>
          <td className="text">{row.family ?? '—'}</td>
          <td>{row.step ?? '—'}</td>
          <td>{formatNumber(row.knownTestAccuracy, 4)}</td>
          {SUMMARY_METRIC_NAMES.map((metric) => (
            <td key={metric} data-testid={`cell-${metric}`}>
              {formatNumber(row.metrics[metric])}
            </td>
          ))}
          {showCurvature && <td data-testid="cell-hessian-top">{formatNumber(row.hessianTop)}</td>}
          {showCurvature && <td>{formatNumber(row.hessianTrace)}</td>}
          <td>{row.layersAnalyzed}</td>
          <td className="text" data-testid="cell-warnings">
            <Warnings row={row} />
          </td>
        </tr>
      ))}
    </tbody>
  );
}
