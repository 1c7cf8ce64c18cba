/**
 * Rank correlations between two paired samples: Kendall's τ-b and Spearman's ρ (both with the
 * usual tie corrections), so "does metric X order checkpoints like accuracy does" has one number.
 * τ-b is what Martin, Peng & Mahoney (2021) report; ρ is the Pearson correlation of mid-ranks.
 * Pure functions, O(n²) for τ (zoos are hundreds of points at most, never millions).
 */
import { BadInputError } from '../errors.ts';

export interface RankCorrelation {
  /** The coefficient in [-1, 1]; null when undefined (n < 2 or one side constant). */
  value: number | null;
  /** Number of pairs used (pairs with a non-finite value on either side are dropped). */
  n: number;
}

/** Keep only the pairs where both values are finite numbers. */
function finitePairs(x: readonly number[], y: readonly number[]): { xs: number[]; ys: number[] } {
  if (x.length !== y.length) {
    throw new BadInputError(`rank correlation needs paired samples, got lengths ${x.length} and ${y.length}`);
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      xs.push(a);
      ys.push(b);
    }
  }
  return { xs, ys };
}

/**
 * Kendall's τ-b: (concordant − discordant) / sqrt((n0 − n1)(n0 − n2)), where n1, n2 count pairs
 * tied in x and in y. Equals τ-a without ties; stays in [-1, 1] with them.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): RankCorrelation {
  const { xs, ys } = finitePairs(x, y);
  const n = xs.length;
  if (n < 2) return { value: null, n };
  let concordantMinusDiscordant = 0;
  let pairsUntiedX = 0;
  let pairsUntiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(xs[i]! - xs[j]!);
      const dy = Math.sign(ys[i]! - ys[j]!);
      if (dx !== 0) pairsUntiedX++;
      if (dy !== 0) pairsUntiedY++;
      concordantMinusDiscordant += dx * dy;
    }
  }
  if (pairsUntiedX === 0 || pairsUntiedY === 0) return { value: null, n };
  return { value: concordantMinusDiscordant / Math.sqrt(pairsUntiedX * pairsUntiedY), n };
}

/** Mid-ranks (1-based; tied values share the mean of their ranks). */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const meanRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = meanRank;
    start = end + 1;
  }
  return ranks;
}

function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i]!;
    meanY += y[i]!;
  }
  meanX /= n;
  meanY /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - meanX;
    const dy = y[i]! - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson correlation of the mid-ranks (the tie-corrected definition). */
export function spearmanRho(x: readonly number[], y: readonly number[]): RankCorrelation {
  const { xs, ys } = finitePairs(x, y);
  const n = xs.length;
  if (n < 2) return { value: null, n };
  return { value: pearson(midRanks(xs), midRanks(ys)), n };
}
