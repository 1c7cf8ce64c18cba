/**
 * One layer end to end: WeightWatcher's size filter from the shape alone (`layerFilter`), and
 * `analyzeLayer`: ESD → power-law fit (per the config) → norm metrics → optional MP fit and
 * randomized ESD → one `details` row.
 */
import { BadInputError } from '../errors.ts';
import type { EigenBackend } from '../linalg/index.ts';
import { CHECKPOINT_METRICS } from '../metrics/registry.ts';
import { seededRandom } from '../random.ts';
import type { LayerType, LayerWeights } from '../types.ts';
import { checkWeights, layerEsd, layerGeometry, type SolvedMatrix } from './esd.ts';
import { estimatorColumns } from './estimators.ts';
import { fitClipXmax, fitXminPeak } from './fingers.ts';
import { fitPowerLawPackage, fitPowerLawWW, type PowerLawFit } from './fit.ts';
import { alphaFlags, formatWarning, type LayerFlag } from './flags.ts';
import { fitMarchenkoPastur } from './mp.ts';
import { normMetrics } from './norms.ts';
import { jensenShannonDistance, seedFromName, shuffledCopy } from './randomize.ts';
import { fitTruncatedPowerLaw } from './tpl.ts';
import type { AnalysisConfig, LayerAnalysis, LayerMetrics } from './types.ts';

/** Eigenvalues at or below this are left out of the power-law fit (absolute, as WeightWatcher). */
export const EVALS_THRESHOLD = 1e-5;
/** Layers with fewer components than this get 5 pooled randomized replicas. */
const FEW_COMPONENTS = 100;

/** `gram`: analyze through the streamed small-side Gram matrix (N above max_N, aboveMaxN 'gram'). */
export type LayerDecision = { analyze: true; gram?: true } | { analyze: false; reason: string };

/** WeightWatcher's `layer_supported` size filters plus the `layers` regex, from the shape alone. */
export function layerFilter(
  name: string,
  layerType: LayerType,
  shape: readonly number[],
  config: AnalysisConfig,
): LayerDecision {
  if (config.layers !== null && !new RegExp(config.layers).test(name)) {
    return { analyze: false, reason: `name does not match --layers ${config.layers}` };
  }
  const geometry = layerGeometry(layerType, shape);
  if ('reason' in geometry) return { analyze: false, reason: geometry.reason };
  const components = geometry.M * geometry.rf;
  if (components < config.minEvals) {
    return {
      analyze: false,
      reason: `too few eigenvalues: M·rf = ${components} < min_evals ${config.minEvals}`,
    };
  }
  if (components > config.maxEvals) {
    return {
      analyze: false,
      reason: `too many eigenvalues: M·rf = ${components} > max_evals ${config.maxEvals}`,
    };
  }
  if (geometry.N > config.maxN) return aboveMaxN(layerType, shape, geometry.N, config);
  return { analyze: true };
}

/** WeightWatcher skips N > max_N; with aboveMaxN 'gram' a tall 2-D dense/embedding matrix is analyzed. */
function aboveMaxN(
  layerType: LayerType,
  shape: readonly number[],
  N: number,
  config: AnalysisConfig,
): LayerDecision {
  const reason = `N = ${N} > max_N ${config.maxN}`;
  if (config.aboveMaxN !== 'gram') return { analyze: false, reason };
  if (layerType !== 'dense' && layerType !== 'embedding') {
    return { analyze: false, reason: `${reason} (--above-max-n gram takes dense and embedding matrices)` };
  }
  if (shape[0]! < shape[1]!) {
    return {
      analyze: false,
      reason: `${reason} (--above-max-n gram streams whole rows, so it needs the long side first, not [${shape.join(', ')}])`,
    };
  }
  return { analyze: true, gram: true };
}

export interface AnalyzeLayerOptions {
  /** Eigen-solver backend ('auto' = native addon when built). */
  backend?: EigenBackend;
  /** The layer's squared singular values, already solved with others of its shape (solveSameShape). */
  solved?: SolvedMatrix;
}

interface FitColumns {
  fit: PowerLawFit | null;
  xmaxColumn: number;
  extra: Record<string, number | string | null>;
}

/** The configured fit on the ascending fit data (eigenvalues > 1e-5). */
function runFit(data: Float64Array, evalCount: number, config: AnalysisConfig): FitColumns {
  const usesTpl = config.fit === 'tpl' || config.fit === 'e_tpl';
  const xminPeak = config.fixFingers === 'xmin_peak' || config.fit === 'e_tpl';
  const extra: Record<string, number | string | null> = {};
  let fit: PowerLawFit | null;
  // Fits through the `powerlaw` package leave WeightWatcher's xmax column empty (NaN → null in JSON).
  let packageFit = false;
  if (xminPeak) {
    fit = fitXminPeak(data, config.xminMax);
    packageFit = true;
  } else if (config.fixFingers === 'clip_xmax') {
    const clipped = fitClipXmax(data, evalCount, config.maxFingers, config.fingerThresh);
    fit = clipped?.fit ?? null;
    extra.num_fingers = clipped ? clipped.numFingers : 0;
    extra.raw_alpha = clipped ? clipped.rawAlpha : -1;
  } else if (usesTpl) {
    fit = fitPowerLawPackage(data);
    packageFit = true;
  } else {
    fit = fitPowerLawWW(data);
  }
  if (fit && Number.isNaN(fit.alpha)) fit = null;
  if (usesTpl) {
    extra.Lambda = -1;
    if (fit) {
      const tpl = fitTruncatedPowerLaw(data.subarray(fit.xminIndex), fit.xmin);
      fit = { ...fit, alpha: tpl.alpha };
      extra.Lambda = tpl.Lambda;
    }
  }
  return { fit, xmaxColumn: fit && !packageFit ? fit.xmax : Number.NaN, extra };
}

