/** WeightWatcher's norm / scale / shape metrics over all eigenvalues of a layer (spec §7). */

/** numpy's float64 machine epsilon, used by WeightWatcher's matrix-rank tolerance. */
export const FLOAT64_EPS = 2.220446049250313e-16;
/** Added to the probabilities (and the rank) in the matrix entropy, as WeightWatcher does. */
const ENTROPY_EPSILON = 1e-10;

export interface NormMetrics {
  norm: number;
  log_norm: number;
  spectral_norm: number;
  log_spectral_norm: number;
  alpha_weighted: number;
  log_alpha_norm: number;
  stable_rank: number;
  matrix_rank: number;
  entropy: number;
}

/** #{σ > max σ · N · ε} with σ = √λ (numpy's matrix_rank rule, N = the layer's larger dimension). */
export function matrixRank(singular: ArrayLike<number>, n: number): number {
  let max = 0;
  for (let i = 0; i < singular.length; i++) max = Math.max(max, singular[i]!);
  const tol = max * n * FLOAT64_EPS;
  let rank = 0;
  for (let i = 0; i < singular.length; i++) if (singular[i]! > tol) rank++;
  return rank;
}

/** Norm metrics of the ascending eigenvalues `evals`, with the fitted `alpha` (−1 when the fit failed). */
export function normMetrics(evals: Float64Array, alpha: number, n: number): NormMetrics {
  let norm = 0;
  let spectral = Number.NEGATIVE_INFINITY;
  let alphaNorm = 0;
  for (const lambda of evals) {
    norm += lambda;
    if (lambda > spectral) spectral = lambda;
    alphaNorm += lambda ** alpha;
  }
  const logSpectral = Math.log10(spectral);
  const singular = evals.map(Math.sqrt);
  const rank = matrixRank(singular, n);
  let entropySum = 0;
  for (const lambda of evals) {
    const p = lambda / norm + ENTROPY_EPSILON;
    entropySum += p * Math.log(p);
  }
  return {
    norm,
    log_norm: Math.log10(norm),
    spectral_norm: spectral,
    log_spectral_norm: logSpectral,
    alpha_weighted: alpha * logSpectral,
    log_alpha_norm: Math.log10(alphaNorm),
    stable_rank: norm / spectral,
    matrix_rank: rank,
    entropy: -entropySum / Math.log(rank + ENTROPY_EPSILON),
  };
}
