/**
 * The eigen-solver routes behind analyzeLayer: which one 'auto' takes (dgesdd below GRAM_MIN_DIM,
 * the Gram route dsyrk+dsyevd from it on), and rank loss on each: the Gram routes (native syevd,
 * TypeScript) resolve singular values only down to ~√(N·ε)·σmax, so they count what lies below that
 * as lost, where the SVD (and WeightWatcher) counts only what lies below N·ε·σmax.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EigenBackend,
  GRAM_MIN_DIM,
  loadNativeLinalg,
  resolveBackend,
  squaredSingularValues,
} from '../../../lib/linalg/index.ts';
import { seededRandom } from '../../../lib/random.ts';
import { analyzeLayer, defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { prerequisite } from '../../prerequisites.ts';
import { gaussian } from '../linalg/known-spectrum.ts';

const native = prerequisite(loadNativeLinalg() !== null, 'the native LAPACK addon (npm run build:native)');

/** rows×cols with rank `rank`: a product of Gaussian rows×rank and rank×cols factors. */
function rankDeficient(rows: number, cols: number, rank: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const left = Float64Array.from({ length: rows * rank }, () => gaussian(rand));
  const right = Float64Array.from({ length: rank * cols }, () => gaussian(rand));
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += left[r * rank + k]! * right[k * cols + c]!;
      out[r * cols + c] = s;
    }
  }
  return out;
}

describe('eigen-solver routes', () => {
  const saved = process.env.WEIGHTLENS_EIGEN_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.WEIGHTLENS_EIGEN_BACKEND;
    else process.env.WEIGHTLENS_EIGEN_BACKEND = saved;
  });

  it("resolves 'auto' by size, and lets an explicit choice or WEIGHTLENS_EIGEN_BACKEND win", () => {
    delete process.env.WEIGHTLENS_EIGEN_BACKEND;
    const small = resolveBackend(GRAM_MIN_DIM - 1, 4 * GRAM_MIN_DIM);
    const large = resolveBackend(4 * GRAM_MIN_DIM, GRAM_MIN_DIM);
    expect(small).toBe(native ? 'native-gesdd' : 'ts-worker');
    expect(large).toBe(native ? 'native-syevd' : 'ts-worker');
    expect(resolveBackend(4 * GRAM_MIN_DIM, GRAM_MIN_DIM, 'ts')).toBe('ts');
    process.env.WEIGHTLENS_EIGEN_BACKEND = 'ts';
    expect(resolveBackend(4 * GRAM_MIN_DIM, GRAM_MIN_DIM)).toBe('ts');
  });

  const backends: EigenBackend[] = native ? ['native-gesdd', 'native-syevd', 'ts'] : ['ts'];
  const weights = { name: 'w', layerType: 'dense' as const, shape: [300, 200] };
  for (const backend of backends) {
    it(`${backend}: rank loss 50 on a layer with 50 dead (all-zero) units, none on a full-rank one`, async () => {
      const dead = rankDeficient(300, 200, 200, 5);
      for (let r = 0; r < 300; r++) for (let c = 150; c < 200; c++) dead[r * 200 + c] = 0;
      const deficient = await analyzeLayer({ ...weights, data: dead }, defaultAnalysisConfig, 1, { backend });
      expect(deficient.metrics.rank_loss).toBe(50);
      expect(deficient.metrics.sv_min).toBeGreaterThanOrEqual(0);
      const full = await analyzeLayer(
        { ...weights, data: rankDeficient(300, 200, 200, 6) },
        defaultAnalysisConfig,
        1,
        {
          backend,
        },
      );
      expect(full.metrics.rank_loss).toBe(0);
    });
  }

  // A rank-150 product rounded to float32 has 50 singular values at float32 round-off (~1e-7·σmax):
  // the SVD resolves them (WeightWatcher's rank_loss: 0); the Gram routes cannot, and count them.
  for (const backend of backends) {
    const expected = backend === 'native-gesdd' ? 0 : 50;
    it(`${backend}: rank loss ${expected} on a float32-rounded rank-150 product`, async () => {
      const product = rankDeficient(300, 200, 150, 8);
      const result = await analyzeLayer({ ...weights, data: product }, defaultAnalysisConfig, 1, { backend });
      expect(result.metrics.rank_loss).toBe(expected);
    });
  }

  it.runIf(native)('the Gram route never returns negative eigenvalues', async () => {
    const values = await squaredSingularValues(rankDeficient(300, 200, 150, 7), 300, 200, {
      backend: 'native-syevd',
    });
    expect(values.every((v) => v >= 0)).toBe(true);
  });
});
