/**
 * Randomized ESDs and correlation traps (spec §9): the layer's matrices with their entries permuted
 * give an MP-like ESD; what stays outside its bulk edge is a correlation trap. WeightWatcher uses an
 * unseeded shuffle; we seed from the layer name so a re-run gives the same numbers.
 */

/** FNV-1a of a string, as a 32-bit seed. */
export function seedFromName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A permuted copy of `matrix` (Fisher–Yates). */
export function shuffledCopy(
  matrix: Float32Array | Float64Array,
  random: () => number,
): Float32Array | Float64Array {
  const copy = matrix.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = tmp;
  }
  return copy;
}

/**
 * Jensen–Shannon distance between two equally long eigenvalue vectors treated directly as discrete
 * distributions (each normalized by its sum, paired by rank), natural log — as WeightWatcher does.
 */
export function jensenShannonDistance(p: Float64Array, q: Float64Array): number {
  const length = Math.min(p.length, q.length);
  let sumP = 0;
  let sumQ = 0;
  for (let i = 0; i < length; i++) {
    sumP += p[i]!;
    sumQ += q[i]!;
  }
  let klPM = 0;
  let klQM = 0;
  for (let i = 0; i < length; i++) {
    const pi = p[i]! / sumP;
    const qi = q[i]! / sumQ;
    const mi = (p[i]! + q[i]!) / 2;
    const m = mi / ((sumP + sumQ) / 2);
    if (pi > 0) klPM += pi * Math.log(pi / m);
    if (qi > 0) klQM += qi * Math.log(qi / m);
  }
  return Math.sqrt((klPM + klQM) / 2);
}
