/**
 * Continuous power-law fits of an ESD tail (Clauset–Shalizi–Newman), in the two flavours
 * WeightWatcher uses:
 * - `fitPowerLawWW`: WeightWatcher's own WWFit (default): every sorted value but the largest is an
 *   xmin candidate (duplicates kept), α = 1 + n/Σln(x/xmin), D = max|T − k/n|, first minimal D;
 *   for fewer than 20 points its small-N variant (bias-corrected α on tails of ≥ 8 points).
 * - `fitPowerLawPackage`: the `powerlaw` 1.x package (unique candidates, optional [lo, hi] range),
 *   used by xmin_peak / TPL / E_TPL.
 * α comes from suffix sums of logs in O(1) per candidate; D is pruned against the best D so far,
 * so the scan is close to linear on real spectra instead of WeightWatcher's O(n²).
 */

export interface PowerLawFit {
  alpha: number;
  xmin: number;
  /** Largest value of the fitted data. */
  xmax: number;
  D: number;
  sigma: number;
  /** Points ≥ xmin in the fitted data. */
  nTail: number;
  /** Index of xmin in the sorted fitted data. */
  xminIndex: number;
}

/** WWFit switches to its small-sample fit below this many points. */
const SMALL_N_CUTOFF = 20;
const SMALL_N_MIN_TAIL = 8;

/** (x/xmin)^(1−α) from logs; 1 when x = xmin even for infinite α (as numpy's 1**−inf). */
function tailRatioPower(exponent: number, logDiff: number): number {
  return logDiff === 0 ? 1 : Math.exp(exponent * logDiff);
}

/** Suffix sums of ln(x): logSuffix[i] = Σ_{k≥i} ln x_k (length n+1). */
function logSuffixSums(logs: Float64Array): Float64Array {
  const suffix = new Float64Array(logs.length + 1);
  for (let i = logs.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + logs[i]!;
  return suffix;
}

/** The data's logs, their suffix sums, and the continuous MLE α of the tail starting at each index. */
function tailMle(sorted: Float64Array) {
  const logs = sorted.map(Math.log);
  const suffix = logSuffixSums(logs);
  const alphaAt = (i: number): number => {
    const n = sorted.length - i;
    return 1 + n / (suffix[i]! - n * logs[i]!);
  };
  return { logs, suffix, alphaAt };
}

/** The fit of the tail that starts at index `best` of the sorted data. */
function tailFit(sorted: Float64Array, best: number, alpha: number, D: number): PowerLawFit {
  const n = sorted.length - best;
  return {
    alpha,
    xmin: sorted[best]!,
    xmax: sorted[sorted.length - 1]!,
    D,
    sigma: (alpha - 1) / Math.sqrt(n),
    nTail: n,
    xminIndex: best,
  };
}

/**
 * KS distance of the tail starting at `start` (n points) against the power law with exponent
 * `alpha`; stops early and returns a value > `bound` as soon as the running max exceeds it.
 * `hint` is an index (relative to the tail) checked first, where the last maximum was.
 */
function ksDistance(
  logs: Float64Array,
  start: number,
  n: number,
  alpha: number,
  bound: number,
  hint: { k: number },
): number {
  const logXmin = logs[start]!;
  const exponent = 1 - alpha;
  let maxDev = 0;
  let maxK = 0;
  const first = Math.min(Math.max(hint.k - 1, 0), n - 1);
  {
    const dev = Math.abs(1 - tailRatioPower(exponent, logs[start + first]! - logXmin) - first / n);
    maxDev = dev;
    maxK = first;
    if (dev > bound) {
      hint.k = first;
      return dev;
    }
  }
  for (let k = 0; k < n; k++) {
    const dev = Math.abs(1 - tailRatioPower(exponent, logs[start + k]! - logXmin) - k / n);
    if (dev > maxDev) {
      maxDev = dev;
      maxK = k;
      if (dev > bound) break;
    }
  }
  hint.k = maxK;
  return maxDev;
}

/** WWFit on ascending, positive data (the caller applies WeightWatcher's 1e-5 threshold). */
export function fitPowerLawWW(sorted: Float64Array): PowerLawFit | null {
  const total = sorted.length;
  if (total < 2) return null;
  const { logs, suffix, alphaAt } = tailMle(sorted);
  const candidates = total - 1;
  if (total < SMALL_N_CUTOFF) return fitSmallN(sorted, logs, suffix);

  // Coarse pass: a bound on the minimal D from a subset of candidates.
  const stride = Math.max(1, Math.floor(Math.sqrt(candidates)));
  let bound = Number.POSITIVE_INFINITY;
  const hint = { k: 0 };
  for (let i = 0; i < candidates; i += stride) {
    const alpha = alphaAt(i);
    if (!(alpha > 1)) continue;
    bound = Math.min(bound, ksDistance(logs, i, total - i, alpha, Number.POSITIVE_INFINITY, hint));
  }
  // Exact pass in index order: candidates whose partial max exceeds the bound cannot be the minimum.
  let bestIndex = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let i = 0; i < candidates; i++) {
    const alpha = alphaAt(i);
    const d = alpha > 1 ? ksDistance(logs, i, total - i, alpha, bound, hint) : 1;
    if (d < bestD) {
      bestD = d;
      bestIndex = i;
    }
  }
  return tailFit(sorted, bestIndex, alphaAt(bestIndex), bestD);
}

