import Link from 'next/link';
import { correlations, fetchAccuracyPoints } from '../../../db/dashboard/accuracy.ts';
import { db } from '../../../db/dashboard/client.ts';
import { fetchFilterOptions } from '../../../db/dashboard/filters.ts';
import { SUMMARY_METRICS } from '../../../lib/metrics/display.ts';
import { AccuracyScatter } from '../../components/charts/scatter.tsx';
import { formatNumber } from '../../view/format.ts';
import { firstParam, type SearchParams } from '../../view/url.ts';

export const dynamic = 'force-dynamic';

export default async function AccuracyPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const sweepId = firstParam(params, 'sweep');
  const family = firstParam(params, 'family');
  const [points, options] = await Promise.all([
    fetchAccuracyPoints(db(), { sweepId, family }),
    fetchFilterOptions(db()),
  ]);
  const table = correlations(points).sort(
    (a, b) => Math.abs(b.kendallTau ?? 0) - Math.abs(a.kendallTau ?? 0),
  );
  return (
    <>
      <h1>Metric vs known accuracy</h1>
      <form className="filters" method="get" action="/accuracy">
        <label>
          Sweep
          <select name="sweep" defaultValue={sweepId ?? ''}>
            <option value="">all</option>
            {options.sweeps.map((sweep) => (
              <option key={sweep.id} value={sweep.id}>
                {sweep.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Family
          <select name="family" defaultValue={family ?? ''}>
            <option value="">all</option>
            {options.families.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <p className="muted" data-testid="accuracy-count">
        {points.length} checkpoints with a known test accuracy. A strongly negative τ means lower metric ⇒
        higher accuracy (what HT-SR predicts for α-like metrics).
      </p>
      {points.length > 1 && (
        <>
          <table data-testid="correlations">
            <thead>
              <tr>
                <th className="text">metric</th>
                <th>n</th>
                <th>Kendall τ</th>
                <th>Spearman ρ</th>
              </tr>
            </thead>
            <tbody>
              {table.map((row) => (
                <tr key={row.metric} data-testid="correlation-row" data-metric={row.metric}>
                  <td className="text">{SUMMARY_METRICS[row.metric].label}</td>
                  <td>{row.n}</td>
                  <td data-testid="tau" data-value={row.kendallTau ?? ''}>
                    {formatNumber(row.kendallTau)}
                  </td>
                  <td data-testid="rho" data-value={row.spearmanRho ?? ''}>
                    {formatNumber(row.spearmanRho)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="charts" style={{ marginTop: '1rem' }}>
            {table.map((row) => (
              <AccuracyScatter
                key={row.metric}
                metric={row.metric}
                caption={`${row.metric}: τ = ${formatNumber(row.kendallTau)}, ρ = ${formatNumber(row.spearmanRho)} (n = ${row.n})`}
                points={points
                  .filter((point) => point.values[row.metric] !== null)
                  .map((point) => ({
                    x: point.values[row.metric]!,
                    y: point.accuracy,
                    series: point.family ?? '(none)',
                    label: `${point.name}\n${row.metric} = ${formatNumber(point.values[row.metric])}\naccuracy = ${formatNumber(point.accuracy, 4)}`,
                  }))}
              />
            ))}
          </div>
        </>
      )}
      {points.length <= 1 && (
        <p>
          Too few checkpoints with a known accuracy (it comes from each checkpoint&apos;s metadata sidecar);
          see the{' '}
          <Link prefetch={false} href="/">
            leaderboard
          </Link>
          .
        </p>
      )}
    </>
  );
}
