/**
 * From a layer's weights to its ESD the way WeightWatcher forms it (spec §4–§6.1): one matrix for
 * dense/embedding/conv1d, one in×out matrix per kernel position for conv2d (HWIO, contiguous
 * slices), squared singular values in float64, conv2d eigenvalues halved (conv2d_norm, pooled),
 * all slices concatenated and sorted.
 */
import { BadInputError, type ErrorContext } from '../errors.ts';
import {
  type EigenBackend,
  isGramBackend,
  type ResolvedEigenBackend,
  resolveBackend,
  squaredSingularValues,
  squaredSingularValuesBatched,
} from '../linalg/index.ts';
import type { LayerType, LayerWeights } from '../types.ts';
import { FLOAT64_EPS } from './norms.ts';

/** WeightWatcher's `weak_rank_loss` tolerance. */
const WEAK_RANK_TOLERANCE = 1e-6;

export interface LayerGeometry {
  /** WeightWatcher's N and M (see the conv2d quirk in `layerGeometry`). */
  N: number;
  M: number;
  rf: number;
  /** Rows and columns of each matrix, and how many there are. */
  rows: number;
  cols: number;
  count: number;
}

/**
 * N, M, rf and the matrices' shape from the canonical shape alone. Conv2D reproduces a
 * WeightWatcher quirk: it swaps N and M once per transposed slice, so when out < in and kh·kw is
 * even it reports N = out < M = in (the eigenvalues are unaffected).
 */
export function layerGeometry(
  layerType: LayerType,
  shape: readonly number[],
): LayerGeometry | { reason: string } {
  if (layerType === 'conv2d') {
    if (shape.length !== 4)
      return { reason: `conv2d weight must be 4-D [kh, kw, in, out], got [${shape.join(', ')}]` };
    const [kh, kw, inChannels, outChannels] = shape as [number, number, number, number];
    const rf = kh * kw;
    let N = Math.max(inChannels, outChannels);
    let M = Math.min(inChannels, outChannels);
    if (outChannels < inChannels && rf % 2 === 0) [N, M] = [M, N];
    return { N, M, rf, rows: inChannels, cols: outChannels, count: rf };
  }
  if (shape.length !== 2) {
    // WeightWatcher types 3-D conv1d by min dimension and never reaches its SVD (min_evals skips it).
    return { reason: `${layerType} weight must be 2-D, got [${shape.join(', ')}]` };
  }
  const [rows, cols] = shape as [number, number];
  return { N: Math.max(rows, cols), M: Math.min(rows, cols), rf: 1, rows, cols, count: 1 };
}

export interface LayerEsd {
  /** Ascending eigenvalues of all slices (conv2d scaled). */
  evals: Float64Array;
  sv_max: number;
  /** The largest of the per-slice minimum singular values (WeightWatcher's definition). */
  sv_min: number;
  rank_loss: number;
  weak_rank_loss: number;
  /** The eigen-solver that computed it (recorded with the layer result). */
  backend: ResolvedEigenBackend;
  /** A streamed fine-tune delta's ‖ΔW‖_F / ‖W_base‖_F (set only through LayerWeights.gram). */
  deltaNormRatio?: number | null;
}

export interface EsdOptions {
  backend?: EigenBackend;
  single?: boolean;
  conv2dNorm: boolean;
  /** Replace each matrix by a copy with its entries permuted (randomized ESD). */
  permute?: (matrix: Float32Array | Float64Array) => Float32Array | Float64Array;
  /** The single matrix's squared singular values, already solved (solveSameShape); not for permuted copies. */
  solved?: SolvedMatrix;
}

/** Ascending squared singular values of one matrix and the backend that computed them. */
export interface SolvedMatrix {
  values: Float64Array;
  backend: ResolvedEigenBackend;
}

/** Same-shape dense layers solved together from this many on (fewer gain nothing from a batch). */
export const SAME_SHAPE_MIN_LAYERS = 2;

/**
 * The squared singular values of every single-matrix layer (dense/embedding, 2-D, not low-rank)
 * that shares its shape with at least SAME_SHAPE_MIN_LAYERS − 1 others, one batched solve per shape
 * (on 'cuda': strided-batched Gram and the batched eigensolver — what makes many small layers cheap
 * on a GPU). Layers with non-finite or all-zero weights are left to analyzeLayer's own error.
 */