/**
 * Analyze one layer (canonical layout, see lib/types.ts). Throws BadInputError naming the layer for
 * NaN/Inf or all-zero weights, a shape the filter rejects, or too few eigenvalues to fit.
 */
export async function analyzeLayer(
  weights: LayerWeights,
  config: AnalysisConfig,
  layerId: number,
  options: AnalyzeLayerOptions = {},
): Promise<LayerAnalysis> {
  const started = performance.now();
  const context = { layer: weights.name };
  const geometry = layerGeometry(weights.layerType, weights.shape);
  if ('reason' in geometry) throw new BadInputError(geometry.reason, context);
  const components = geometry.M * geometry.rf;
  if (components < config.minEvals) {
    throw new BadInputError(`too few eigenvalues (${components} < min_evals ${config.minEvals})`, context);
  }
  if (weights.gram) {
    // Checked while the row blocks stream (lib/gram-weights.ts); no entries are held to permute.
    if (config.randomize || config.estimators.includes('farms')) {
      throw new BadInputError(
        `${config.randomize ? 'randomize' : 'the farms estimator'} needs the matrix entries, which a layer analyzed through its Gram matrix (--above-max-n gram) does not hold`,
        context,
      );
    }
  } else checkWeights(weights);
  const esdOptions = {
    backend: options.backend,
    single: config.precision === 'f32',
    conv2dNorm: config.conv2dNorm,
  };
  const esd = await layerEsd(weights, geometry, { ...esdOptions, solved: options.solved });
  const evals = esd.evals;
  // evals ascend, so the values above the threshold are a suffix.
  const firstAbove = evals.findIndex((v) => v > EVALS_THRESHOLD);
  const fitData = firstAbove < 0 ? new Float64Array(0) : evals.subarray(firstAbove);
  rejectDegenerateSpectrum(weights, evals, fitData, config);
  const { fit, xmaxColumn, extra } = runFit(fitData, evals.length, config);
  const alpha = fit ? fit.alpha : -1;
  let numPlSpikes = -1;
  if (fit) {
    numPlSpikes = 0;
    for (const v of evals) if (v >= fit.xmin) numPlSpikes++;
  }
  const norms = normMetrics(evals, alpha, geometry.N);
  const deltaNormRatio = esd.deltaNormRatio !== undefined ? esd.deltaNormRatio : weights.deltaNormRatio;
  const metrics: LayerMetrics = {
    layer_id: layerId,
    name: weights.name,
    layer_type: weights.layerType,
    N: geometry.N,
    M: geometry.M,
    Q: geometry.M === 0 ? -1 : geometry.N / geometry.M,
    rf: geometry.rf,
    num_evals: evals.length,
    alpha,
    alpha_weighted: norms.alpha_weighted,
    D: fit ? fit.D : -1,
    sigma: fit ? fit.sigma : -1,
    xmin: fit ? fit.xmin : -1,
    xmax: fit ? xmaxColumn : Number.NaN,
    lambda_max: evals[evals.length - 1]!,
    num_pl_spikes: numPlSpikes,
    norm: norms.norm,
    log_norm: norms.log_norm,
    spectral_norm: norms.spectral_norm,
    log_spectral_norm: norms.log_spectral_norm,
    log_alpha_norm: norms.log_alpha_norm,
    stable_rank: norms.stable_rank,
    matrix_rank: norms.matrix_rank,
    entropy: norms.entropy,
    mp_softrank: null,
    num_spikes: null,
    sigma_mp: null,
    rand_distance: null,
    ww_softrank: null,
    max_rand_eval: null,
    warning: '',
    status: fit ? 'success' : 'failed',
    sv_max: esd.sv_max,
    sv_min: esd.sv_min,
    rank_loss: esd.rank_loss,
    weak_rank_loss: esd.weak_rank_loss,
    ...(weights.lora ? { lora_rank: weights.lora.rank, lora_scale: weights.lora.scale } : {}),
    ...(deltaNormRatio !== undefined ? { delta_norm_ratio: deltaNormRatio } : {}),
    ...(weights.gram ? { above_max_n: 'gram' } : {}),
    ...(weights.tiedWith ? { tied_with: weights.tiedWith.join(', ') } : {}),
    ...extra,
  };
  const flags: LayerFlag[] = alphaFlags(alpha);
  if (config.mpFit) Object.assign(metrics, safeMpFit(evals, geometry.N, geometry.M, ''));
  let randomizedEigenvalues: Float64Array | undefined;
  if (config.randomize) {
    const random = seededRandom(seedFromName(weights.name));
    const permute = (m: Float32Array | Float64Array) => shuffledCopy(m, random);
    const replicas = components < FEW_COMPONENTS ? 5 : 1;
    const pooled: number[] = [];
    for (let r = 0; r < replicas; r++) {
      const replica = await layerEsd(weights, geometry, { ...esdOptions, permute });
      pooled.push(...replica.evals);
    }
    randomizedEigenvalues = Float64Array.from(pooled).sort();
    const second = (await layerEsd(weights, geometry, { ...esdOptions, permute })).evals;
    const lambdaMax = evals[evals.length - 1]!;
    const secondMax = second[second.length - 1]!;
    metrics.max_rand_eval = randomizedEigenvalues[randomizedEigenvalues.length - 1]!;
    metrics.rand_distance = jensenShannonDistance(evals, second);
    metrics.ww_softrank = secondMax / lambdaMax;
    metrics.ww_maxdist = lambdaMax - secondMax;
    Object.assign(metrics, safeMpFit(randomizedEigenvalues, geometry.N, geometry.M, 'rand_'));
    const traps = metrics.rand_num_spikes;
    if (typeof traps === 'number' && traps > 0) {
      metrics.num_traps = traps;
      flags.push('correlation-trap');
    } else metrics.num_traps = traps ?? null;
  }
  metrics.warning = formatWarning(flags);
  rejectNonFiniteSummaryMetrics(metrics);
  if (config.estimators.length > 0) {
    const inputs = { weights, evals, metrics, randomizedEigenvalues, backend: options.backend };
    Object.assign(metrics, await estimatorColumns(config, inputs));
  }
  return {
    metrics,
    eigenvalues: evals,
    randomizedEigenvalues,
    durationMs: performance.now() - started,
    eigenBackend: esd.backend,
  };
}

