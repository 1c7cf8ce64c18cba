/**
 * The weights of a LoRA update ΔW = scale·B·A (B: out×r, A: r×in, row-major). Small updates are
 * formed in full. Large ones are not: the nonzero eigenvalues of ΔWᵀΔW equal those of
 * scale²·(BᵀB)(AAᵀ), an r×r problem, which is the ESD of the r×r core C = scale·L_Bᵀ·L_A
 * (BᵀB = L_B·L_Bᵀ and AAᵀ = L_A·L_Aᵀ, Cholesky): CᵀC = scale²·L_Aᵀ(BᵀB)L_A is similar to
 * scale²·(BᵀB)(AAᵀ). The spectral code pads the M − r zero eigenvalues (lib/spectral/esd.ts).
 */
import type { LayerWeights } from '../types.ts';

/** Above this many ΔW entries, the r×r core is used instead of the full product. */
export const LORA_DIRECT_MAX_ELEMENTS = 1 << 22;

type Floats = Float32Array | Float64Array;

/** A module's factors: ΔW = scale·B·A with B out×r and A r×in, both row-major. */
export interface LoraFactors {
  a: Floats;
  b: Floats;
  inDim: number;
  outDim: number;
  rank: number;
  scale: number;
}

/** ΔW = scale·B·A in full (out×in, row-major). */
export function loraProduct({ a, b, inDim, outDim, rank, scale }: LoraFactors): Float64Array {
  const out = new Float64Array(outDim * inDim);
  for (let i = 0; i < outDim; i++) {
    const row = i * inDim;
    for (let k = 0; k < rank; k++) {
      const bik = scale * b[i * rank + k]!;
      if (bik === 0) continue;
      const aRow = k * inDim;
      for (let j = 0; j < inDim; j++) out[row + j]! += bik * a[aRow + j]!;
    }
  }
  return out;
}

/** Lower Cholesky factor of a symmetric r×r matrix; undefined when it is not positive definite. */
function cholesky(g: Float64Array, r: number): Float64Array | undefined {
  const l = new Float64Array(r * r);
  let scaleOfG = 0;
  for (let i = 0; i < r; i++) scaleOfG = Math.max(scaleOfG, g[i * r + i]!);
  const floor = scaleOfG * 1e-12;
  for (let j = 0; j < r; j++) {
    let d = g[j * r + j]!;
    for (let k = 0; k < j; k++) d -= l[j * r + k]! ** 2;
    if (!(d > floor)) return undefined;
    const ljj = Math.sqrt(d);
    l[j * r + j] = ljj;
    for (let i = j + 1; i < r; i++) {
      let s = g[i * r + j]!;
      for (let k = 0; k < j; k++) s -= l[i * r + k]! * l[j * r + k]!;
      l[i * r + j] = s / ljj;
    }
  }
  return l;
}

/**
 * The r×r core C = scale·L_Bᵀ·L_A whose squared singular values are the nonzero eigenvalues of
 * ΔWᵀΔW; undefined when A or B is rank-deficient (then only the full product is exact).
 */
export function loraCore({ a, b, inDim, outDim, rank, scale }: LoraFactors): Float64Array | undefined {
  const gB = new Float64Array(rank * rank); // BᵀB
  for (let i = 0; i < outDim; i++) {
    for (let p = 0; p < rank; p++) {
      const bip = b[i * rank + p]!;
      for (let q = 0; q <= p; q++) gB[p * rank + q]! += bip * b[i * rank + q]!;
    }
  }
  const gA = new Float64Array(rank * rank); // AAᵀ
  for (let p = 0; p < rank; p++) {
    for (let q = 0; q <= p; q++) {
      let s = 0;
      for (let j = 0; j < inDim; j++) s += a[p * inDim + j]! * a[q * inDim + j]!;
      gA[p * rank + q] = s;
    }
  }
  for (let p = 0; p < rank; p++) {
    for (let q = 0; q < p; q++) {
      gB[q * rank + p] = gB[p * rank + q]!;
      gA[q * rank + p] = gA[p * rank + q]!;
    }
  }
  const lB = cholesky(gB, rank);
  const lA = cholesky(gA, rank);
  if (!lB || !lA) return undefined;
  const core = new Float64Array(rank * rank);
  for (let i = 0; i < rank; i++) {
    for (let j = 0; j < rank; j++) {
      let s = 0;
      // (L_Bᵀ)[i, k] = L_B[k, i], nonzero for k ≥ i; L_A[k, j] nonzero for k ≥ j.
      for (let k = Math.max(i, j); k < rank; k++) s += lB[k * rank + i]! * lA[k * rank + j]!;
      core[i * rank + j] = scale * s;
    }
  }
  return core;
}

/** The layer weights of module `name`'s ΔW: the full product when small (or rank-deficient), else the core. */
export function loraWeights(
  name: string,
  factors: LoraFactors,
  directMaxElements = LORA_DIRECT_MAX_ELEMENTS,
): LayerWeights {
  const { inDim, outDim, rank, scale } = factors;
  const base = { name, layerType: 'lora' as const, shape: [outDim, inDim], lora: { rank, scale } };
  const full = () => loraProduct(factors);
  if (outDim * inDim > directMaxElements && rank < Math.min(outDim, inDim)) {
    const core = loraCore(factors);
    if (core) return { ...base, data: core, lowRank: { core, rank, expand: full } };
  }
  return { ...base, data: full() };
}
