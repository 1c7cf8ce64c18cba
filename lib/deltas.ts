/**
 * Fine-tune deltas (AnalysisConfig.base, WeightWatcher's base_model): each planned layer of a
 * checkpoint whose tensor the base checkpoint also has, with the same shape, is analyzed as
 * ΔW = W − W_base; the row keeps the tensor's name and adds ‖ΔW‖_F / ‖W_base‖_F
 * (`delta_norm_ratio`). Layers without such a partner are skipped with the reason.
 *
 * A LoRA adapter already is a ΔW: its `lora` rows (named by the module) stay as they are, and each
 * module whose base weight `<module>.weight` has ΔW's shape adds a `lora_merged` row of the merged
 * W_base + ΔW, named `<module>.weight` — the name that tensor has in the merged model, so the row
 * matches a plain analysis of the merged checkpoint. Merged rows take layer ids after every other
 * row, so the ids of the other rows do not change.
 *
 * The local analysis (lib/analyze.ts) and the sweep activities (inspect, layer batches) plan and
 * read through `planLayersAgainstBase` / `readPlannedWeights`, so both compute the same rows.
 */
import { BadInputError } from './errors.ts';
import { discoverCheckpoints } from './formats/discover.ts';
import { readLayerWeights } from './formats/layers.ts';
import type { ObjectOpener, OpenedCheckpoint, TensorInfo } from './formats/types.ts';
import { gramWeights } from './gram-weights.ts';
import { type PlannedLayer, type PlannedLayers, planLayers, type SkippedLayer } from './layer-plan.ts';
import type { AnalysisConfig } from './spectral/types.ts';
import type { LayerWeights } from './types.ts';

/** A planned layer and the base tensor it is compared with (ΔW) or merged into (W_base + ΔW). */
export interface DeltaLayer extends PlannedLayer {
  baseTensor: TensorInfo;
}

export function isDeltaLayer(layer: PlannedLayer): layer is DeltaLayer {
  return 'baseTensor' in layer;
}

/** The checkpoint `--base` names (a file, or a directory/prefix holding exactly one) and its content hash. */
export async function resolveBaseCheckpoint(
  base: string,
  opener: ObjectOpener,
): Promise<{ uri: string; contentHash: string }> {
  const found = await discoverCheckpoints(base, opener);
  if (found.length !== 1) {
    throw new BadInputError(`--base must name one checkpoint, found ${found.length}`, { file: base });
  }
  return { uri: found[0]!.uri, contentHash: found[0]!.contentHash };
}

/**
 * Check that the base named by `config` still has the content the analysis was configured with
 * (`baseContentHash`, set by the CLI): results are keyed by it, so a base overwritten in place
 * must not be compared under the old key. No-op without a base or a recorded hash.
 */
export async function checkBaseContent(config: AnalysisConfig, opener: ObjectOpener): Promise<void> {
  if (!config.base || !config.baseContentHash) return;
  const { contentHash } = await resolveBaseCheckpoint(config.base, opener);
  if (contentHash !== config.baseContentHash) {
    throw new BadInputError(
      `the base checkpoint changed since the analysis was configured (content ${contentHash.slice(0, 12)}, ` +
        `configured ${config.baseContentHash.slice(0, 12)}); start it again to compare against the new base`,
      { file: config.base },
    );
  }
}

/** The layer plan of `ckpt` under `config`, paired with `base`'s tensors when there is a base. */
export function planLayersAgainstBase(
  ckpt: OpenedCheckpoint,
  base: OpenedCheckpoint | undefined,
  config: AnalysisConfig,
): PlannedLayers {
  const planned = planLayers(ckpt, config);
  return base ? pairWithBase(planned, base) : planned;
}

/** Pair the planned layers with the base's tensors of the same name and shape; the rest are skipped. */
export function pairWithBase(plan: PlannedLayers, base: OpenedCheckpoint): PlannedLayers {
  const baseTensors = new Map(base.tensors.map((t) => [t.name, t]));
  const layers: PlannedLayer[] = [];
  const merged: DeltaLayer[] = [];
  const skipped: SkippedLayer[] = [...plan.skipped];
  let nextId = 0;
  for (const { layerId } of [...plan.layers, ...plan.skipped]) nextId = Math.max(nextId, layerId + 1);
  const sameShape = (a: readonly number[], b: readonly number[]) => a.join(',') === b.join(',');
  for (const layer of plan.layers) {
    const skip = (reason: string, name = layer.name, layerId = layer.layerId, layerType = layer.layerType) =>
      skipped.push({ layerId, name, layerType, reason });
    if (layer.mapped.lora) {
      layers.push(layer);
      const weightName = `${layer.mapped.lora.module}.weight`;
      const baseTensor = baseTensors.get(weightName);
      const layerId = nextId++;
      const skipMerged = (reason: string) =>
        skip(`merged W + ΔW: ${reason}`, weightName, layerId, 'lora_merged');
      if (!baseTensor) skipMerged(`${weightName} is not in the base ${base.uri}`);
      else if (!sameShape(baseTensor.shape, layer.shape)) {
        skipMerged(`the base's [${baseTensor.shape.join(', ')}] is not ΔW's [${layer.shape.join(', ')}]`);
      } else merged.push({ ...layer, layerId, name: weightName, layerType: 'lora_merged', baseTensor });
      continue;
    }
    const tensor = layer.mapped.tensor;
    const baseTensor = baseTensors.get(tensor.name);
    if (!baseTensor) {
      skip(`not in the base checkpoint ${base.uri}`);
      continue;
    }
    if (!sameShape(baseTensor.shape, tensor.shape)) {
      skip(`shape [${tensor.shape.join(', ')}] differs from the base's [${baseTensor.shape.join(', ')}]`);
      continue;
    }
    const paired: DeltaLayer = { ...layer, baseTensor };
    layers.push(paired);
  }
  skipped.sort((a, b) => a.layerId - b.layerId);
  return { layers: [...layers, ...merged], skipped };
}

