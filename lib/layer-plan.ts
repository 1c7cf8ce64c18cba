/**
 * The layer plan of a checkpoint, from its headers alone: map every tensor to a layer type or a
 * skip reason (lib/formats/layers.ts), bring analyzable ones to their canonical shape, and apply
 * WeightWatcher's size filters (lib/spectral's layerFilter). The CLI's local mode (lib/analyze.ts)
 * and the sweep activities (inspect plans, layer batches resolve their layers) use this one
 * function, so both skip the same tensors for the same reasons and number layers the same way.
 * A fused expert tensor plans one layer per expert (`<tensor>[<index>]`, each its own layer id); a
 * LoRA module one layer named by the module.
 */
import { expertRowName } from './formats/experts.ts';
import { canonicalShape, mapTensors } from './formats/layers.ts';
import type { MappedTensor, OpenedCheckpoint } from './formats/types.ts';
import { layerFilter } from './spectral/index.ts';
import type { AnalysisConfig } from './spectral/types.ts';
import type { LayerType } from './types.ts';

/** A layer to analyze. */
export interface PlannedLayer {
  /**
   * Position of the tensor in the checkpoint (WeightWatcher's layer_id); each expert of a fused
   * expert tensor takes the next id, so ids stay unique per row (and unchanged without experts).
   */
  layerId: number;
  /** The row's name (the tensor's name). */
  name: string;
  layerType: LayerType;
  /** Canonical shape (see lib/types.ts LayerWeights). */
  shape: number[];
  /** Stored bytes the analysis reads. */
  byteLength: number;
  /** What readLayerWeights decodes. */
  mapped: MappedTensor;
  /** N above max_N, analyzed through its streamed Gram matrix (AnalysisConfig.aboveMaxN 'gram'). */
  gram?: true;
}

/** A tensor not analyzed by design: not a weight matrix, or outside the size filters. */
export interface SkippedLayer {
  layerId: number;
  name: string;
  /** The mapped layer type when a size filter skipped it; 'skipped' when it is no layer at all. */
  layerType: LayerType | 'skipped';
  reason: string;
}

export interface PlannedLayers {
  layers: PlannedLayer[];
  skipped: SkippedLayer[];
}

/** Plan every tensor of `ckpt` under `config` (checkpoint order). Reads nothing. */
export function planLayers(ckpt: OpenedCheckpoint, config: AnalysisConfig): PlannedLayers {
  const layers: PlannedLayer[] = [];
  const skipped: SkippedLayer[] = [];
  let extraIds = 0;
  mapTensors(ckpt).forEach((mapped, position) => {
    const layerId = position + extraIds;
    const name = mapped.tensor.name;
    if (!mapped.analyzed || mapped.layerType === 'skipped') {
      skipped.push({ layerId, name, layerType: 'skipped', reason: mapped.reason ?? 'not a weight matrix' });
      return;
    }
    const layerType = mapped.layerType;
    const shape = canonicalShape(mapped, ckpt.format);
    const decision = layerFilter(name, layerType, shape, config);
    if (!decision.analyze) {
      skipped.push({ layerId, name, layerType, reason: decision.reason });
      return;
    }
    if (mapped.experts) {
      const count = mapped.experts.count;
      const byteLength = Math.ceil(mapped.tensor.byteLength / count);
      for (let index = 0; index < count; index++) {
        layers.push({
          layerId: layerId + index,
          name: expertRowName(name, index),
          layerType,
          shape,
          byteLength,
          mapped: { ...mapped, experts: { count, index } },
        });
      }
      extraIds += count - 1;
      return;
    }
    if (mapped.lora) {
      // A LoRA module's row is named by the module and reads both factors.
      const { a, b, module } = mapped.lora;
      const byteLength = (a?.byteLength ?? 0) + (b?.byteLength ?? 0);
      layers.push({ layerId, name: module, layerType, shape, byteLength, mapped });
      return;
    }
    const layer: PlannedLayer = {
      layerId,
      name,
      layerType,
      shape,
      byteLength: mapped.tensor.byteLength,
      mapped,
    };
    if (decision.gram) layer.gram = true;
    layers.push(layer);
  });
  return { layers, skipped };
}
