/**
 * The per-layer inputs each planning method needs, computed with the library's own analyses:
 * α from the spectral analysis (lib/analyze.ts, WeightWatcher's defaults), per-layer Hessian
 * traces from lib/curvature (Hutchinson on each layer's block of a TF.js layers model) and ZeroQ's
 * KL sensitivities (zeroq.ts) on the same model.
 */
import { analyzeCheckpoint } from '../analyze.ts';
import { type CurvatureBackend, initCurvatureBackend } from '../curvature/backend.ts';
import { type DataSourceOptions, resolveBatch } from '../curvature/batch.ts';
import type { LabelledBatch } from '../curvature/hvp.ts';
import { analyzeCurvature } from '../curvature/index.ts';
import { loadLayersModelFromStorage } from '../curvature/load.ts';
import { buildCurvatureNetwork } from '../curvature/network.ts';
import type { ObjectOpener, OpenedCheckpoint } from '../formats/types.ts';
import { parseAnalysisConfig } from '../spectral/index.ts';
import type { PlanInputs, PlannedTensor } from './checkpoint.ts';
import { fp32Bops } from './cost.ts';
import { magnitudePrune } from './prune.ts';
import type { QuantScheme } from './quantize.ts';
import { alphaFromLayerRows, hawqCurvatureSettings, tracesByTensor } from './stored.ts';
import { type KlLayer, klSensitivities } from './zeroq.ts';

/** α of every layer the spectral analysis covers; the others are named with the reason. */
export async function alphaInputs(uri: string, opener: ObjectOpener): Promise<PlanInputs> {
  const report = await analyzeCheckpoint(uri, opener, parseAnalysisConfig({}));
  return alphaFromLayerRows([
    ...report.layers.map((row) => ({ name: row.name, status: 'succeeded', alpha: row.alpha, error: null })),
    ...report.skipped.map((s) => ({ name: s.layer, status: 'skipped', alpha: null, error: s.reason })),
    ...report.errors.map((e) => ({ name: e.layer, status: 'failed', alpha: null, error: e.error })),
  ]);
}

export interface TraceInputOptions {
  data: Pick<DataSourceOptions, 'data' | 'distilled' | 'random' | 'samples' | 'seed'>;
  /** A prepared labelled batch instead of `data` (e.g. calibration images of a training split). */
  batch?: { batch: LabelledBatch; source: string };
  probes: number;
  backend?: 'auto' | 'gpu' | 'wasm' | 'cpu';
  onProgress?: (line: string) => void;
}

/**
 * The curvature backend, the TF.js model at `modelUri` and the batch to measure it on:
 * `options.batch`, or one resolved from `options.data` (`onProgress` during its preparation).
 */
async function modelAndBatch(
  modelUri: string,
  opener: ObjectOpener,
  options: TraceInputOptions,
  onProgress?: (line: string) => void,
) {
  const backend = await initCurvatureBackend(options.backend ?? 'auto');
  const model = await loadLayersModelFromStorage(modelUri, opener);
  if (options.batch) return { backend, model, prepared: options.batch };
  const network = buildCurvatureNetwork(model);
  const prepared = await resolveBatch(network, { epsilon: 0, ...options.data }, opener, onProgress);
  network.dispose();
  return { backend, model, prepared };
}

/**
 * Per-layer Hessian traces of the TF.js model at `modelUri`, keyed by the layer's weight tensor
 * names ("dense_1/kernel" → the "dense_1" block; the block holds kernel and bias, so the trace per
 * parameter is Tr(H_block)/n_block).
 */
export async function traceInputs(
  modelUri: string,
  tensorNames: readonly string[],
  opener: ObjectOpener,
  options: TraceInputOptions,
): Promise<PlanInputs & { source: string; backend: CurvatureBackend['name'] }> {
  const { backend, model, prepared } = await modelAndBatch(modelUri, opener, options);
  const { batch, source } = prepared;
  const report = await analyzeCurvature(model, batch, {
    ...hawqCurvatureSettings(options.probes, options.data.seed),
    onProgress: options.onProgress,
  });
  batch.x.dispose();
  const { traces, missing } = tracesByTensor(report.layers, tensorNames, modelUri);
  return { traces, missing, source, backend: backend.name };
}

export interface KlInputOptions extends TraceInputOptions {
  bits: number[];
  scheme: QuantScheme;
  /** Per-tensor pruning counts applied before quantizing (uniform ratios for zeroq). */
  pruneCounts?: number[];
}

/**
 * ZeroQ KL sensitivities of the planned tensors of `ckpt`, measured on the TF.js model at
 * `modelUri` (the same weights) over the chosen inputs (ZeroQ-distilled, random or real).
 */
export async function klInputs(
  modelUri: string,
  ckpt: OpenedCheckpoint,
  planned: readonly PlannedTensor[],
  opener: ObjectOpener,
  options: KlInputOptions,
): Promise<PlanInputs & { source: string; backend: CurvatureBackend['name'] }> {
  const { backend, model, prepared } = await modelAndBatch(modelUri, opener, options, options.onProgress);
  const layers: KlLayer[] = [];
  for (const [i, p] of planned.entries()) {
    const data = magnitudePrune(await ckpt.readTensor(p.tensor), options.pruneCounts?.[i] ?? 0);
    layers.push({ name: p.tensor.name, shape: p.tensor.shape, channelAxis: p.channelAxis, data });
  }
  const kl = klSensitivities(model, prepared.batch.x, layers, options.bits, options.scheme);
  if (!options.batch) prepared.batch.x.dispose();
  model.dispose();
  return { kl, source: prepared.source, backend: backend.name };
}

/** FP32 BOPs of the planned tensors, from the layer output sizes of the TF.js model at `modelUri`. */
export async function bopsInputs(
  modelUri: string,
  tensorNames: readonly string[],
  opener: ObjectOpener,
): Promise<Map<string, number>> {
  await initCurvatureBackend('auto');
  const model = await loadLayersModelFromStorage(modelUri, opener);
  try {
    return fp32Bops(model, tensorNames, modelUri);
  } finally {
    model.dispose();
  }
}
