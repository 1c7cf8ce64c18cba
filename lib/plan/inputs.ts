/**
 * The per-layer inputs each planning method needs, computed with the library's own analyses:
 * α from the spectral analysis (lib/analyze.ts, WeightWatcher's defaults) and per-layer Hessian
 * traces from lib/curvature (Hutchinson on each layer's block of a TF.js layers model).
 */
import { analyzeCheckpoint } from '../analyze.ts';
import { type CurvatureBackend, initCurvatureBackend } from '../curvature/backend.ts';
import { type DataSourceOptions, resolveBatch } from '../curvature/batch.ts';
import { analyzeCurvature } from '../curvature/index.ts';
import { loadLayersModelFromStorage } from '../curvature/load.ts';
import { buildCurvatureNetwork } from '../curvature/network.ts';
import type { ObjectOpener } from '../formats/types.ts';
import { parseAnalysisConfig } from '../spectral/index.ts';
import type { PlanInputs } from './checkpoint.ts';

/** α of every layer the spectral analysis covers; the others are named with the reason. */
export async function alphaInputs(uri: string, opener: ObjectOpener): Promise<PlanInputs> {
  const report = await analyzeCheckpoint(uri, opener, parseAnalysisConfig({}));
  const alpha = new Map<string, number>();
  const missing = new Map<string, string>();
  for (const row of report.layers) {
    if (Number.isFinite(row.alpha)) alpha.set(row.name, row.alpha);
    else missing.set(row.name, 'α is not finite');
  }
  for (const s of report.skipped) missing.set(s.layer, `no α: ${s.reason}`);
  for (const e of report.errors) missing.set(e.layer, `no α: ${e.error}`);
  return { alpha, missing };
}

export interface TraceInputOptions {
  data: Pick<DataSourceOptions, 'data' | 'distilled' | 'random' | 'samples' | 'seed'>;
  probes: number;
  backend?: 'auto' | 'gpu' | 'wasm' | 'cpu';
  onProgress?: (line: string) => void;
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
  const backend = await initCurvatureBackend(options.backend ?? 'auto');
  const model = await loadLayersModelFromStorage(modelUri, opener);
  const network = buildCurvatureNetwork(model);
  const { batch, source } = await resolveBatch(network, { epsilon: 0, ...options.data }, opener);
  network.dispose();
  const report = await analyzeCurvature(model, batch, {
    topK: 0,
    trace: false,
    perLayer: true,
    perLayerSteps: 2,
    traceRule: 'fixed',
    traceMaxProbes: options.probes,
    seed: options.data.seed,
    onProgress: options.onProgress,
  });
  batch.x.dispose();
  const byLayer = new Map(report.layers.map((l) => [l.name, l]));
  const traces = new Map<string, { trace: number; params: number }>();
  const missing = new Map<string, string>();
  for (const name of tensorNames) {
    const layer = byLayer.get(name.split('/')[0]!);
    if (layer) traces.set(name, { trace: layer.trace, params: layer.parameters });
    else missing.set(name, `no layer block named ${name.split('/')[0]} in ${modelUri}`);
  }
  return { traces, missing, source, backend: backend.name };
}
