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