/**
 * WWFit's small-N variant (WeightWatcher 0.7.7, fewer than 20 points). Its candidate loop computes
 * the bias-corrected α and D for tails of ≥ 8 points (skipped ones keep α = 0, D = 1) and picks
 * the minimum of J = D − 0.868/√n, but WWFit's constructor then overwrites that choice with the
 * first minimal D over all candidates (np.argmin(Ds)): the reported xmin, α, σ and D are that
 * candidate's. J only decides which points the fit object keeps as its `data`, which no column
 * reads. We reproduce the reported columns.
 */
function fitSmallN(sorted: Float64Array, logs: Float64Array, suffix: Float64Array): PowerLawFit {
  const total = sorted.length;
  const candidates = total - 1;
  const alphas = new Float64Array(candidates);
  const ds = new Float64Array(candidates).fill(1);
  let anyJ = false;
  const noBound = { k: 0 };
  for (let i = 0; i < candidates; i++) {
    const n = total - i;
    if (n < SMALL_N_MIN_TAIL) continue;
    const s = suffix[i]! - n * logs[i]!;
    if (s <= 1e-12) continue;
    const alpha = 1 + (n - 1) / s;
    alphas[i] = alpha;
    if (alpha <= 1) continue;
    ds[i] = ksDistance(logs, i, n, alpha, Number.POSITIVE_INFINITY, noBound);
    anyJ = true;
  }
  if (!anyJ) {
    // No candidate survived: WWFit scores the whole sample as the tail (unless its logs are flat).
    const n = total;
    const s = suffix[0]! - n * logs[0]!;
    if (s > 1e-12) {
      const alpha = 1 + (n - 1) / s;
      alphas[0] = alpha;
      ds[0] = ksDistance(logs, 0, n, alpha, Number.POSITIVE_INFINITY, noBound);
    }
  }
  // np.argmin: the first minimal D.
  let best = 0;
  for (let i = 1; i < candidates; i++) if (ds[i]! < ds[best]!) best = i;
  return tailFit(sorted, best, alphas[best]!, ds[best]!);
}

/**
 * The `powerlaw` 1.x package's fit (continuous, no xmax): candidates are the unique values
 * (within `xminRange` when given) except the largest candidate; fits with α ≤ 1 are invalid
 * unless none is valid. On tie-free data it equals WWFit's default path.
 */
export function fitPowerLawPackage(sorted: Float64Array, xminRange?: [number, number]): PowerLawFit | null {
  const total = sorted.length;
  if (total < 2) return null;
  const { logs, alphaAt } = tailMle(sorted);
  // First index of each unique value (the data are sorted).
  const candidates: number[] = [];
  for (let i = 0; i < total; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) continue;
    const x = sorted[i]!;
    if (xminRange && (x < xminRange[0] || x > xminRange[1])) continue;
    candidates.push(i);
  }
  candidates.pop();
  if (candidates.length === 0) return null;
  let bestValid = -1;
  let bestValidD = Number.POSITIVE_INFINITY;
  let bestAny = -1;
  let bestAnyD = Number.POSITIVE_INFINITY;
  for (const i of candidates) {
    const alpha = alphaAt(i);
    const d = ksDistanceTies(sorted, logs, i, alpha);
    if (alpha > 1 && d < bestValidD) {
      bestValidD = d;
      bestValid = i;
    }
    if (d < bestAnyD) {
      bestAnyD = d;
      bestAny = i;
    }
  }
  const best = bestValid >= 0 ? bestValid : bestAny;
  return tailFit(sorted, best, alphaAt(best), bestValid >= 0 ? bestValidD : bestAnyD);
}

/**
 * The `powerlaw` package's KS distance: empirical CDF at each unique tail value = fraction of the
 * tail strictly below it; D = max(max(T − E), max(E − T)).
 */
function ksDistanceTies(sorted: Float64Array, logs: Float64Array, start: number, alpha: number): number {
  const total = sorted.length;
  const n = total - start;
  const logXmin = logs[start]!;
  let maxDev = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    if (k > 0 && sorted[start + k] === sorted[start + k - 1]) continue;
    const theoretical = 1 - tailRatioPower(1 - alpha, logs[start + k]! - logXmin);
    const dev = Math.abs(theoretical - k / n);
    if (dev > maxDev || Number.isNaN(dev)) maxDev = dev;
  }
  return maxDev;
}

/**
 * Clauset, Shalizi & Newman's own rule (their MATLAB `plfit`, continuous): candidates are the
 * distinct values except the largest, the tail keeps ties, and D compares the fitted CDF with the
 * step values i/n at every tail point. It reproduces the paper's Table 6.1 x̂min exactly.
 */
export function fitPowerLawClauset(sorted: Float64Array): PowerLawFit | null {
  const total = sorted.length;
  if (total < 2) return null;
  const { logs, alphaAt } = tailMle(sorted);
  const candidates: number[] = [];
  for (let i = 0; i < total; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) candidates.push(i);
  candidates.pop();
  if (candidates.length === 0) return null;
  const hint = { k: 0 };
  let bound = Number.POSITIVE_INFINITY;
  const stride = Math.max(1, Math.floor(Math.sqrt(candidates.length)));
  for (let c = 0; c < candidates.length; c += stride) {
    const i = candidates[c]!;
    bound = Math.min(bound, ksDistance(logs, i, total - i, alphaAt(i), Number.POSITIVE_INFINITY, hint));
  }
  let best = candidates[0]!;
  let bestD = Number.POSITIVE_INFINITY;
  for (const i of candidates) {
    const d = ksDistance(logs, i, total - i, alphaAt(i), bound, hint);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return tailFit(sorted, best, alphaAt(best), bestD);
}
