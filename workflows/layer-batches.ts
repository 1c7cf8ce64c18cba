/**
 * How a checkpoint's layers become activities. Every activity costs a fixed amount of
 * orchestration (schedule, dispatch, completion, one workflow task, a few Postgres and S3 round
 * trips: bench:sweep measured ~0.35 s per layer on a loaded 2-core machine against ~0.05 s of
 * compute for a 768×384 layer), so small layers travel together: consecutive layers are grouped
 * until their estimated eigen-decomposition cost reaches a budget, and big layers go alone.
 * Pure and deterministic (workflow code); the unit tests cover it.
 */

import type { LayerPlan } from '../contracts/checkpoint.ts';
import { CUDA_MIN_DIM } from '../lib/linalg/thresholds.ts';

/**
 * Estimated compute per batch: ~0.5 s of one core at the native solver's ~2 GFLOP/s. Large enough
 * to amortize the per-activity cost, small enough that a checkpoint of many layers still spreads
 * over all workers.
 */
export const DEFAULT_BATCH_FLOPS = 1e9;
/** Fixed per-layer work (power-law fit, ESD write, row upsert) expressed as flops (~10 ms). */
const PER_LAYER_FLOPS = 2e7;
/** Layers per batch at most, whatever their size (bounds payloads and the retry's redo). */
export const MAX_LAYERS_PER_BATCH = 64;
/** Bytes read per batch at most (a batch re-reads its tensors when retried). */
const MAX_BATCH_BYTES = 256 * 1024 * 1024;

/** The matrices a layer's eigenvalues come from: `count` of short × long (conv: cin×cout per kernel position). */
function layerMatrices(layer: LayerPlan): { count: number; short: number; long: number } {
  const shape = layer.shape;
  if (shape.length === 4 || shape.length === 3) {
    // conv2d [kh, kw, in, out] / conv1d [k, in, out]
    const cin = shape[shape.length - 2]!;
    const cout = shape[shape.length - 1]!;
    const count = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    return { count, short: Math.min(cin, cout), long: Math.max(cin, cout) };
  }
  const rows = shape[0] ?? 1;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  return { count: 1, short: Math.min(rows, cols), long: Math.max(rows, cols) };
}

/** Eigen-decomposition cost of a layer: rows·cols·min(rows, cols) per matrix (conv: per kernel position). */
export function layerFlops(layer: LayerPlan): number {
  const { count, short, long } = layerMatrices(layer);
  return count * short * short * long;
}

/**
 * Relative running time of a layer's analysis, for telling how long one will take from how long
 * another took: per matrix the Gram product (M²N, M the short side) and the eigensolver (M³), which
 * costs about 3× as much per unit (bench:llm's fitted a·M²N + b·M³ gave b/a = 2.3–3.4).
 */
export function layerAnalysisCost(layer: LayerPlan): number {
  const { count, short, long } = layerMatrices(layer);
  return count * short * short * (long + 3 * short);
}

/** I/O and compute time of one layer at pessimistic speeds (5 MB/s reads, 20 MFLOP/s: pure TS, busy core). */
function layerWorstCaseMs(layer: LayerPlan): number {
  return layer.byteLength / 5_000 + layerFlops(layer) / 20_000;
}

const TIMEOUT_FLOOR_MS = 120_000;
const TIMEOUT_CAP_MS = 6 * 3600_000;

/** Longest single attempt for one layer: a floor for I/O plus its worst-case cost, capped at 6 hours. */
export function layerTimeoutMs(layer: LayerPlan): number {
  return batchTimeoutMs([layer]);
}

/** Longest single attempt for a batch: one floor plus the worst-case cost of every layer in it. */
export function batchTimeoutMs(layers: readonly LayerPlan[]): number {
  const work = layers.reduce((sum, layer) => sum + layerWorstCaseMs(layer), 0);
  return Math.min(TIMEOUT_CAP_MS, Math.round(TIMEOUT_FLOOR_MS + work));
}

/**
 * Consecutive layers grouped into batches of at most `budgetFlops` estimated work (each layer also
 * counts PER_LAYER_FLOPS), MAX_LAYERS_PER_BATCH layers and MAX_BATCH_BYTES; a layer over the budget
 * is a batch of its own. `budgetFlops <= 0` gives one layer per batch. Order is kept.
 */
