/**
 * The optional estimators of `AnalysisConfig.estimators`, as extra `details` columns of one layer:
 * `alpha_hill` (hill.ts), `alpha_farms` (farms.ts), WeightWatcher's detX / ERG columns (detx.ts) and
 * `trap_severity` (traps.ts). Undefined values are null, as WeightWatcher leaves empty columns.
 */
import type { EigenBackend } from '../linalg/index.ts';
import type { LayerWeights } from '../types.ts';
import { detXColumns } from './detx.ts';
import { farmsAlpha } from './farms.ts';
import { hillAlpha } from './hill.ts';
import { trapSeverity } from './traps.ts';
import type { AnalysisConfig, LayerMetrics } from './types.ts';

export interface EstimatorInputs {
  weights: LayerWeights;
  evals: Float64Array;
  metrics: LayerMetrics;
  randomizedEigenvalues?: Float64Array;
  backend?: EigenBackend;
}

export async function estimatorColumns(
  config: AnalysisConfig,
  { weights, evals, metrics, randomizedEigenvalues, backend }: EstimatorInputs,
): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const estimator of config.estimators) {
    if (estimator === 'hill') {
      const fit = hillAlpha(evals, config.hillXmin);
      out.alpha_hill = fit ? fit.alpha : null;
      out.alpha_hill_xmin = fit ? fit.xmin : null;
    } else if (estimator === 'farms') {
      // FARMS reads the entries (sub-blocks): a low-rank matrix is formed in full for it.
      const full = weights.lowRank
        ? { ...weights, data: weights.lowRank.expand(), lowRank: undefined }
        : weights;
      const result = await farmsAlpha(full, backend);
      out.alpha_farms = result ? result.alpha_farms : null;
    } else if (estimator === 'detx') {
      const spikes = typeof metrics.num_pl_spikes === 'number' ? metrics.num_pl_spikes : null;
      Object.assign(out, detXColumns(evals, spikes));
    } else {
      const bulkMax = metrics.rand_bulk_max;
      out.trap_severity =
        randomizedEigenvalues && typeof bulkMax === 'number' && bulkMax > 0
          ? trapSeverity(randomizedEigenvalues, bulkMax)
          : null;
    }
  }
  return out;
}
