import { db } from '../../../db/dashboard/client.ts';
import { fetchFilterOptions } from '../../../db/dashboard/filters.ts';
import {
  fetchHeatmap,
  fetchTrend,
  HEATMAP_METRICS,
  type HeatmapMetric,
} from '../../../db/dashboard/trends.ts';
import {
  DEFAULT_SUMMARY_METRIC,
  isSummaryMetric,
  SUMMARY_METRICS,
  type SummaryMetric,
} from '../../../lib/metrics/display.ts';
import { HeatmapChart } from '../../components/charts/heatmap.tsx';
import { TrendChart } from '../../components/charts/trend.tsx';
import { allParams, firstParam, type SearchParams } from '../../view/url.ts';

export const dynamic = 'force-dynamic';

export default async function TrendsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const metricParam = firstParam(params, 'metric');
  const metric: SummaryMetric = isSummaryMetric(metricParam) ? metricParam : DEFAULT_SUMMARY_METRIC;
  const xAxis = firstParam(params, 'x') === 'epoch' ? 'epoch' : 'step';
  const seriesBy = firstParam(params, 'by') === 'run' ? 'run' : 'family';
  const sweepId = firstParam(params, 'sweep');
  const heatmapMetricParam = firstParam(params, 'hmetric');
  const heatmapMetric: HeatmapMetric =
    heatmapMetricParam !== null && Object.hasOwn(HEATMAP_METRICS, heatmapMetricParam)
      ? (heatmapMetricParam as HeatmapMetric)
      : 'alpha';
  const options = await fetchFilterOptions(db());
  const requested = allParams(params, 'family').filter((family) => options.families.includes(family));
  const families = requested.length > 0 ? requested : options.families.slice(0, 3);
  const heatmapFamily = firstParam(params, 'hfamily') ?? families[0] ?? null;
  const [trend, heatmap] = await Promise.all([
    fetchTrend(db(), { metric, families, sweepId }),
    heatmapFamily === null
      ? null
      : fetchHeatmap(db(), { metric: heatmapMetric, family: heatmapFamily, sweepId }),
  ]);
  const points = trend
    .filter((point) => point[xAxis] !== null)
    .map((point) => ({
      x: point[xAxis]!,
      y: point.value,
      series: (seriesBy === 'run' ? point.run : point.family) ?? '(none)',
      label: `${point.family} ${point.run ?? ''} ${xAxis} ${point[xAxis]}\n${metric} = ${point.value.toFixed(4)}`,
    }));
  return (
    <>
      <h1>Trends</h1>
      <form className="filters" method="get" action="/trends" data-testid="trend-filters">
        <label>
          Metric
          <select name="metric" defaultValue={metric}>
            {(Object.keys(SUMMARY_METRICS) as SummaryMetric[]).map((key) => (
              <option key={key} value={key}>
                {SUMMARY_METRICS[key].label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Against
          <select name="x" defaultValue={xAxis}>
            <option value="step">step</option>
            <option value="epoch">epoch</option>
          </select>
        </label>
        <label>
          One line per
          <select name="by" defaultValue={seriesBy}>
            <option value="family">family</option>
            <option value="run">run</option>
          </select>
        </label>
        <label>
          Sweep
          <select name="sweep" defaultValue={sweepId ?? ''}>
            <option value="">all (newest result)</option>
            {options.sweeps.map((sweep) => (
              <option key={sweep.id} value={sweep.id}>
                {sweep.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Families
          <select
            name="family"
            multiple
            defaultValue={families}
            size={Math.min(6, Math.max(2, options.families.length))}
          >
            {options.families.map((family) => (
              <option key={family} value={family}>
                {family}
              </option>
            ))}
          </select>
        </label>
        <label>
          Heatmap family
          <select name="hfamily" defaultValue={heatmapFamily ?? ''}>
            {options.families.map((family) => (
              <option key={family} value={family}>
                {family}
              </option>
            ))}
          </select>
        </label>
        <label>
          Heatmap metric
          <select name="hmetric" defaultValue={heatmapMetric}>
            {Object.keys(HEATMAP_METRICS).map((key) => (
              <option key={key} value={key}>
                {key}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <p className="muted" data-testid="trend-count">
        {points.length} checkpoints in {new Set(points.map((point) => point.series)).size} series
      </p>
      {points.length > 0 ? (
        <TrendChart points={points} xLabel={xAxis} yLabel={metric} logX={false} />
      ) : (
        <p>No checkpoints with a {xAxis} in these families.</p>
      )}
      {heatmap && heatmapFamily && heatmap.cells.length > 0 && (
        <>
          <h2>Layer × step</h2>
          {heatmap.stepsShown < heatmap.stepsTotal && (
            <p className="muted">
              Showing {heatmap.stepsShown} of {heatmap.stepsTotal} steps, evenly spaced.
            </p>
          )}
          <HeatmapChart cells={heatmap.cells} metric={heatmapMetric} family={heatmapFamily} />
        </>
      )}
    </>
  );
}
