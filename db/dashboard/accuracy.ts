/**
 * Metric vs known test accuracy: for checkpoints that carry an accuracy, a registered metric's value
 * per checkpoint and its Kendall τ-b and Spearman ρ against accuracy, within each series (family)
 * and pooled. HT-SR claims trends within a series, so the page leads with the per-series numbers.
 * These are presentation statistics over stored values (lib/stats, the function the trends
 * experiment uses); a layer metric without a summary column is shown as the mean over the
 * checkpoint's analyzed layers — the aggregation every summary column is defined by.
 */

import {
  type AccuracyMetricName,
  accuracyMetric,
  SUMMARY_METRICS,
  type SummaryMetric,
} from '../../lib/metrics/display.ts';
import type { CheckpointMetricColumn, LayerMetricColumn } from '../../lib/metrics/registry.ts';
import { kendallTauB, spearmanRho } from '../../lib/stats/rank-correlation.ts';
import { checkpointDisplayName } from '../checkpoint-name.ts';
import { Prisma } from '../client.ts';
import { familyOf } from '../family-rank.ts';
import { sweepFamilyConditions } from '../result-filters.ts';
import type { Db } from './client.ts';

/** Enough for any realistic zoo; τ is O(n²) and the scatter is SVG. */
export const ACCURACY_MAX_POINTS = 5_000;

export interface AccuracyPoint {
  checkpointId: string;
  name: string;
  family: string | null;
  accuracy: number;
  /** Values of the metrics asked for (every summary metric, plus any layer-mean metric asked for). */
  values: Partial<Record<AccuracyMetricName, number | null>>;
}

export interface MetricCorrelation {
  metric: AccuracyMetricName;
  n: number;
  kendallTau: number | null;
  spearmanRho: number | null;
}

export interface SeriesCorrelations {
  /** The family, or NO_FAMILY for checkpoints without one. */
  series: string;
  checkpoints: number;
  rows: MetricCorrelation[];
}

type RawAccuracyRow = Record<CheckpointMetricColumn, number | null> & {
  checkpointId: string;
  configHash: string;
  uri: string;
  metadataName: string | null;
  family: string | null;
  accuracy: number;
};

/** The registry's summary columns, quoted for SQL (no user input). */
const METRIC_SELECT = Prisma.raw(
  Object.values(SUMMARY_METRICS)
    .map(({ column }) => `s."${column}"`)
    .join(', '),
);

/**
 * Checkpoints with a known accuracy and their latest summary: every summary metric, and the mean
 * over analyzed layers of each layer metric in `layerMetrics` (of the same analysis config).
 */
export async function fetchAccuracyPoints(
  db: Db,
  options: { sweepId: string | null; family: string | null; layerMetrics?: readonly AccuracyMetricName[] },
): Promise<AccuracyPoint[]> {
  const conditions = [Prisma.sql`c."knownTestAccuracy" IS NOT NULL`, ...sweepFamilyConditions(options)];
  const rows = await db.$queryRaw<RawAccuracyRow[]>`
    SELECT DISTINCT ON (c.id) c.id AS "checkpointId", s."configHash", c.uri, c.metadata->>'name' AS "metadataName",
      c.family, c."knownTestAccuracy" AS accuracy, ${METRIC_SELECT}
    FROM "CheckpointSummary" s JOIN "Checkpoint" c ON c.id = s."checkpointId"
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY c.id, s."computedAt" DESC
    LIMIT ${ACCURACY_MAX_POINTS}`;
  const points = rows.map((row) => ({
    checkpointId: row.checkpointId,
    name: checkpointDisplayName(row.uri, row.metadataName),
    family: row.family,
    accuracy: row.accuracy,
    values: Object.fromEntries(
      Object.entries(SUMMARY_METRICS).map(([metric, { column }]) => [metric, row[column]]),
    ) as AccuracyPoint['values'],
  }));
  for (const metric of options.layerMetrics ?? []) {
    const spec = accuracyMetric(metric);
    if (spec.source.kind !== 'layer-mean') continue;
    const means = await layerMeans(db, rows, spec.source.column);
    for (const point of points) point.values[metric] = means.get(point.checkpointId) ?? null;
  }
  return points;
}

/** Mean of one layer column over each checkpoint's analyzed layers of its summary's config. */
async function layerMeans(
  db: Db,
  rows: readonly { checkpointId: string; configHash: string }[],
  column: LayerMetricColumn,
): Promise<Map<string, number | null>> {
  const configOf = new Map(rows.map((row) => [row.checkpointId, row.configHash]));
  const groups = await db.layerResult.groupBy({
    by: ['checkpointId', 'configHash'],
    where: { checkpointId: { in: [...configOf.keys()] }, status: 'succeeded' },
    _avg: { [column]: true } as Prisma.LayerResultAvgAggregateInputType,
  });
  const means = new Map<string, number | null>();
  for (const group of groups) {
    if (configOf.get(group.checkpointId) !== group.configHash) continue;
    const average = (group._avg as Partial<Record<LayerMetricColumn, number | null>>)[column];
    means.set(group.checkpointId, average ?? null);
  }
  return means;
}

function correlate(points: readonly AccuracyPoint[], metric: AccuracyMetricName): MetricCorrelation {
  const paired = points.filter(
    (point) => point.values[metric] !== null && point.values[metric] !== undefined,
  );
  const x = paired.map((point) => point.values[metric]!);
  const y = paired.map((point) => point.accuracy);
  const tau = kendallTauB(x, y);
  const rho = spearmanRho(x, y);
  return { metric, n: tau.n, kendallTau: tau.value, spearmanRho: rho.value };
}

/** Pooled over every point (across series): every summary metric unless `metrics` says which. */
export function correlations(
  points: readonly AccuracyPoint[],
  metrics: readonly AccuracyMetricName[] = Object.keys(SUMMARY_METRICS) as SummaryMetric[],
): MetricCorrelation[] {
  return metrics.map((metric) => correlate(points, metric));
}

/** τ and ρ within each series (family), series in name order, checkpoints without one last. */
export function seriesCorrelations(
  points: readonly AccuracyPoint[],
  metrics: readonly AccuracyMetricName[],
): SeriesCorrelations[] {
  const bySeries = new Map<string, AccuracyPoint[]>();
  for (const point of points) {
    const series = familyOf(point);
    const members = bySeries.get(series);
    if (members) members.push(point);
    else bySeries.set(series, [point]);
  }
  return [...bySeries]
    .sort(
      ([a, pa], [b, pb]) =>
        Number(pa[0]!.family === null) - Number(pb[0]!.family === null) || a.localeCompare(b),
    )
    .map(([series, members]) => ({
      series,
      checkpoints: members.length,
      rows: metrics.map((metric) => correlate(members, metric)),
    }));
}
