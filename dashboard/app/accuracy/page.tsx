import Link from 'next/link';
import {
  correlations,
  fetchAccuracyPoints,
  type MetricCorrelation,
  seriesCorrelations,
} from '../../../db/dashboard/accuracy.ts';
import { db } from '../../../db/dashboard/client.ts';
import { fetchFilterOptions } from '../../../db/dashboard/filters.ts';
import { firstParam, type SearchParams, sweepFamilyParams } from '../../../db/dashboard/params.ts';
import { familyOf } from '../../../db/family-rank.ts';
import {
  ACCURACY_METRICS,
  type AccuracyMetricName,
  accuracyMetric,
  isAccuracyMetric,
  SUMMARY_METRIC_NAMES,
} from '../../../lib/metrics/display.ts';
import { AccuracyScatter } from '../../components/charts/scatter.tsx';
import { SelectField, SweepFamilyFields } from '../../components/filters.tsx';
import { formatNumber } from '../../view/format.ts';

export const dynamic = 'force-dynamic';

const SERIES_NOTE =
  'τ within each series: HT-SR metrics predict trends among models of one series, not across series.';

function CorrelationRow(props: { row: MetricCorrelation; testId: string }) {
  const { row } = props;
  return (
    <tr data-testid={props.testId} data-metric={row.metric}>
      <td className="text">{accuracyMetric(row.metric).label}</td>
      <td data-testid="n">{row.n}</td>
      <td data-testid="tau" data-value={row.kendallTau ?? ''}>
        {formatNumber(row.kendallTau)}
      </td>
      <td data-testid="rho" data-value={row.spearmanRho ?? ''}>
        {formatNumber(row.spearmanRho)}
      </td>
    </tr>
  );
}

function CorrelationTable(props: { rows: MetricCorrelation[]; testId: string; rowTestId: string }) {
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          <th className="text">metric</th>
          <th>n</th>
          <th>Kendall τ</th>
          <th>Spearman ρ</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <CorrelationRow key={row.metric} row={row} testId={props.rowTestId} />
        ))}
      </tbody>
    </table>
  );
}

export default async function AccuracyPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const { sweepId, family } = sweepFamilyParams(params);
  const metricParam = firstParam(params, 'metric');
  if (metricParam !== null && !isAccuracyMetric(metricParam)) {
    return (
      <>
        <h1>Metric vs known accuracy</h1>
        <p className="error" data-testid="accuracy-error">
          unknown metric {JSON.stringify(metricParam)}; one of:{' '}
          {ACCURACY_METRICS.map((m) => m.name).join(', ')}
        </p>
      </>
    );
  }
  // One chosen metric, or every summary metric.
  const metrics: AccuracyMetricName[] = metricParam === null ? [...SUMMARY_METRIC_NAMES] : [metricParam];
  const [points, options] = await Promise.all([
    fetchAccuracyPoints(db(), { sweepId, family, layerMetrics: metrics }),
    fetchFilterOptions(db()),
  ]);
  const series = seriesCorrelations(points, metrics);
  const hasValues = (metric: AccuracyMetricName) =>
    points.some((point) => point.values[metric] !== null && point.values[metric] !== undefined);
  const pooled = correlations(points, metrics).sort(
    (a, b) => Math.abs(b.kendallTau ?? 0) - Math.abs(a.kendallTau ?? 0),
  );
  return (
    <>
      <h1>Metric vs known accuracy</h1>
      <form className="filters" method="get" action="/accuracy">
        <SweepFamilyFields options={options} sweepId={sweepId} family={family} />
        <SelectField
          label="Metric"
          name="metric"
          value={metricParam ?? ''}
          choices={ACCURACY_METRICS.map((metric) => ({ value: metric.name, label: metric.label }))}
          empty="every summary metric"
          testId="metric-select"
        />
        <button type="submit">Show</button>
      </form>
      <p className="muted" data-testid="accuracy-count">
        {points.length} checkpoints with a known test accuracy in {series.length} series. A strongly negative
        τ means lower metric ⇒ higher accuracy (what HT-SR predicts for α-like metrics).
      </p>
      {points.length > 1 && (
        <>
          <p className="muted" data-testid="series-note">
            {SERIES_NOTE}
          </p>
          {series.map((group) => (
            <section key={group.series} data-testid="accuracy-series" data-series={group.series}>
              <h2 data-testid="series-header">
                series {group.series} ({group.checkpoints} checkpoints)
              </h2>
              <CorrelationTable
                rows={group.rows}
                testId="series-correlations"
                rowTestId="series-correlation-row"
              />
            </section>
          ))}
          {series.length > 1 && (
            <section data-testid="accuracy-pooled">
              <h2>pooled across series ({points.length} checkpoints)</h2>
              <CorrelationTable rows={pooled} testId="correlations" rowTestId="correlation-row" />
            </section>
          )}
          <div className="charts" style={{ marginTop: '1rem' }}>
            {metrics.filter(hasValues).map((metric) => (
              <AccuracyScatter
                key={metric}
                metric={metric}
                caption={`${metric}: τ per series ${series
                  .map((group) => {
                    const row = group.rows.find((entry) => entry.metric === metric)!;
                    return `${group.series} ${formatNumber(row.kendallTau)} (n = ${row.n})`;
                  })
                  .join(', ')}`}
                points={points
                  .filter((point) => point.values[metric] !== null && point.values[metric] !== undefined)
                  .map((point) => ({
                    x: point.values[metric]!,
                    y: point.accuracy,
                    series: familyOf(point),
                    label: `${point.name}\n${metric} = ${formatNumber(point.values[metric])}\naccuracy = ${formatNumber(point.accuracy, 4)}`,
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
