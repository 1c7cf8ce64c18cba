/**
 * Local, in-process analysis of one checkpoint (the CLI's `analyze`): open it, map its tensors,
 * filter layers by shape, analyze each one in turn with the same functions the workers call, and
 * summarize. One layer's weights are in memory at a time; a bad layer is reported, not fatal.
 */
import { errorLine } from './errors.ts';
import { openCheckpoint } from './formats/index.ts';
import { canonicalShape, mapTensors, readLayerWeights } from './formats/layers.ts';
import { readSidecarMetadata } from './formats/metadata.ts';
import type { CheckpointFormat, CheckpointMetadata, ObjectOpener } from './formats/types.ts';
import { dirname } from './formats/uri.ts';
import { analyzeLayer, layerFilter, summarizeLayers } from './spectral/index.ts';
import type { AnalysisConfig, LayerAnalysis, LayerMetrics, ModelSummary } from './spectral/types.ts';
import type { LayerType } from './types.ts';

export interface CheckpointReport {
  checkpoint: { uri: string; format: CheckpointFormat; metadata: CheckpointMetadata };
  /** WeightWatcher's get_summary() over the analyzed layers. */
  summary: ModelSummary;
  /** One WeightWatcher `details` row per analyzed layer, in checkpoint order. */
  layers: LayerMetrics[];
  /** Layers that could not be analyzed (NaN/Inf, all zeros, decode failures...). */
  errors: { layer: string; error: string }[];
  /** Tensors not analyzed by design (biases, norms, size filters), with the reason. */
  skipped: { layer: string; reason: string }[];
}

export interface AnalyzeProgress {
  /** Layers finished (analyzed or failed) out of `total` selected by the filters. */
  done: number;
  total: number;
  layer: string;
}

export interface AnalyzeCheckpointOptions {
  /** Known metadata (from discoverCheckpoints); read from sidecars next to the file otherwise. */
  metadata?: CheckpointMetadata;
  /** Called with each layer's full analysis (ESD included), e.g. to plot it, before the next layer. */
  onLayer?: (analysis: LayerAnalysis) => void | Promise<void>;
}

interface SelectedLayer {
  index: number;
  name: string;
  layerType: LayerType;
}

/**
 * Analyze every layer of the checkpoint at `uri`. Rejects (WeightlensError with the file) only when
 * the checkpoint itself cannot be opened; per-layer failures land in `errors`.
 */
export async function analyzeCheckpoint(
  uri: string,
  opener: ObjectOpener,
  config: AnalysisConfig,
  onProgress?: (progress: AnalyzeProgress) => void,
  options: AnalyzeCheckpointOptions = {},
): Promise<CheckpointReport> {
  const ckpt = await openCheckpoint(uri, opener);
  const metadata =
    options.metadata ?? (await readSidecarMetadata(dirname(uri), dirname(uri), opener).catch(() => ({})));
  const mapped = mapTensors(ckpt);
  const selected: SelectedLayer[] = [];
  const skipped: CheckpointReport['skipped'] = [];
  mapped.forEach((m, index) => {
    const name = m.tensor.name;
    if (!m.analyzed || m.layerType === 'skipped') {
      skipped.push({ layer: name, reason: m.reason ?? 'not a layer' });
      return;
    }
    const decision = layerFilter(name, m.layerType, canonicalShape(m, ckpt.format), config);
    if (decision.analyze) selected.push({ index, name, layerType: m.layerType });
    else skipped.push({ layer: name, reason: decision.reason });
  });
  const layers: LayerMetrics[] = [];
  const errors: CheckpointReport['errors'] = [];
  let done = 0;
  for (const layer of selected) {
    onProgress?.({ done, total: selected.length, layer: layer.name });
    try {
      const weights = await readLayerWeights(ckpt, mapped[layer.index]!);
      const analysis = await analyzeLayer(weights, config, layer.index);
      layers.push(analysis.metrics);
      await options.onLayer?.(analysis);
    } catch (err) {
      errors.push({ layer: layer.name, error: errorLine(err) });
    }
    done++;
  }
  onProgress?.({ done, total: selected.length, layer: '' });
  return {
    checkpoint: { uri, format: ckpt.format, metadata },
    summary: summarizeLayers(layers),
    layers,
    errors,
    skipped,
  };
}
