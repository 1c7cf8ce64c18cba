/**
 * The spectral core's public surface (the contract in docs/CONTRIBUTING.md): configuration, the
 * per-layer filter and analysis, and the model summary. Everything else in lib/spectral is internal.
 */
export { defaultAnalysisConfig, hashAnalysisConfig, parseAnalysisConfig } from './config.ts';
export { type SolvedMatrix, solveSameShape } from './esd.ts';
export {
  type AnalyzeLayerOptions,
  analyzeLayer,
  EVALS_THRESHOLD,
  type LayerDecision,
  layerFilter,
} from './layer.ts';
export { SUMMARY_COLUMNS, summarizeLayers } from './summary.ts';
export type * from './types.ts';
