/**
 * Correlation-trap severity: how far, and how many, eigenvalues of the randomized (element-shuffled)
 * ESD stand above its Marchenko–Pastur bulk edge λ+ (the `rand_bulk_max` of the randomized MP fit).
 * A shuffled matrix should be all bulk; each eigenvalue above λ+ is a trap, weighted by its relative
 * excess:  severity = Σ_{λ > λ+} (λ / λ+ − 1).  0 without traps; it grows with the traps' count and
 * height, where `num_traps` only counts them. This is weightlens' own score (not WeightWatcher
 * 0.8's formula, which is not in the dev virtualenv to compare against).
 */
export function trapSeverity(randomizedEigenvalues: Float64Array, bulkMax: number): number {
  let severity = 0;
  for (const lambda of randomizedEigenvalues) if (lambda > bulkMax) severity += lambda / bulkMax - 1;
  return severity;
}
