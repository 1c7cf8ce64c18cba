/**
 * FARMS (Hu et al., ICML 2025, arXiv 2506.06280): the Hill α (`xmin_mid`) of the pooled ESD of
 * fixed-aspect-ratio submatrices, so that a matrix's shape does not bias α. The windows follow the
 * reference implementation's defaults (`net_esd_estimator_farms`, `sampling.fixed_sampling`):
 *
 * - 2-D layers, taken as stored: 100 × 200 windows (Q = 2), 10 start positions per dimension
 *   spread evenly (step ⌊(rows − 100) / 9⌋, at least 1; starts clamped to the last full window).
 *   A dimension shorter than its window is sliced with Python's semantics for the negative start
 *   the reference computes (for 100 < cols < 200 that keeps only the last 200 − cols columns);
 *   layers pooling fewer than 5 eigenvalues have no value.
 * - conv2d: per kernel position the out × in slice, oriented rows ≥ cols (C = min(in, out)); the
 *   first ⌊max/C⌋ bands of ⌊C/2⌋ rows × C columns, each band's ESD pooled over kernel positions,
 *   α averaged over bands. Tensors whose channel counts are smaller than the kernel
 *   (out + in < kh + kw), which the reference reads as channels-first, have no value.
 * Scaling (the reference's conv_norm) does not change a Hill α, so none is applied.
 */
import { concatArrays } from '../arrays.ts';
import { type EigenBackend, squaredSingularValues } from '../linalg/index.ts';
import type { LayerWeights } from '../types.ts';
import { hillAlpha } from './hill.ts';

export const FARMS_ROW_SAMPLES = 100;
export const FARMS_Q_RATIO = 2;
export const FARMS_SAMPLES_PER_DIM = 10;
/** Fewest pooled eigenvalues the reference fits (its `eigs_num_thresh`). */
export const FARMS_MIN_EIGS = 5;

export interface FarmsResult {
  alpha_farms: number;
  /** Submatrices whose eigenvalues were pooled. */
  farms_windows: number;
}

/** Python's slice [start, start + length) of a dimension of `size`, as [from, to). */
function pythonSlice(start: number, length: number, size: number): [number, number] {
  const clamp = (i: number) => (i < 0 ? Math.max(0, size + i) : Math.min(i, size));
  const from = clamp(start);
  return [from, Math.max(from, clamp(start + length))];
}

/** Window starts along one dimension (`fixed_sampling`). */
function windowStarts(size: number, window: number): number[] {
  const step = Math.max(1, Math.floor((size - window) / (FARMS_SAMPLES_PER_DIM - 1)));
  const count = Math.min(FARMS_SAMPLES_PER_DIM, Math.max(1, Math.floor((size - window) / step) + 1));
  return Array.from({ length: count }, (_, i) => Math.min(i * step, size - window));
}

/** Copy of rows [r0, r1) × cols [c0, c1) of a row-major matrix, optionally of its transpose. */
function block(
  data: Float32Array | Float64Array,
  cols: number,
  [r0, r1]: [number, number],
  [c0, c1]: [number, number],
  transposed = false,
): Float64Array {
  const h = r1 - r0;
  const w = c1 - c0;
  const out = new Float64Array(h * w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      // Element (r0 + r, c0 + c) of the matrix, or of its transpose (stored as cols × rows, row-major).
      out[r * w + c] = transposed ? data[(c0 + c) * cols + (r0 + r)]! : data[(r0 + r) * cols + (c0 + c)]!;
    }
  }
  return out;
}

async function pooledHill(blocks: { data: Float64Array; h: number; w: number }[], backend?: EigenBackend) {
  const parts: Float64Array[] = [];
  for (const b of blocks) {
    if (b.h > 0 && b.w > 0) parts.push(await squaredSingularValues(b.data, b.h, b.w, { backend }));
  }
  const pooled = concatArrays(Float64Array, parts).sort();
  return {
    fit: pooled.length < FARMS_MIN_EIGS ? null : hillAlpha(pooled, 'xmin_mid'),
    windows: parts.length,
  };
}

async function farms2d(weights: LayerWeights, backend?: EigenBackend): Promise<FarmsResult | null> {
  const [rows, cols] = weights.shape as [number, number];
  const colSamples = Math.floor(FARMS_ROW_SAMPLES * FARMS_Q_RATIO);
  const blocks: { data: Float64Array; h: number; w: number }[] = [];
  for (const rs of windowStarts(rows, FARMS_ROW_SAMPLES)) {
    for (const cs of windowStarts(cols, colSamples)) {
      const r = pythonSlice(rs, FARMS_ROW_SAMPLES, rows);
      const c = pythonSlice(cs, colSamples, cols);
      blocks.push({ data: block(weights.data, cols, r, c), h: r[1] - r[0], w: c[1] - c[0] });
    }
  }
  const { fit, windows } = await pooledHill(blocks, backend);
  return fit ? { alpha_farms: fit.alpha, farms_windows: windows } : null;
}

async function farmsConv2d(weights: LayerWeights, backend?: EigenBackend): Promise<FarmsResult | null> {
  const [kh, kw, inChannels, outChannels] = weights.shape as [number, number, number, number];
  if (outChannels + inChannels < kh + kw) return null;
  const big = Math.max(inChannels, outChannels);
  const small = Math.min(inChannels, outChannels);
  const bandRows = Math.max(1, Math.floor(small / FARMS_Q_RATIO));
  const bands = Math.floor(big / small);
  const size = inChannels * outChannels;
  // The stored slice is in × out; the reference's is out × in transposed to rows ≥ cols.
  const transposed = outChannels >= inChannels;
  const alphas: number[] = [];
  let windows = 0;
  for (let band = 0; band < bands; band++) {
    const blocks: { data: Float64Array; h: number; w: number }[] = [];
    for (let position = 0; position < kh * kw; position++) {
      const slice = weights.data.subarray(position * size, (position + 1) * size);
      const r: [number, number] = [band * bandRows, (band + 1) * bandRows];
      blocks.push({ data: block(slice, outChannels, r, [0, small], transposed), h: bandRows, w: small });
    }
    const pooled = await pooledHill(blocks, backend);
    if (!pooled.fit) return null;
    alphas.push(pooled.fit.alpha);
    windows += pooled.windows;
  }
  if (alphas.length === 0) return null;
  return { alpha_farms: alphas.reduce((a, b) => a + b, 0) / alphas.length, farms_windows: windows };
}

/** FARMS α of a layer in the canonical layout (lib/types.ts); null where it is undefined. */
export async function farmsAlpha(weights: LayerWeights, backend?: EigenBackend): Promise<FarmsResult | null> {
  if (weights.layerType === 'conv2d')
    return weights.shape.length === 4 ? farmsConv2d(weights, backend) : null;
  return weights.shape.length === 2 ? farms2d(weights, backend) : null;
}
