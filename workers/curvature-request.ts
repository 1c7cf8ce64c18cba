/**
 * A sweep's curvature request, from CLI flags or API options to the `SweepCurvature` the workflow
 * carries: one data source (data-free random inputs when none is named), defaults for the batch
 * and the methods, local .npz paths made absolute `file://` URIs (workers may run elsewhere), and
 * the configHash that keys CurvatureResult rows. Pure; no tfjs.
 */
import { curvatureConfigHash } from '../activities/curvature-config.ts';
import type { CurvatureMode, CurvatureSettings, SweepCurvature } from '../contracts/curvature.ts';
import type { DataSourceOptions } from '../lib/curvature/batch.ts';
import { BadInputError } from '../lib/errors.ts';
import { normalizeSource } from './sweep-client.ts';

export interface CurvatureRequest {
  mode: CurvatureMode;
  /** .npz URI or path with arrays x and y, or fashion-mnist | mnist (test split). */
  data?: string;
  random?: boolean;
  distilled?: boolean;
  /** Hessian batch size (default 256). */
  samples?: number;
  /** Seed of probes and data-free inputs (default 1). */
  seed?: number;
  adversarial?: 'fgsm' | 'pgd';
  /** Adversarial L∞ radius (default 0.1). */
  epsilon?: number;
  /** Method settings over `defaultSweepCurvatureSettings`. */
  settings?: CurvatureSettings;
}

/** What a sweep computes by default: the top eigenvalue and the trace (the leaderboard's columns). */
export const defaultSweepCurvatureSettings: CurvatureSettings = { topK: 1, trace: true };

const DATASETS = /^(fashion-mnist|mnist)(:test)?$/;

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new BadInputError(`curvature ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** undefined for mode 'off'; BadInputError on contradictory or invalid options. */
export function resolveSweepCurvature(
  request: CurvatureRequest,
  cwd = process.cwd(),
): SweepCurvature | undefined {
  const chosen = [request.data !== undefined, !!request.random, !!request.distilled].filter(Boolean).length;
  if (request.mode === 'off') {
    if (chosen > 0) throw new BadInputError('a curvature data source was given but --curvature is off');
    return undefined;
  }
  if (chosen > 1) {
    throw new BadInputError(
      'choose at most one of --curvature-data <uri>, --curvature-random, --curvature-distilled',
    );
  }
  const samples = request.samples ?? 256;
  const seed = request.seed ?? 1;
  const epsilon = request.epsilon ?? 0.1;
  checkCount('samples', samples, 1);
  checkCount('seed', seed, 0);
  if (!(epsilon > 0)) throw new BadInputError(`curvature epsilon must be positive, got ${epsilon}`);
  const settings: CurvatureSettings = { ...defaultSweepCurvatureSettings, ...request.settings };
  checkCount('top-k', settings.topK ?? 1, 0);
  if ((settings.topK ?? 1) === 0 && !settings.trace && !settings.density && !settings.perLayer) {
    throw new BadInputError('curvature asks for nothing: top-k 0 without trace, density or per-layer');
  }
  const data: DataSourceOptions = { samples, seed, epsilon };
  if (request.data !== undefined) {
    data.data = DATASETS.test(request.data) ? request.data : normalizeSource(request.data, cwd);
  } else if (request.distilled) {
    data.distilled = true;
  } else {
    data.random = true; // data-free by default
  }
  if (request.adversarial) data.adversarial = request.adversarial;
  return { mode: request.mode, data, settings, configHash: curvatureConfigHash(data, settings) };
}