export async function solveSameShape(
  layers: readonly LayerWeights[],
  options: { backend: Exclude<EigenBackend, 'auto'>; single?: boolean },
): Promise<Map<LayerWeights, SolvedMatrix>> {
  const groups = new Map<string, LayerWeights[]>();
  for (const weights of layers) {
    if (weights.shape.length !== 2 || weights.lowRank || weights.layerType === 'conv2d') continue;
    const [rows, cols] = weights.shape as [number, number];
    if (weights.data.length !== rows * cols) continue;
    try {
      checkWeights(weights);
    } catch {
      continue;
    }
    const key = `${rows}x${cols}`;
    groups.set(key, [...(groups.get(key) ?? []), weights]);
  }
  const solved = new Map<LayerWeights, SolvedMatrix>();
  for (const group of groups.values()) {
    if (group.length < SAME_SHAPE_MIN_LAYERS) continue;
    const [rows, cols] = group[0]!.shape as [number, number];
    const size = rows * cols;
    const wide = group.some((w) => w.data instanceof Float64Array);
    const data = wide ? new Float64Array(size * group.length) : new Float32Array(size * group.length);
    for (const [i, w] of group.entries()) data.set(w.data, i * size);
    const values = await squaredSingularValuesBatched(data, group.length, rows, cols, options);
    const m = Math.min(rows, cols);
    for (const [i, w] of group.entries()) {
      solved.set(w, { values: values.slice(i * m, (i + 1) * m), backend: options.backend });
    }
  }
  return solved;
}

/**
 * max |v| over `data`, which must be finite: a NaN or Inf is a BadInputError naming its element
 * (`offset` + index, for data streamed in blocks) and the context.
 */
export function finiteMaxAbs(data: ArrayLike<number>, context: ErrorContext, offset = 0): number {
  let maxAbs = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new BadInputError(
        `weights contain ${Number.isNaN(v) ? 'NaN' : 'Inf'} (element ${offset + i})`,
        context,
      );
    }
    const abs = Math.abs(v);
    if (abs > maxAbs) maxAbs = abs;
  }
  return maxAbs;
}

/** Check finiteness and non-zero content; throws BadInputError naming the layer. */
export function checkWeights(weights: LayerWeights): void {
  const context = { layer: weights.name };
  if (finiteMaxAbs(weights.data, context) === 0) throw new BadInputError('weights are all zero', context);
}

/** The ESD of one layer (eigenvalues computed off the event loop). */
export async function layerEsd(
  weights: LayerWeights,
  geometry: LayerGeometry,
  options: EsdOptions,
): Promise<LayerEsd> {
  const { rows, cols, count } = geometry;
  const size = rows * cols;
  // A low-rank matrix given by its r×r core (LoRA ΔW): the core's ESD padded with zeros, unless the
  // entries themselves are needed (a permuted copy), then the full matrix.
  if (weights.gram) return gramEsd(weights, geometry, options);
  const lowRank = weights.lowRank;
  if (lowRank && count === 1) return lowRankEsd(weights.name, lowRank, geometry, options);
  if (weights.data.length !== size * count) {
    throw new BadInputError(`weights hold ${weights.data.length} values, shape needs ${size * count}`, {
      layer: weights.name,
    });
  }
  const scale = weights.layerType === 'conv2d' && options.conv2dNorm ? 0.5 : 1;
  const solved = count === 1 && !options.permute ? options.solved : undefined;
  const backend = solved ? solved.backend : resolveBackend(rows, cols, options.backend);
  // WeightWatcher's rank tolerance, σmax·N·ε, assumes the SVD of W. Through the Gram matrix, singular
  // values below ~σmax·√(N·ε) are round-off (or 0), so that is where rank loss starts there.
  const rankTolerance = isGramBackend(backend)
    ? Math.sqrt(geometry.N * FLOAT64_EPS)
    : geometry.N * FLOAT64_EPS;
  const all = new Float64Array(Math.min(rows, cols) * count);
  let svMax = 0;
  let svMin = 0;
  let rankLoss = 0;
  const m = Math.min(rows, cols);
  // On the GPU the slices (conv kernel positions) go up together, to the batched solver.
  const batched =
    backend === 'cuda' && count > 1
      ? await squaredSingularValuesBatched(
          slicesOf(weights.data, count, size, options.permute),
          count,
          rows,
          cols,
          {
            backend,
            single: options.single,
          },
        )
      : undefined;
  for (let slice = 0; slice < count; slice++) {
    let values: Float64Array;
    if (solved) values = solved.values;
    else if (batched) values = batched.slice(slice * m, (slice + 1) * m);
    else {
      let matrix = weights.data.subarray(slice * size, (slice + 1) * size);
      if (options.permute) matrix = options.permute(matrix);
      values = await squaredSingularValues(matrix, rows, cols, { backend, single: options.single });
    }
    // WeightWatcher scales the matrix, so the singular values carry √scale too.
    const singular = values.map((v) => Math.sqrt(v * scale));
    const sliceMax = singular[singular.length - 1]!;
    svMax = Math.max(svMax, sliceMax);
    svMin = Math.max(svMin, singular[0]!);
    const tol = sliceMax * rankTolerance;
    for (const s of singular) if (!(s > tol)) rankLoss++;
    const offset = slice * values.length;
    for (let i = 0; i < values.length; i++) all[offset + i] = values[i]! * scale;
  }
  all.sort();
  let weak = 0;
  for (const lambda of all) if (lambda < WEAK_RANK_TOLERANCE) weak++;
  return { evals: all, sv_max: svMax, sv_min: svMin, rank_loss: rankLoss, weak_rank_loss: weak, backend };
}

