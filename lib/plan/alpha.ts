/**
 * Data-free allocations from the HT-SR tail exponent α (AlphaPruning, Lu et al. NeurIPS 2024):
 * heavier-tailed layers (smaller α, "better trained") are pruned less and kept at higher precision.
 *
 * AlphaPruning's map: r_i = (1 − ε) + 2ε·(α_i − α_min)/(α_max − α_min), optionally with α averaged
 * over blocks of consecutive layers (its default `block_wise` mapping), then every r_i multiplied by
 * one factor so that the parameter-weighted mean equals the target. Nothing bounds that result (on
 * LLaMA-7B at 80 % one block gets 1.06); `alphaPruningRatios` also returns ratios clipped to
 * [0, maxRatio] and re-balanced so that the weighted mean still hits the target exactly.
 */
import { BadInputError } from '../errors.ts';

export interface AlphaLayer {
  name: string;
  params: number;
  alpha: number;
}

export interface AlphaPruningOptions {
  /** Target parameter-weighted sparsity in [0, 1). */
  target: number;
  /** Half-width of the linear map (AlphaPruning: 0.3 for LLaMA-7B magnitude pruning). */
  epsilon: number;
  /** Average α over consecutive groups of this many layers first (7 for a LLaMA block). */
  blockSize?: number;
  /** Upper bound of a layer's ratio after clipping (default 1). */
  maxRatio?: number;
}

export interface AlphaPruningRatios {
  /** The paper's ratios, unbounded. */
  unclipped: number[];
  /** Clipped to [0, maxRatio] and re-balanced to the same weighted mean. */
  ratios: number[];
  /** The α each layer was mapped from (block means when blockSize is set). */
  mappedAlpha: number[];
}

function checkLayers(layers: readonly AlphaLayer[]): void {
  if (layers.length === 0) throw new BadInputError('no layers to allocate over');
  for (const l of layers) {
    if (!Number.isFinite(l.alpha)) throw new BadInputError(`α is not finite (${l.alpha})`, { layer: l.name });
    if (!(l.params > 0))
      throw new BadInputError(`parameter count ${l.params} is not positive`, { layer: l.name });
  }
}

/** Block means of α (AlphaPruning's block_wise mapping); the last block may be shorter. */
export function blockMeans(alphas: readonly number[], blockSize: number): number[] {
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new BadInputError(`block size ${blockSize} is not a positive integer`);
  const out: number[] = [];
  for (let i = 0; i < alphas.length; i += blockSize) {
    const block = alphas.slice(i, i + blockSize);
    const mean = block.reduce((a, b) => a + b, 0) / block.length;
    for (let j = 0; j < block.length; j++) out.push(mean);
  }
  return out;
}

/** (1 − ε) + 2ε·(α − α_min)/(α_max − α_min); all ones when every α is equal. */
export function linearMap(alphas: readonly number[], epsilon: number): number[] {
  if (!(epsilon >= 0 && epsilon < 1)) throw new BadInputError(`ε = ${epsilon} is not in [0, 1)`);
  const lo = Math.min(...alphas);
  const hi = Math.max(...alphas);
  return alphas.map((a) => (hi > lo ? 1 - epsilon + (2 * epsilon * (a - lo)) / (hi - lo) : 1));
}

/**
 * The largest s with Σ n_i·min(cap, s·r_i) = target·Σ n_i, solved exactly: the left side is
 * piecewise linear and increasing in s, with breakpoints where s·r_i reaches the cap.
 */
export function rebalanceClipped(
  raw: readonly number[],
  params: readonly number[],
  target: number,
  cap: number,
): number[] {
  const total = params.reduce((a, b) => a + b, 0);
  const goal = target * total;
  if (goal > cap * total + 1e-12 * total) {
    throw new BadInputError(
      `target ${target} is above the largest reachable mean ${cap} (every layer at the cap)`,
    );
  }
  // Layers in the order they saturate (largest r first).
  const order = raw.map((_, i) => i).sort((a, b) => raw[b]! - raw[a]!);
  let saturatedParams = 0;
  let freeWeighted = raw.reduce((acc, r, i) => acc + r * params[i]!, 0);
  let scale = 0;
  for (let k = 0; k <= order.length; k++) {
    // With the first k layers saturated: cap·saturatedParams + s·freeWeighted = goal.
    const s = freeWeighted > 0 ? (goal - cap * saturatedParams) / freeWeighted : Number.POSITIVE_INFINITY;
    const nextBreak = k < order.length ? cap / raw[order[k]!]! : Number.POSITIVE_INFINITY;
    if (s <= nextBreak) {
      scale = s;
      break;
    }
    const i = order[k]!;
    saturatedParams += params[i]!;
    freeWeighted -= raw[i]! * params[i]!;
    scale = nextBreak;
  }
  return raw.map((r) => Math.min(cap, Math.max(0, scale * r)));
}

export function alphaPruningRatios(
  layers: readonly AlphaLayer[],
  options: AlphaPruningOptions,
): AlphaPruningRatios {
  checkLayers(layers);
  const { target, epsilon } = options;
  if (!(target >= 0 && target < 1)) throw new BadInputError(`target sparsity ${target} is not in [0, 1)`);
  const cap = options.maxRatio ?? 1;
  if (!(cap > 0 && cap <= 1)) throw new BadInputError(`maximum ratio ${cap} is not in (0, 1]`);
  const alphas = layers.map((l) => l.alpha);
  const mappedAlpha = options.blockSize ? blockMeans(alphas, options.blockSize) : alphas;
  const raw = linearMap(mappedAlpha, epsilon);
  const params = layers.map((l) => l.params);
  const total = params.reduce((a, b) => a + b, 0);
  const weighted = raw.reduce((acc, r, i) => acc + r * params[i]!, 0);
  const unclipped = raw.map((r) => (r * target * total) / weighted);
  const ratios = rebalanceClipped(raw, params, target, cap);
  return { unclipped, ratios, mappedAlpha };
}

/**
 * Data-free importance for bit allocation, the mirror image of the pruning map: the smallest α gets
 * 1 + ε, the largest 1 − ε. The α sensitivity of layer i at b bits is
 * importance_i · n_i · ‖Q_b(W_i) − W_i‖² / ‖W_i‖² (relative perturbation, weighted by size).
 */
export function alphaImportance(alphas: readonly number[], epsilon: number): number[] {
  return linearMap(alphas, epsilon).map((r) => 2 - r);
}
