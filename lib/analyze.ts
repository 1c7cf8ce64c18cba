/**
 * Local, in-process analysis of one checkpoint (the CLI's `analyze`): open it, plan its layers
 * (lib/layer-plan.ts, as the sweep activities do), analyze each one in turn with the same functions the workers call, and
 * summarize. One layer's weights are in memory at a time; a bad layer (decode failure, degenerate
 * spectrum) is reported in `errors` and left out of the summary, not fatal.
 */

import { checkBaseContent, planLayersAgainstBase, readPlannedWeights } from './deltas.ts';
import { errorLine } from './errors.ts';
import { openCheckpoint } from './formats/index.ts';
import { readSidecarMetadata } from './formats/metadata.ts';
import type { CheckpointFormat, CheckpointMetadata, ObjectOpener } from './formats/types.ts';
import { dirname } from './formats/uri.ts';
import { type ExpertGroupSummary, summarizeExpertGroups } from './spectral/expert-groups.ts';
import { analyzeLayer, summarizeLayers } from './spectral/index.ts';
import type { AnalysisConfig, LayerAnalysis, LayerMetrics, ModelSummary } from './spectral/types.ts';

export interface CheckpointReport {
  checkpoint: { uri: string; format: CheckpointFormat; metadata: CheckpointMetadata };
  /** WeightWatcher's get_summary() over the analyzed layers (failed layers are not in it). */
  summary: ModelSummary;
  /** α per fused expert tensor (mean and spread over its experts); empty without experts. */
  expertGroups: ExpertGroupSummary[];
  /** Layers the summary averages, and layers left out of it because they failed (as a sweep's stored summary). */
  layersAnalyzed: number;
  layersFailed: number;
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
  await checkBaseContent(config, opener);
  const base = config.base ? await openCheckpoint(config.base, opener) : undefined;
  const plan = planLayersAgainstBase(ckpt, base, config);
  const selected = plan.layers;
  const skipped: CheckpointReport['skipped'] = plan.skipped.map((s) => ({ layer: s.name, reason: s.reason }));
  const layers: LayerMetrics[] = [];
  const errors: CheckpointReport['errors'] = [];
  let done = 0;
  for (const layer of selected) {
    onProgress?.({ done, total: selected.length, layer: layer.name });
    try {
      const weights = await readPlannedWeights(ckpt, base, layer);
      // Tied weights are one row, marked with the other names (readPlannedWeights → tied_with).
      const analysis = await analyzeLayer(weights, config, layer.layerId);
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
    expertGroups: summarizeExpertGroups(layers),
    layersAnalyzed: layers.length,
    layersFailed: errors.length,
    layers,
    errors,
    skipped,
  };
}