/** MP fit columns (prefixed), all −1 when the fit throws — as WeightWatcher reports failures. */
function safeMpFit(evals: Float64Array, N: number, M: number, prefix: '' | 'rand_'): Record<string, number> {
  const names = ['num_spikes', 'sigma_mp', 'mp_softrank', 'W_scale', 'bulk_max', 'bulk_min'] as const;
  let values: Record<(typeof names)[number], number>;
  try {
    values = fitMarchenkoPastur(evals, N, M);
  } catch {
    values = { num_spikes: -1, sigma_mp: -1, mp_softrank: -1, W_scale: -1, bulk_max: -1, bulk_min: -1 };
  }
  const out: Record<string, number> = {};
  for (const name of names) out[`${prefix}${name}`] = values[name];
  return out;
}

/**
 * The eigenvalues of all (to this relative spread) equal singular values: a multiple of an
 * orthogonal matrix, whose flat ESD has no tail (WeightWatcher 0.7.7 reports α = ∞ for an exact
 * one and α ≈ 5e7 once float32 rounding spreads them by ~1e-7).
 */
export const FLAT_SPECTRUM_SPREAD = 1e-3;

/**
 * Spectra no power law can describe are per-layer bad input, not a `success` row with ∞/NaN
 * metrics that would poison the model's means: eigenvalues that overflowed (W·Wᵀ of values ≥ ~1e154
 * in float64, ≥ ~1e19 in float32 arithmetic) and flat spectra (orthogonal matrices up to scale).
 */
function rejectDegenerateSpectrum(
  weights: LayerWeights,
  evals: Float64Array,
  fitData: Float64Array,
  config: AnalysisConfig,
): void {
  const context = { layer: weights.name };
  if (evals.some((v) => !Number.isFinite(v))) {
    let largest = 0;
    for (const v of weights.data) largest = Math.max(largest, Math.abs(v));
    throw new BadInputError(
      `eigenvalues overflow ${config.precision === 'f32' ? 'float32' : 'float64'} (largest |w| = ${largest.toPrecision(3)}: W·Wᵀ is not finite)`,
      context,
    );
  }
  if (fitData.length < 2) return;
  const low = fitData[0]!;
  const high = fitData[fitData.length - 1]!;
  if (high / low - 1 < FLAT_SPECTRUM_SPREAD) {
    throw new BadInputError(
      `degenerate spectrum: all ${fitData.length} eigenvalues equal within ${FLAT_SPECTRUM_SPREAD * 100}% (λ = ${low.toPrecision(6)}…${high.toPrecision(6)}; an orthogonal matrix up to scale has no power-law tail)`,
      context,
    );
  }
}

/** A row the summary averages must carry finite values there (the checks above should make this unreachable). */
function rejectNonFiniteSummaryMetrics(metrics: LayerMetrics): void {
  const bad = CHECKPOINT_METRICS.map((m) => m.of).filter((name) => {
    const value = metrics[name];
    return typeof value === 'number' && !Number.isFinite(value);
  });
  if (bad.length > 0) {
    const values = bad.map((name) => `${name} = ${metrics[name]}`).join(', ');
    throw new BadInputError(`degenerate spectrum: ${values}`, { layer: metrics.name });
  }
}
