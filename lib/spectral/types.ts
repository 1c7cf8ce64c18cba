/**
 * Contracts of the spectral core (issue 4). The pipeline (activities), the CLI's `analyze` and
 * the dashboard's data all speak these types. Column names follow WeightWatcher's `details`
 * exactly (snake_case), so JSON output, CSV headers and stored `metrics` match what users know.
 */
import type { LayerType } from '../types.ts';
import type { HillXminRule } from './hill.ts';

export type FitKind = 'pl' | 'tpl' | 'e_tpl';
export type FixFingers = 'xmin_peak' | 'clip_xmax';
export type Precision = 'f64' | 'f32';
/** Estimators beyond WeightWatcher's defaults, computed per layer when asked for. */
export type Estimator = 'hill' | 'farms' | 'detx' | 'traps';
/** What happens to a layer with N above max_N: WeightWatcher skips it; 'gram' analyzes it through WᵀW. */
export type AboveMaxN = 'skip' | 'gram';
export type { HillXminRule };

/** WeightWatcher's analyze() options we mirror; defaults are WeightWatcher's. */
export interface AnalysisConfig {
  minEvals: number; // 8 (WeightWatcher 0.7.7's DEFAULT_MIN_EVALS)
  maxEvals: number; // 15000
  maxN: number; // 50000
  /**
   * Layers with N > maxN: 'skip' (WeightWatcher) or 'gram' — a 2-D tensor with its long side first
   * (embeddings, LM heads) analyzed through its small-side Gram matrix, summed from streamed row
   * blocks (lib/gram-weights.ts). Part of the config hash when set.
   */
  aboveMaxN: AboveMaxN; // 'skip'
  fit: FitKind; // 'pl'
  fixFingers: FixFingers | null; // null
  xminMax: number | null;
  maxFingers: number; // 10
  fingerThresh: number; // 1.0
  randomize: boolean; // false
  mpFit: boolean; // false
  conv2dNorm: boolean; // true
  pool: boolean; // true
  precision: Precision; // 'f64'
  /** Layer-name regex filter (null = all layers). */
  layers: string | null;
  /** Extra estimators, sorted and unique ([] = none): alpha_hill, alpha_farms, detX/ERG, trap_severity. */
  estimators: Estimator[];
  /** x_min rule of alpha_hill. */
  hillXmin: HillXminRule; // 'xmin_mid'
  /**
   * A base checkpoint's URI: analyze W − W_base per tensor present in both with equal shapes
   * (WeightWatcher's base_model), null = the weights themselves. Part of the config hash when set.
   */
  base: string | null; // null
  /**
   * The base's content hash when the analysis was configured (set by the CLI's --base): part of
   * the config hash, so a base overwritten in place recomputes; the activities refuse a base whose
   * content no longer matches (lib/deltas.ts checkBaseContent).
   */
  baseContentHash: string | null; // null
}

/**
 * One row of WeightWatcher's `details`. Numeric columns that WeightWatcher leaves empty (e.g.
 * `rand_distance` without randomize) are null. `warning` is '' when there is none.
 */
export interface LayerMetrics {
  layer_id: number;
  name: string;
  layer_type: LayerType;
  N: number;
  M: number;
  Q: number;
  rf: number;
  num_evals: number;
  alpha: number;
  alpha_weighted: number;
  D: number;
  sigma: number;
  xmin: number;
  xmax: number;
  lambda_max: number;
  num_pl_spikes: number;
  norm: number;
  log_norm: number;
  spectral_norm: number;
  log_spectral_norm: number;
  log_alpha_norm: number;
  stable_rank: number;
  matrix_rank: number;
  entropy: number;
  mp_softrank: number | null;
  num_spikes: number | null;
  sigma_mp: number | null;
  rand_distance: number | null;
  ww_softrank: number | null;
  max_rand_eval: number | null;
  warning: string;
  /** Further WeightWatcher columns (e.g. TPL's Lambda, best_fit, fit status). */
  [extra: string]: number | string | null;
}

/** A layer's full result: the metrics row plus the ESD the dashboard plots. */
export interface LayerAnalysis {
  metrics: LayerMetrics;
  /** The ESD, ascending (WeightWatcher's eigenvalues, after conv2d normalization). */
  eigenvalues: Float64Array;
  /** Eigenvalues of the randomized (shuffled) matrix, when `randomize` was on. */
  randomizedEigenvalues?: Float64Array;
  durationMs: number;
  /** The eigen-solver backend that computed the ESD ('cuda', 'native-syevd', ...). */
  eigenBackend: string;
}

/** WeightWatcher's get_summary(): means of the numeric columns over analyzed layers. */
export interface ModelSummary {
  [column: string]: number | null;
}