/**
 * The weights a planned layer is analyzed on: W, W − W_base, or a LoRA module's W_base + ΔW (a
 * layer above max_N through its streamed Gram matrix), with its tied names.
 */
export async function readPlannedWeights(
  ckpt: OpenedCheckpoint,
  base: OpenedCheckpoint | undefined,
  layer: PlannedLayer,
): Promise<LayerWeights> {
  const weights = await readUntagged(ckpt, base, layer);
  if (layer.mapped.tiedWith) weights.tiedWith = layer.mapped.tiedWith;
  return weights;
}

function readUntagged(
  ckpt: OpenedCheckpoint,
  base: OpenedCheckpoint | undefined,
  layer: PlannedLayer,
): Promise<LayerWeights> {
  if (layer.gram) {
    const paired = isDeltaLayer(layer) && base ? { ckpt: base, tensor: layer.baseTensor } : undefined;
    if (isDeltaLayer(layer) && !paired) throw noBase(ckpt, layer);
    return Promise.resolve(gramWeights(ckpt, layer, { base: paired }));
  }
  if (!isDeltaLayer(layer)) return readLayerWeights(ckpt, layer.mapped);
  if (!base) throw noBase(ckpt, layer);
  return layer.layerType === 'lora_merged'
    ? readMergedWeights(ckpt, base, layer)
    : readDeltaWeights(ckpt, base, layer);
}

function noBase(ckpt: OpenedCheckpoint, layer: PlannedLayer): BadInputError {
  return new BadInputError('layer planned against a base, but no base checkpoint is open', {
    file: ckpt.uri,
    layer: layer.name,
  });
}

function checkLengths(ckpt: OpenedCheckpoint, layer: DeltaLayer, ours: number, base: number): void {
  if (ours !== base) {
    throw new BadInputError(`decoded ${ours} values, the base ${base}`, {
      file: ckpt.uri,
      layer: layer.name,
    });
  }
}

/** ‖ΔW‖_F / ‖W_base‖_F; null when the base is all zeros. */
function normRatio(delta: ArrayLike<number>, base: ArrayLike<number>): number | null {
  let deltaSquares = 0;
  let baseSquares = 0;
  for (let i = 0; i < delta.length; i++) {
    deltaSquares += delta[i]! * delta[i]!;
    baseSquares += base[i]! * base[i]!;
  }
  return baseSquares > 0 ? Math.sqrt(deltaSquares / baseSquares) : null;
}

/** ΔW = W − W_base of one paired layer (canonical layout), with ‖ΔW‖_F / ‖W_base‖_F. */
export async function readDeltaWeights(
  ckpt: OpenedCheckpoint,
  base: OpenedCheckpoint,
  layer: DeltaLayer,
): Promise<LayerWeights> {
  const [weights, baseWeights] = await Promise.all([
    readLayerWeights(ckpt, layer.mapped),
    readLayerWeights(base, { ...layer.mapped, tensor: layer.baseTensor }),
  ]);
  checkLengths(ckpt, layer, weights.data.length, baseWeights.data.length);
  const delta = new Float64Array(weights.data.length);
  for (let i = 0; i < delta.length; i++) delta[i] = weights.data[i]! - baseWeights.data[i]!;
  return {
    name: weights.name,
    layerType: weights.layerType,
    shape: weights.shape,
    data: delta,
    deltaNormRatio: normRatio(delta, baseWeights.data),
  };
}

/**
 * W_base + ΔW of a LoRA module (ΔW = scale·B·A in full, out × in like the base's torch layout),
 * with ‖ΔW‖_F / ‖W_base‖_F and the adapter's rank and scale.
 */
export async function readMergedWeights(
  ckpt: OpenedCheckpoint,
  base: OpenedCheckpoint,
  layer: DeltaLayer,
): Promise<LayerWeights> {
  const [update, baseWeights] = await Promise.all([
    readLayerWeights(ckpt, layer.mapped),
    readLayerWeights(base, { tensor: layer.baseTensor, layerType: 'dense', analyzed: true }),
  ]);
  const delta = update.lowRank ? update.lowRank.expand() : update.data;
  checkLengths(ckpt, layer, delta.length, baseWeights.data.length);
  const out = new Float64Array(delta.length);
  for (let i = 0; i < out.length; i++) out[i] = baseWeights.data[i]! + delta[i]!;
  return {
    name: layer.name,
    layerType: 'lora_merged',
    shape: update.shape,
    data: out,
    deltaNormRatio: normRatio(delta, baseWeights.data),
    ...(update.lora ? { lora: update.lora } : {}),
  };
}
