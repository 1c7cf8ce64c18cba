/**
 * Magnitude pruning within each layer at per-layer ratios. Counts are integers, so the ratios are
 * turned into per-layer counts whose sum is exactly round(Σ r_i·n_i) (largest-remainder rounding):
 * the whole model then hits its target sparsity to one weight.
 */
import { BadInputError } from '../errors.ts';

/** Per-layer numbers of weights to zero: Σ = round(Σ r_i·n_i), each ≤ n_i. */
export function pruneCounts(ratios: readonly number[], params: readonly number[]): number[] {
  if (ratios.length !== params.length) throw new BadInputError('ratios and layers differ in length');
  for (const r of ratios)
    if (!(r >= 0 && r <= 1)) throw new BadInputError(`pruning ratio ${r} is not in [0, 1]`);
  const exact = ratios.map((r, i) => r * params[i]!);
  const counts = exact.map(Math.floor);
  let missing = Math.round(exact.reduce((a, b) => a + b, 0)) - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((_, i) => i)
    .sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const i of byRemainder) {
    if (missing <= 0) break;
    if (counts[i]! < params[i]!) {
      counts[i]!++;
      missing--;
    }
  }
  return counts;
}

/** Zero the `count` smallest-magnitude weights (ties broken by index); returns a copy. */
export function magnitudePrune(data: Float32Array | Float64Array, count: number): Float32Array {
  if (!Number.isInteger(count) || count < 0 || count > data.length) {
    throw new BadInputError(`cannot prune ${count} of ${data.length} weights`);
  }
  const out = Float32Array.from(data);
  if (count === 0) return out;
  const order = new Uint32Array(data.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => Math.abs(data[a]!) - Math.abs(data[b]!) || a - b);
  for (let k = 0; k < count; k++) out[order[k]!] = 0;
  return out;
}

/**
 * Global magnitude pruning: the round(target·N) smallest-magnitude weights over all layers together
 * (one threshold for the whole model), returned as per-layer counts. Ties at the threshold go to the
 * earlier layer, then the lower index — the same order `magnitudePrune` uses within a layer, so
 * pruning each layer at its count zeroes exactly the globally selected weights.
 * Holds one float32 magnitude per weight of all layers at once.
 */
export function globalMagnitudeCounts(
  layers: readonly (Float32Array | Float64Array)[],
  target: number,
): number[] {
  if (!(target >= 0 && target <= 1)) throw new BadInputError(`sparsity ${target} is not in [0, 1]`);
  const total = layers.reduce((a, l) => a + l.length, 0);
  const keep = Math.round(target * total);
  if (keep === 0) return layers.map(() => 0);
  const magnitudes = new Float32Array(total);
  let offset = 0;
  for (const l of layers) {
    for (let i = 0; i < l.length; i++) magnitudes[offset + i] = Math.abs(l[i]!);
    offset += l.length;
  }
  const sorted = Float32Array.from(magnitudes).sort();
  const threshold = sorted[keep - 1]!;
  // Everything strictly below the threshold is pruned; the rest of the count comes from weights equal
  // to it, in (layer, index) order.
  let atThreshold = keep - sorted.findIndex((v) => v >= threshold);
  offset = 0;
  return layers.map((l) => {
    let count = 0;
    for (let i = 0; i < l.length; i++) {
      const m = magnitudes[offset + i]!;
      if (m < threshold) count++;
      else if (m === threshold && atThreshold > 0) {
        count++;
        atThreshold--;
      }
    }
    offset += l.length;
    return count;
  });
}