export function planLayerBatches(
  layers: readonly LayerPlan[],
  budgetFlops = DEFAULT_BATCH_FLOPS,
): LayerPlan[][] {
  if (!(budgetFlops > 0)) return layers.map((layer) => [layer]);
  const batches: LayerPlan[][] = [];
  let current: LayerPlan[] = [];
  let flops = 0;
  let bytes = 0;
  for (const layer of layers) {
    const cost = layerFlops(layer) + PER_LAYER_FLOPS;
    const full =
      current.length >= MAX_LAYERS_PER_BATCH ||
      flops + cost > budgetFlops ||
      bytes + layer.byteLength > MAX_BATCH_BYTES;
    if (current.length > 0 && full) {
      batches.push(current);
      current = [];
      flops = 0;
      bytes = 0;
    }
    current.push(layer);
    flops += cost;
    bytes += layer.byteLength;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Where a batch of layers is analyzed: the cpu queue's workers, or the gpu queue's (CUDA core). */
export type SpectralQueue = 'cpu' | 'gpu';

export interface RoutedBatch {
  queue: SpectralQueue;
  layers: LayerPlan[];
}

/** The smaller side of the matrices a layer's eigenvalues come from (conv: one cin×cout per position). */
export function layerMinDim(layer: LayerPlan): number {
  return layerMatrices(layer).short;
}

export interface RouteOptions {
  /** Batch budget of the cpu batches (planLayerBatches). */
  budgetFlops?: number;
  /** Whether gpu-queue workers serve spectral batches (the sweep asked Temporal when it started). */
  gpu: boolean;
  /** Layers whose matrices are at least this large on their smaller side go to the gpu queue. */
  gpuMinDim?: number;
}

/**
 * Small layers of one shape that go to the gpu queue together from this many on: there the batched
 * eigensolver takes them in one device call (activities/same-shape.ts); fewer stay on cpu.
 */
export const GPU_SAME_SHAPE_MIN_LAYERS = 8;

/** Same-shape groups of dense 2-D layers, in chunks a batch may hold (layers and bytes). */
function sameShapeChunks(layers: readonly LayerPlan[]): LayerPlan[][] {
  const chunks: LayerPlan[][] = [];
  let current: LayerPlan[] = [];
  let bytes = 0;
  for (const layer of layers) {
    if (
      current.length >= MAX_LAYERS_PER_BATCH ||
      (current.length > 0 && bytes + layer.byteLength > MAX_BATCH_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(layer);
    bytes += layer.byteLength;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The layers' activities and their queues. With gpu workers: every layer from `gpuMinDim` on (the
 * size from which the CUDA core beats the CPU, lib/linalg/thresholds.ts) is an activity of its own
 * on the gpu queue; small dense layers of a shape that occurs GPU_SAME_SHAPE_MIN_LAYERS times or
 * more go there together, for the batched solver; the rest are batched for the cpu queue as
 * planLayerBatches does. Without gpu workers everything is on cpu, exactly planLayerBatches'
 * batches. Order within a queue is kept.
 */
export function planLayerRoutes(layers: readonly LayerPlan[], options: RouteOptions): RoutedBatch[] {
  if (!options.gpu) {
    return planLayerBatches(layers, options.budgetFlops).map(
      (batch): RoutedBatch => ({ queue: 'cpu', layers: batch }),
    );
  }
  const minDim = options.gpuMinDim ?? CUDA_MIN_DIM;
  const large = layers.filter((layer) => layerMinDim(layer) >= minDim);
  const small = layers.filter((layer) => layerMinDim(layer) < minDim);
  const byShape = new Map<string, LayerPlan[]>();
  for (const layer of small) {
    if (layer.shape.length !== 2 || layer.layerType === 'conv2d') continue;
    const key = layer.shape.join('x');
    byShape.set(key, [...(byShape.get(key) ?? []), layer]);
  }
  const grouped = [...byShape.values()].filter((group) => group.length >= GPU_SAME_SHAPE_MIN_LAYERS);
  const onGpu = new Set(grouped.flat());
  return [
    ...large.map((layer): RoutedBatch => ({ queue: 'gpu', layers: [layer] })),
    ...grouped.flatMap((group) =>
      sameShapeChunks(group).map((chunk): RoutedBatch => ({ queue: 'gpu', layers: chunk })),
    ),
    ...planLayerBatches(
      small.filter((layer) => !onGpu.has(layer)),
      options.budgetFlops,
    ).map((batch): RoutedBatch => ({ queue: 'cpu', layers: batch })),
  ];
}
