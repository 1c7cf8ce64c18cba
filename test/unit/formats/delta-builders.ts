/**
 * Synthetic fine-tune/base pairs for the delta tests (analyze --base locally, sweep --base through
 * the stack): a gaussian base and a fine-tune whose per-tensor update W − W_base has a planted ESD
 * exponent, plus tensors that cannot pair (another shape; absent from the base).
 */
import { gaussian, matrixWithSingularValues, seededRandom } from '../linalg/known-spectrum.ts';
import { buildSafetensors } from './builders.ts';
import { paretoSingularValues } from './moe-builders.ts';

export const DELTA_ROWS = 400;
export const DELTA_COLS = 200;
/** Planted ESD exponent of each paired tensor's ΔW. */
export const PLANTED_DELTA_ALPHAS: Readonly<Record<string, number>> = {
  'layers.0.q.weight': 2.5,
  'layers.1.q.weight': 4.0,
};

export interface DeltaTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

function gaussianMatrix(seed: number, scale: number, length = DELTA_ROWS * DELTA_COLS): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => scale * gaussian(random));
}

/**
 * A base (seeded by `baseSeed`) and the fine-tune of the default base: ΔW of the paired tensors
 * has the planted exponents only against the default base (baseSeed 10); another seed is another
 * base of the same shapes. `head.weight` differs in shape, `extra.weight` is only in the fine-tune.
 */
export function deltaPair(baseSeed = 10): {
  base: DeltaTensor[];
  tuned: DeltaTensor[];
  baseBytes: Uint8Array;
  tunedBytes: Uint8Array;
} {
  const shape = [DELTA_ROWS, DELTA_COLS];
  const names = Object.keys(PLANTED_DELTA_ALPHAS);
  const original = names.map((name, i) => ({ name, shape, data: gaussianMatrix(10 + i, 1) }));
  const tuned = original.map(({ name, data }, i) => {
    const delta = matrixWithSingularValues(
      DELTA_ROWS,
      DELTA_COLS,
      paretoSingularValues(DELTA_COLS, PLANTED_DELTA_ALPHAS[name]!, 40 + i),
      50 + i,
      3,
    );
    return { name, shape, data: Float32Array.from(data, (v, k) => v + delta[k]!) };
  });
  const base =
    baseSeed === 10
      ? original
      : names.map((name, i) => ({ name, shape, data: gaussianMatrix(baseSeed + i, 1) }));
  const baseBytes = buildSafetensors([
    ...base,
    { name: 'head.weight', shape: [DELTA_COLS, 64], data: gaussianMatrix(3, 1, DELTA_COLS * 64) },
  ]);
  const tunedBytes = buildSafetensors([
    ...tuned,
    { name: 'head.weight', shape: [DELTA_COLS, 100], data: gaussianMatrix(4, 1, DELTA_COLS * 100) },
    { name: 'extra.weight', shape: [DELTA_COLS, 100], data: gaussianMatrix(5, 1, DELTA_COLS * 100) },
  ]);
  return { base, tuned, baseBytes, tunedBytes };
}

/** ‖W − W_base‖_F / ‖W_base‖_F of two equal-length tensors. */
export function deltaNormRatio(weights: Float32Array, base: Float32Array): number {
  let deltaSquares = 0;
  let baseSquares = 0;
  base.forEach((b, k) => {
    deltaSquares += (weights[k]! - b) ** 2;
    baseSquares += b * b;
  });
  return Math.sqrt(deltaSquares / baseSquares);
}
