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
