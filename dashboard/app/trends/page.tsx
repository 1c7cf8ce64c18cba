import { db } from '../../../db/dashboard/client.ts';
import { fetchFilterOptions } from '../../../db/dashboard/filters.ts';
import {
  allParams,
  choiceParam,
  firstParam,
  type SearchParams,
  sweepFamilyParams,
} from '../../../db/dashboard/params.ts';
import {
  fetchHeatmap,
  fetchTrend,
  HEATMAP_METRICS,
  type HeatmapMetric,
} from '../../../db/dashboard/trends.ts';
import { DEFAULT_SUMMARY_METRIC, isSummaryMetric } from '../../../lib/metrics/display.ts';
import { HeatmapChart } from '../../components/charts/heatmap.tsx';
import { TrendChart } from '../../components/charts/trend.tsx';
import { SelectField, SUMMARY_METRIC_CHOICES, sweepChoices } from '../../components/filters.tsx';

export const dynamic = 'force-dynamic';

const HEATMAP_METRIC_NAMES = Object.keys(HEATMAP_METRICS) as HeatmapMetric[];

export default async function TrendsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const metric = choiceParam(params, 'metric', isSummaryMetric, DEFAULT_SUMMARY_METRIC);
  const xAxis = choiceParam(params, 'x', ['step', 'epoch'], 'step');
  const seriesBy = choiceParam(params, 'by', ['family', 'run'], 'family');
  const { sweepId } = sweepFamilyParams(params);
  const heatmapMetric = choiceParam(params, 'hmetric', HEATMAP_METRIC_NAMES, 'alpha');
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
        <SelectField label="Metric" name="metric" value={metric} choices={SUMMARY_METRIC_CHOICES} />
        <SelectField label="Against" name="x" value={xAxis} choices={['step', 'epoch']} />
        <SelectField label="One line per" name="by" value={seriesBy} choices={['family', 'run']} />
        <SelectField
          label="Sweep"
          name="sweep"
          value={sweepId ?? ''}
          choices={sweepChoices(options)}
          empty="all (newest result)"
        />
        <SelectField
          label="Families"
          name="family"
          value={families}
          choices={options.families}
          multiple
          size={Math.min(6, Math.max(2, options.families.length))}
        />
        <SelectField
          label="Heatmap family"
          name="hfamily"
          value={heatmapFamily ?? ''}
          choices={options.families}
        />
        <SelectField
          label="Heatmap metric"
          name="hmetric"
          value={heatmapMetric}
          choices={HEATMAP_METRIC_NAMES}
        />
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
