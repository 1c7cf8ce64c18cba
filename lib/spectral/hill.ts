/**
 * The Hill tail estimator on an ESD, with the conventions of TempBalance / AlphaPruning / FARMS
 * (`net_esd_estimator`, `PL_Alpha_Hill`): eigenvalues ascending, none filtered out, and for a tail
 * starting at index i (x_min = λ_i, n = N − i eigenvalues including x_min itself)
 *
 *     α = 1 + n / Σ_{j ≥ i} ln(λ_j / λ_i)
 *
 * The x_min rule picks i:
 * - `xmin_mid`: i = ⌊N / 2⌋ (the upper half of the spectrum; the references' default, xmin_pos = 2);
 * - `xmin_peak`: among candidates near the peak of a 100-bin histogram of log10 λ, the one whose
 *   fit has the smallest Kolmogorov–Smirnov distance D. The window follows the references exactly,
 *   including their lower bound `λ ≥ log10(0.95·peak)` (a linear eigenvalue compared with a
 *   logarithm); the upper bound is λ ≤ 1.5·peak.
 */

export type HillXminRule = 'xmin_mid' | 'xmin_peak';
export const HILL_XMIN_RULES: readonly HillXminRule[] = ['xmin_mid', 'xmin_peak'];

/** Histogram bins of the `xmin_peak` rule (the references' `bins=100`). */
export const HILL_PEAK_BINS = 100;

export interface HillFit {
  alpha: number;
  xmin: number;
  /** Eigenvalues in the tail, x_min included. */
  k: number;
  /** KS distance of the fitted tail. */
  D: number;
}

/** α and KS distance of the tail starting at index i of ascending positive eigenvalues. */
function tailFit(evals: Float64Array, logs: Float64Array, i: number): { alpha: number; D: number } {
  const n = evals.length - i;
  const logMin = logs[i]!;
  let sum = 0;
  for (let j = i; j < evals.length; j++) sum += logs[j]! - logMin;
  const alpha = 1 + n / sum;
  return { alpha, D: ksDistance(evals, i, alpha) };
}

function ksDistance(evals: Float64Array, i: number, alpha: number): number {
  const n = evals.length - i;
  const xmin = evals[i]!;
  let D = 0;
  for (let j = i; j < evals.length; j++) {
    const gap = Math.abs(1 - (evals[j]! / xmin) ** (1 - alpha) - (j - i) / n);
    if (gap > D) D = gap;
  }
  return D;
}

/** Left edge of the fullest bin of a `bins`-bin histogram of log10 λ over [min, max] (first on ties). */
function histogramPeak(evals: Float64Array, bins: number): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const logs: number[] = [];
  for (const v of evals) {
    if (!(v > 0)) continue;
    const l = Math.log10(v);
    logs.push(l);
    if (l < lo) lo = l;
    if (l > hi) hi = l;
  }
  const counts = new Array<number>(bins).fill(0);
  const width = hi - lo;
  for (const l of logs) {
    const bin = width > 0 ? Math.min(bins - 1, Math.floor(((l - lo) / width) * bins)) : 0;
    counts[bin]!++;
  }
  let best = 0;
  for (let b = 1; b < bins; b++) if (counts[b]! > counts[best]!) best = b;
  return 10 ** (lo + (width * best) / bins);
}

/**
 * Hill α of an ascending ESD under an x_min rule; null when it is undefined (fewer than 2
 * eigenvalues, a non-positive x_min, no finite tail, or no candidate in the peak window with α > 1).
 */
export function hillAlpha(evals: Float64Array, rule: HillXminRule): HillFit | null {
  const N = evals.length;
  if (N < 2) return null;
  const logs = evals.map(Math.log);
  if (rule === 'xmin_mid') {
    const i = Math.floor(N / 2);
    if (!(evals[i]! > 0)) return null;
    const { alpha, D } = tailFit(evals, logs, i);
    return Number.isFinite(alpha) ? { alpha, xmin: evals[i]!, k: N - i, D } : null;
  }
  const peak = histogramPeak(evals, HILL_PEAK_BINS);
  const lower = Math.log10(0.95 * peak);
  const upper = 1.5 * peak;
  let best: { i: number; alpha: number; D: number } | null = null;
  for (let i = 0; i < N - 1; i++) {
    const xmin = evals[i]!;
    if (xmin < lower) continue;
    if (xmin > upper) break;
    if (!(xmin > 0)) continue;
    const { alpha, D } = tailFit(evals, logs, i);
    // The references keep D = 1 for α ≤ 1 and take the first smallest D.
    const distance = alpha > 1 ? D : 1;
    if (best === null || distance < best.D) best = { i, alpha, D: distance };
  }
  // D = 1 everywhere: the references then return whichever α sits first (0 for a skipped candidate).
  if (best === null || best.D >= 1 || !Number.isFinite(best.alpha)) return null;
  return { alpha: best.alpha, xmin: evals[best.i]!, k: N - best.i, D: best.D };
}
