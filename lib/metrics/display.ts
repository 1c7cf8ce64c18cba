/**
 * The metric registry as the dashboard and its queries (db/dashboard) see it (`lib/metrics/registry.ts`): WeightWatcher column
 * names (what users know) mapped to labels and stored columns. Pure data, safe to import from client
 * components. Nothing here names a metric; add metrics to the registry.
 */
import {
  ALPHA_BAND,
  CHECKPOINT_METRICS,
  type CheckpointMetricColumn,
  type CheckpointMetricName,
  columnOf,
  DEFAULT_RANK_METRIC,
  isCheckpointMetric,
  isLayerMetric,
  type LayerMetricColumn,
  type LayerMetricName,
  LAYER_METRICS as REGISTRY_LAYER_METRICS,
} from './registry.ts';

export type SummaryMetric = CheckpointMetricName;

/** Summary metrics a leaderboard can rank by (CheckpointSummary columns). */
export const SUMMARY_METRICS = Object.fromEntries(
  CHECKPOINT_METRICS.map((m) => [m.name, { label: m.label, column: columnOf(m.name), better: m.better }]),
) as { [K in SummaryMetric]: { label: string; column: CheckpointMetricColumn; better: 'lower' | 'higher' } };

/** The summary columns in table order. */
export const SUMMARY_METRIC_NAMES: SummaryMetric[] = CHECKPOINT_METRICS.map((m) => m.name);
export const DEFAULT_SUMMARY_METRIC: SummaryMetric = DEFAULT_RANK_METRIC;

export const isSummaryMetric = isCheckpointMetric;

export type LayerMetric = LayerMetricName;

/** Per-layer numeric columns (LayerResult), in WeightWatcher's `details` order: name → column. */
export const LAYER_METRICS = Object.fromEntries(
  REGISTRY_LAYER_METRICS.map((m) => [m.name, columnOf(m.name)]),
) as {
  [K in LayerMetric]: LayerMetricColumn;
};

/** The per-layer columns in table order. */
export const LAYER_METRIC_NAMES: LayerMetric[] = REGISTRY_LAYER_METRICS.map((m) => m.name);

/** WeightWatcher's "well-trained" α range (over-trained below, under-trained above). */
export { ALPHA_BAND, isLayerMetric };

/**
 * Every registered metric as one value per checkpoint, for the metric-vs-accuracy page: the
 * summary metrics from their stored columns, and each layer metric that no summary column covers
 * as the mean over the checkpoint's analyzed layers (how every summary column is defined).
 */
export type AccuracyMetricName = SummaryMetric | LayerMetric;

export interface AccuracyMetricSpec {
  name: AccuracyMetricName;
  label: string;
  source:
    | { kind: 'summary'; column: CheckpointMetricColumn }
    | { kind: 'layer-mean'; column: LayerMetricColumn };
}

const SUMMARIZED_LAYER_METRICS = new Set<string>(CHECKPOINT_METRICS.map((m) => m.of));

export const ACCURACY_METRICS: readonly AccuracyMetricSpec[] = [
  ...CHECKPOINT_METRICS.map(
    (m): AccuracyMetricSpec => ({
      name: m.name,
      label: m.label,
      source: { kind: 'summary', column: columnOf(m.name) },
    }),
  ),
  ...REGISTRY_LAYER_METRICS.filter((m) => !SUMMARIZED_LAYER_METRICS.has(m.name)).map(
    (m): AccuracyMetricSpec => ({
      name: m.name,
      label: `mean ${m.label}`,
      source: { kind: 'layer-mean', column: columnOf(m.name) },
    }),
  ),
];

const accuracyMetricsByName = new Map<string, AccuracyMetricSpec>(ACCURACY_METRICS.map((m) => [m.name, m]));

export function isAccuracyMetric(name: string): name is AccuracyMetricName {
  return accuracyMetricsByName.has(name);
}

export function accuracyMetric(name: AccuracyMetricName): AccuracyMetricSpec {
  return accuracyMetricsByName.get(name)!;
}
