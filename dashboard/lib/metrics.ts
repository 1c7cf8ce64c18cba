/**
 * The metric vocabulary of the dashboard: WeightWatcher column names (what users know) mapped to the
 * stored columns. Pure data, safe to import from client components.
 */

/** Summary metrics a leaderboard can rank by (CheckpointSummary columns). */
export const SUMMARY_METRICS = {
  alpha_weighted: { label: 'mean α̂ (alpha_weighted)', column: 'alphaWeighted' },
  alpha: { label: 'mean α', column: 'alpha' },
  log_norm: { label: 'mean log_norm', column: 'logNorm' },
  log_alpha_norm: { label: 'mean log_alpha_norm', column: 'logAlphaNorm' },
  log_spectral_norm: { label: 'mean log_spectral_norm', column: 'logSpectralNorm' },
  stable_rank: { label: 'mean stable_rank', column: 'stableRank' },
  mp_softrank: { label: 'mean mp_softrank', column: 'mpSoftrank' },
} as const;

export type SummaryMetric = keyof typeof SUMMARY_METRICS;

/** The summary columns in table order. */
export const SUMMARY_METRIC_NAMES = Object.keys(SUMMARY_METRICS) as SummaryMetric[];
export const DEFAULT_SUMMARY_METRIC: SummaryMetric = 'alpha_weighted';

export function isSummaryMetric(value: unknown): value is SummaryMetric {
  return typeof value === 'string' && Object.hasOwn(SUMMARY_METRICS, value);
}

/** Per-layer numeric columns (LayerResult), in WeightWatcher's `details` order. */
export const LAYER_METRICS = {
  N: 'N',
  M: 'M',
  Q: 'Q',
  rf: 'rf',
  num_evals: 'numEvals',
  alpha: 'alpha',
  alpha_weighted: 'alphaWeighted',
  D: 'D',
  xmin: 'xmin',
  xmax: 'xmax',
  lambda_max: 'lambdaMax',
  num_pl_spikes: 'numPlSpikes',
  norm: 'norm',
  log_norm: 'logNorm',
  spectral_norm: 'spectralNorm',
  log_spectral_norm: 'logSpectralNorm',
  log_alpha_norm: 'logAlphaNorm',
  stable_rank: 'stableRank',
  entropy: 'entropy',
  mp_softrank: 'mpSoftrank',
  num_spikes: 'numSpikes',
  sigma_mp: 'sigmaMp',
  rand_distance: 'randDistance',
  ww_softrank: 'wwSoftrank',
} as const;

export type LayerMetric = keyof typeof LAYER_METRICS;

/** The per-layer columns in table order. */
export const LAYER_METRIC_NAMES = Object.keys(LAYER_METRICS) as LayerMetric[];

export function isLayerMetric(value: unknown): value is LayerMetric {
  return typeof value === 'string' && Object.hasOwn(LAYER_METRICS, value);
}

/** WeightWatcher's "well-trained" α range (over-trained below, under-trained above). */
export const ALPHA_BAND = { low: 2, high: 6 } as const;
