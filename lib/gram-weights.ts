/**
 * Layers above max_N analyzed through their Gram matrix (AnalysisConfig.aboveMaxN 'gram';
 * WeightWatcher skips them): a tall [N, M] tensor — an embedding or an LM head, N the vocabulary —
 * is read in blocks of whole rows (ranged reads where the reader has a row reader) and summed
 * into WᵀW (M×M), whose eigenvalues are W's ESD; against a base, the blocks are W − W_base.
 * Memory: M² float64 and one block per side (a reader without ranged row reads decodes the whole
 * tensor once).
 */
import { BadInputError } from './errors.ts';
import { quantizationOf } from './formats/layers.ts';
import { rowBlocks } from './formats/row-blocks.ts';
import type { OpenedCheckpoint, TensorInfo } from './formats/types.ts';
import type { PlannedLayer } from './layer-plan.ts';
import { createGramAccumulator, type StreamedGramBackend } from './linalg/streamed-gram.ts';
import { finiteMaxAbs } from './spectral/esd.ts';
import type { GramSolution, LayerWeights } from './types.ts';

/** Float64 bytes of one row block (the native path widens each block to float64). */
export const GRAM_BLOCK_BYTES = 16 * 1024 * 1024;

export interface GramReadOptions {
  /** The base tensor of a fine-tune delta (the blocks are then W − W_base). */
  base?: { ckpt: OpenedCheckpoint; tensor: TensorInfo };
  /** Rows per block (default: GRAM_BLOCK_BYTES of float64). */
  blockRows?: number;
  backend?: 'auto' | StreamedGramBackend;
}

/** The weights of a planned layer that is analyzed through its Gram matrix (nothing is read yet). */
export function gramWeights(
  ckpt: OpenedCheckpoint,
  layer: PlannedLayer,
  options: GramReadOptions = {},
): LayerWeights {
  const tensor = layer.mapped.tensor;
  const [rows, cols] = tensor.shape;
  const context = { file: tensor.uri, tensor: tensor.name, layer: layer.name };
  if (tensor.shape.length !== 2 || rows === undefined || cols === undefined || rows < cols) {
    throw new BadInputError(
      `only a 2-D tensor with its long side first is analyzed through its Gram matrix, not [${tensor.shape.join(', ')}]`,
      context,
    );
  }
  const blockRows = options.blockRows ?? Math.max(1, Math.floor(GRAM_BLOCK_BYTES / (8 * cols)));
  const weights: LayerWeights = {
    name: layer.name,
    layerType: layer.layerType,
    shape: [rows, cols],
    data: new Float32Array(0),
    gram: { solve: () => solveGram(ckpt, tensor, layer.name, blockRows, options) },
  };
  const quantization = quantizationOf(tensor);
  if (quantization) weights.quantization = quantization;
  return weights;
}

async function solveGram(
  ckpt: OpenedCheckpoint,
  tensor: TensorInfo,
  name: string,
  blockRows: number,
  options: GramReadOptions,
): Promise<GramSolution> {
  const cols = tensor.shape[1]!;
  const context = { file: tensor.uri, tensor: tensor.name, layer: name };
  const gram = createGramAccumulator(cols, options.backend);
  const ours = rowBlocks(ckpt, tensor, blockRows);
  const base = options.base;
  const theirs = base ? rowBlocks(base.ckpt, base.tensor, blockRows) : undefined;
  let maxAbs = 0;
  let element = 0;
  let deltaSquares = 0;
  let baseSquares = 0;
  for (;;) {
    const [x, y] = await Promise.all([ours.next(), theirs?.next()]);
    if (x.done) break;
    let data = x.value.data;
    if (theirs) {
      if (!y || y.done || y.value.data.length !== data.length) {
        throw new BadInputError(`the base's rows do not match at row ${x.value.start}`, context);
      }
      const delta = new Float64Array(data.length);
      for (let i = 0; i < delta.length; i++) {
        const b = y.value.data[i]!;
        delta[i] = data[i]! - b;
        deltaSquares += delta[i]! * delta[i]!;
        baseSquares += b * b;
      }
      data = delta;
    }
    maxAbs = Math.max(maxAbs, finiteMaxAbs(data, context, element));
    await gram.add(data, x.value.rows);
    element += data.length;
  }
  if (maxAbs === 0) throw new BadInputError('weights are all zero', context);
  const solution: GramSolution = { evals: await gram.eigenvalues(), backend: gram.backend };
  if (base) solution.deltaNormRatio = baseSquares > 0 ? Math.sqrt(deltaSquares / baseSquares) : null;
  return solution;
}
