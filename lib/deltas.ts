/**
 * Fine-tune deltas (AnalysisConfig.base, WeightWatcher's base_model): each planned layer of a
 * checkpoint whose tensor the base checkpoint also has, with the same shape, is analyzed as
 * ΔW = W − W_base; the row keeps the tensor's name and adds ‖ΔW‖_F / ‖W_base‖_F
 * (`delta_norm_ratio`). Layers without such a partner are skipped with the reason.
 */
import { BadInputError } from './errors.ts';
import { readLayerWeights } from './formats/layers.ts';
import type { OpenedCheckpoint, TensorInfo } from './formats/types.ts';
import type { PlannedLayer, PlannedLayers, SkippedLayer } from './layer-plan.ts';
import type { LayerWeights } from './types.ts';

/** A planned layer and the base tensor it is compared with. */
export interface DeltaLayer extends PlannedLayer {
  baseTensor: TensorInfo;
}

/** Pair the planned layers with the base's tensors of the same name and shape; the rest are skipped. */
export function pairWithBase(
  plan: PlannedLayers,
  base: OpenedCheckpoint,
): { layers: DeltaLayer[]; skipped: SkippedLayer[] } {
  const baseTensors = new Map(base.tensors.map((t) => [t.name, t]));
  const layers: DeltaLayer[] = [];
  const skipped: SkippedLayer[] = [...plan.skipped];
  for (const layer of plan.layers) {
    const skip = (reason: string) =>
      skipped.push({ layerId: layer.layerId, name: layer.name, layerType: layer.layerType, reason });
    const tensor = layer.mapped.tensor;
    if (layer.mapped.lora) {
      skip('LoRA module: --base compares full weights (the adapter already is a ΔW)');
      continue;
    }
    const baseTensor = baseTensors.get(tensor.name);
    if (!baseTensor) {
      skip(`not in the base checkpoint ${base.uri}`);
      continue;
    }
    if (baseTensor.shape.join(',') !== tensor.shape.join(',')) {
      skip(`shape [${tensor.shape.join(', ')}] differs from the base's [${baseTensor.shape.join(', ')}]`);
      continue;
    }
    layers.push({ ...layer, baseTensor });
  }
  skipped.sort((a, b) => a.layerId - b.layerId);
  return { layers, skipped };
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
  if (weights.data.length !== baseWeights.data.length) {
    throw new BadInputError(`decoded ${weights.data.length} values, the base ${baseWeights.data.length}`, {
      file: ckpt.uri,
      layer: layer.name,
    });
  }
  const delta = new Float64Array(weights.data.length);
  let deltaSquares = 0;
  let baseSquares = 0;
  for (let i = 0; i < delta.length; i++) {
    const b = baseWeights.data[i]!;
    const d = weights.data[i]! - b;
    delta[i] = d;
    deltaSquares += d * d;
    baseSquares += b * b;
  }
  return {
    name: weights.name,
    layerType: weights.layerType,
    shape: weights.shape,
    data: delta,
    deltaNormRatio: baseSquares > 0 ? Math.sqrt(deltaSquares / baseSquares) : null,
  };
}
