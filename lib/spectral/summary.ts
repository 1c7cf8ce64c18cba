/** WeightWatcher's get_summary(): plain means over analyzed layers (failed fits and ±inf included). */
import { CHECKPOINT_METRIC_NAMES, CHECKPOINT_METRICS } from '../metrics/registry.ts';
import type { LayerMetrics, ModelSummary } from './types.ts';

/** The summary's columns, from the metric registry (leaderboard column order). */
export const SUMMARY_COLUMNS = CHECKPOINT_METRIC_NAMES;

/**
 * Aggregate each registry checkpoint metric over the rows that have its layer metric (pandas skips
 * NaN/None); a metric no row has is null, or left out where WeightWatcher leaves it out
 * (mp_softrank without mp_fit).
 */
export function summarizeLayers(rows: LayerMetrics[]): ModelSummary {
  const summary: ModelSummary = {};
  for (const metric of CHECKPOINT_METRICS) {
    let sum = 0;
    let count = 0;
    for (const row of rows) {
      const value = row[metric.of];
      if (typeof value !== 'number' || Number.isNaN(value)) continue;
      sum += value;
      count++;
    }
    if (count > 0) summary[metric.name] = sum / count;
    else if (!('omitWhenAbsent' in metric && metric.omitWhenAbsent) && rows.length > 0)
      summary[metric.name] = null;
  }
  return summary;
}
