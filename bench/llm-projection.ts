/**
 * Projections for `npm run bench:llm`: per-matrix analysis seconds measured on the 8B shapes,
 * fitted to t(M, N) = a·M²·N + b·M³ (M ≤ N: the Gram product, then the M×M eigen-solve), and
 * applied to the decoder matrices of larger Llama shapes. Which matrices are analyzed comes from
 * lib/spectral's layerFilter under the given configuration, the same decision a sweep makes.
 */
import { layerFilter } from '../lib/spectral/index.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import { decoderLayerTensors, type LlamaShape, llamaTensors, type TensorSpec } from './llm-checkpoint.ts';

/** Mean measured analysis time of the matrices of one shape. */
export interface ShapeTiming {
  /** min(rows, cols) and max(rows, cols). */
  M: number;
  N: number;
  count: number;
  meanSeconds: number;
}

export interface CostModel {
  a: number;
  b: number;
  seconds(M: number, N: number): number;
}

const costOf = (a: number, b: number): CostModel => ({
  a,
  b,
  seconds: (M, N) => a * M * M * N + b * M * M * M,
});

function relativeResidual(model: CostModel, timings: ShapeTiming[]): number {
  return timings.reduce((sum, t) => sum + (model.seconds(t.M, t.N) / t.meanSeconds - 1) ** 2, 0);
}

/**
 * Least squares in relative error, so the small shapes count as much as the large ones. When the
 * two-term fit has a negative term (it would make some larger shape cheaper), the better of the
 * one-term fits is taken instead.
 */
export function fitCostModel(timings: ShapeTiming[]): CostModel {
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let r1 = 0;
  let r2 = 0;
  for (const t of timings) {
    const x1 = (t.M * t.M * t.N) / t.meanSeconds;
    const x2 = (t.M * t.M * t.M) / t.meanSeconds;
    s11 += x1 * x1;
    s12 += x1 * x2;
    s22 += x2 * x2;
    r1 += x1;
    r2 += x2;
  }
  const det = s11 * s22 - s12 * s12;
  if (det > 1e-9 * s11 * s22) {
    const a = (r1 * s22 - r2 * s12) / det;
    const b = (s11 * r2 - s12 * r1) / det;
    if (a >= 0 && b >= 0) return costOf(a, b);
  }
  const gram = costOf(r1 / s11, 0);
  const eigen = costOf(0, r2 / s22);
  return relativeResidual(gram, timings) <= relativeResidual(eigen, timings) ? gram : eigen;
}

/** A 2-D tensor's analysis geometry (M ≤ N). */
function geometry(t: TensorSpec): { M: number; N: number } {
  const [rows, cols] = t.shape as [number, number];
  return { M: Math.min(rows, cols), N: Math.max(rows, cols) };
}

export interface ShapePlan {
  analyzed: TensorSpec[];
  skipped: { name: string; reason: string }[];
}

/** The matrices a sweep under `config` analyzes among `tensors` (1-D norms are no layers). */
export function planTensors(tensors: TensorSpec[], config: AnalysisConfig): ShapePlan {
  const plan: ShapePlan = { analyzed: [], skipped: [] };
  for (const t of tensors) {
    if (t.shape.length !== 2) continue;
    const decision = layerFilter(t.name, 'dense', t.shape, config);
    if (decision.analyze) plan.analyzed.push(t);
    else plan.skipped.push({ name: t.name, reason: decision.reason });
  }
  return plan;
}

export interface ModelProjection {
  label: string;
  layers: number;
  matricesPerLayer: number;
  /** Short names of the matrices a layer skips, with the reason. */
  skippedPerLayer: string[];
  /** Embedding / head decisions. */
  skippedOutside: string[];
  secondsPerLayer: number;
  computeSeconds: number;
  /** Elements of the largest analyzed matrix. */
  largestElements: number;
}

function shortName(name: string): string {
  return name.replace(/^model\.layers\.\d+\./, '').replace(/\.weight$/, '');
}

/** Analysis seconds (one core) of a whole `shape` model under `config`, from `model`. */
export function projectModel(shape: LlamaShape, config: AnalysisConfig, model: CostModel): ModelProjection {
  const layer = planTensors(decoderLayerTensors(shape, 0), config);
  const outside = planTensors(
    llamaTensors(shape, 0).filter((t) => !t.name.startsWith('model.layers.')),
    config,
  );
  const secondsPerLayer = layer.analyzed.reduce((sum, t) => {
    const { M, N } = geometry(t);
    return sum + model.seconds(M, N);
  }, 0);
  const outsideSeconds = outside.analyzed.reduce((sum, t) => {
    const { M, N } = geometry(t);
    return sum + model.seconds(M, N);
  }, 0);
  const largestElements = Math.max(
    0,
    ...[...layer.analyzed, ...outside.analyzed].map((t) => t.shape[0]! * t.shape[1]!),
  );
  const skipReason = (s: { name: string; reason: string }) => `${shortName(s.name)} (${s.reason})`;
  return {
    label: shape.label,
    layers: shape.layers,
    matricesPerLayer: layer.analyzed.length,
    skippedPerLayer: layer.skipped.map(skipReason),
    skippedOutside: outside.skipped.map(skipReason),
    secondsPerLayer,
    computeSeconds: secondsPerLayer * shape.layers + outsideSeconds,
    largestElements,
  };
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
