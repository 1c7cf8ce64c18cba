/** The metric names alert rules may use: the summarized WeightWatcher columns, and per-checkpoint counts. */
import { SUMMARY_COLUMNS } from '../spectral/summary.ts';
import type { AlertVocabulary } from './rules.ts';

export const CHECKPOINT_COUNTS = [
  'layers_analyzed',
  'layers_failed',
  'over_trained',
  'under_trained',
  'correlation_traps',
] as const;

export const alertVocabulary: AlertVocabulary = {
  layer: SUMMARY_COLUMNS,
  checkpoint: [...SUMMARY_COLUMNS, ...CHECKPOINT_COUNTS],
};