/** The slices back to back, each permuted when asked (the data itself when not). */
function slicesOf(
  data: Float32Array | Float64Array,
  count: number,
  size: number,
  permute: EsdOptions['permute'],
): Float32Array | Float64Array {
  if (!permute) return data;
  const out = data instanceof Float64Array ? new Float64Array(count * size) : new Float32Array(count * size);
  for (let slice = 0; slice < count; slice++)
    out.set(permute(data.subarray(slice * size, (slice + 1) * size)), slice * size);
  return out;
}

/** The ESD of a matrix given by its streamed Gram matrix (LayerWeights.gram): one matrix, unscaled. */
async function gramEsd(
  weights: LayerWeights,
  geometry: LayerGeometry,
  options: EsdOptions,
): Promise<LayerEsd> {
  if (options.permute || geometry.count !== 1 || !weights.gram) {
    throw new BadInputError(
      'a layer analyzed through its Gram matrix has no entries to permute (randomize needs them)',
      { layer: weights.name },
    );
  }
  const solution = await weights.gram.solve();
  const evals = solution.evals;
  const m = evals.length;
  if (m !== Math.min(geometry.rows, geometry.cols)) {
    throw new BadInputError(`Gram matrix gave ${m} eigenvalues, the shape needs ${geometry.M}`, {
      layer: weights.name,
    });
  }
  const esd = esdOfEigenvalues(evals, geometry, solution.backend);
  if (solution.deltaNormRatio !== undefined) esd.deltaNormRatio = solution.deltaNormRatio;
  return esd;
}

/** The ESD of a rank-r matrix from its core: r eigenvalues, M − r zeros (see LayerWeights.lowRank). */
async function lowRankEsd(
  name: string,
  lowRank: NonNullable<LayerWeights['lowRank']>,
  geometry: LayerGeometry,
  options: EsdOptions,
): Promise<LayerEsd> {
  const { rows, cols } = geometry;
  const m = Math.min(rows, cols);
  const r = lowRank.rank;
  const matrix = options.permute ? options.permute(lowRank.expand()) : lowRank.core;
  const [mRows, mCols] = options.permute ? [rows, cols] : [r, r];
  const backend = resolveBackend(mRows, mCols, options.backend);
  if (matrix.length !== mRows * mCols) {
    throw new BadInputError(`low-rank core holds ${matrix.length} values, needs ${mRows * mCols}`, {
      layer: name,
    });
  }
  const values = await squaredSingularValues(matrix, mRows, mCols, { backend, single: options.single });
  const all = new Float64Array(m);
  all.set(values.subarray(Math.max(0, values.length - m)), m - Math.min(m, values.length));
  all.sort();
  return esdOfEigenvalues(all, geometry, backend);
}

/**
 * The LayerEsd of one matrix from its ascending eigenvalues. Rank loss counts singular values at or
 * below σmax·N·ε after an SVD, σmax·√(N·ε) when they came through a Gram matrix (see layerEsd).
 */
function esdOfEigenvalues(
  evals: Float64Array,
  geometry: LayerGeometry,
  backend: ResolvedEigenBackend,
): LayerEsd {
  const m = evals.length;
  const svMax = Math.sqrt(evals[m - 1]!);
  const tol =
    svMax * (isGramBackend(backend) ? Math.sqrt(geometry.N * FLOAT64_EPS) : geometry.N * FLOAT64_EPS);
  let rankLoss = 0;
  let weak = 0;
  for (const lambda of evals) {
    if (!(Math.sqrt(lambda) > tol)) rankLoss++;
    if (lambda < WEAK_RANK_TOLERANCE) weak++;
  }
  return {
    evals,
    sv_max: svMax,
    sv_min: Math.sqrt(evals[0]!),
    rank_loss: rankLoss,
    weak_rank_loss: weak,
    backend,
  };
}
