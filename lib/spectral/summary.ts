/** WeightWatcher's get_summary(): plain means over analyzed layers (failed fits and ±inf included). */
import type { LayerMetrics, ModelSummary } from './types.ts';

export const SUMMARY_COLUMNS = [
  'log_norm',
  'alpha',
  'alpha_weighted',
  'log_alpha_norm',
  'log_spectral_norm',
  'stable_rank',
  'mp_softrank',
] as const;

/**
 * Mean of each summary column over the rows that have it (pandas skips NaN/None); a column no row
 * has (mp_softrank without mp_fit) is left out, as in WeightWatcher.
 */
export function summarizeLayers(rows: LayerMetrics[]): ModelSummary {
  const summary: ModelSummary = {};
  for (const column of SUMMARY_COLUMNS) {
    let sum = 0;
    let count = 0;
    for (const row of rows) {
      const value = row[column];
      if (typeof value !== 'number' || Number.isNaN(value)) continue;
      sum += value;
      count++;
    }
    if (count > 0) summary[column] = sum / count;
    else if (column !== 'mp_softrank' && rows.length > 0) summary[column] = null;
  }
  return summary;
}
