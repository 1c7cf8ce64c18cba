/**
 * The SETOL / ERG condition (Martin & Hinrichs, arXiv 2507.17912) as WeightWatcher 0.7.7 computes it
 * with `detX=True` (`apply_detX` + `RMT_Util.detX_constraint`): the ESD is rescaled to mean 1
 * (λ·N/Σλ), and the tail is the smallest set of top eigenvalues whose product (det X) falls below 1,
 * searched from the top down. `detX_val` is the (unrescaled) eigenvalue where that tail starts;
 * `num_ERG_spikes` equals `detX_num`; `ERG_gap` = detX_num − num_pl_spikes.
 */

export interface DetXColumns {
  detX_num: number;
  detX_val: number;
  num_ERG_spikes: number;
  ERG_gap: number | null;
}

/**
 * The tail size and start index of the detX = 1 condition on ascending eigenvalues. As in
 * WeightWatcher: (0, 0) for fewer than 2 or non-increasing eigenvalues; when no tail brings the
 * product below 1, every eigenvalue counts and the index stays where its search loop ended (1).
 * The product is compared through its logarithm, which does not overflow for large spikes.
 */
export function detXConstraint(evals: Float64Array): { num: number; index: number } {
  const N = evals.length;
  if (N < 2 || !(evals[0]! < evals[N - 1]!)) return { num: 0, index: 0 };
  let total = 0;
  for (const v of evals) total += v;
  const scale = N / total;
  let logProduct = 0;
  for (let index = N - 1; index > 0; index--) {
    logProduct += Math.log(evals[index]! * scale);
    if (logProduct < 0) return { num: N - index, index };
  }
  return { num: N, index: 1 };
}

/** WeightWatcher's four detX / ERG columns for one layer's ESD. */
export function detXColumns(evals: Float64Array, numPlSpikes: number | null): DetXColumns {
  const { num, index } = detXConstraint(evals);
  return {
    detX_num: num,
    detX_val: evals.length === 0 ? Number.NaN : evals[index]!,
    num_ERG_spikes: num,
    ERG_gap: numPlSpikes === null ? null : num - numPlSpikes,
  };
}
