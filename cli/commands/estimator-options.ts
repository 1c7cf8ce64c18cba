/** `--estimators` / `--hill-xmin` / `--above-max-n`, shared by analyze and sweep. */
import { ESTIMATORS, parseAnalysisConfig } from '../../lib/spectral/config.ts';
import type { AnalysisConfig } from '../../lib/spectral/index.ts';

export const ESTIMATORS_HELP = `extra estimators, comma-separated: ${ESTIMATORS.join(', ')} (alpha_hill, alpha_farms, detX/ERG columns, trap_severity; traps needs --randomize in the config)`;

export const ABOVE_MAX_N_HELP =
  'layers with N above max_N: skip (default, as WeightWatcher) or gram (a tall 2-D matrix analyzed through WᵀW summed from streamed row blocks)';

/** The config with the flags applied over it (flags win over a --config file). */
export function withEstimatorFlags(
  config: AnalysisConfig,
  flags: { estimators?: string; hillXmin?: string; aboveMaxN?: string },
): AnalysisConfig {
  if (flags.estimators === undefined && flags.hillXmin === undefined && flags.aboveMaxN === undefined)
    return config;
  return parseAnalysisConfig({
    ...config,
    estimators: flags.estimators ?? config.estimators,
    hillXmin: flags.hillXmin ?? config.hillXmin,
    aboveMaxN: flags.aboveMaxN ?? config.aboveMaxN,
  });
}
