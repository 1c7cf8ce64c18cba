import { describe, expect, it } from 'vitest';
import {
  loadNativeLinalg,
  squaredSingularValues,
  squaredSingularValuesTs,
} from '../../../lib/linalg/index.ts';
import { symmetricEigenvalues } from '../../../lib/linalg/tridiagonal.ts';
import { seededRandom } from '../../../lib/random.ts';
import { prerequisite } from '../../prerequisites.ts';
import { gaussian, matrixWithSingularValues } from './known-spectrum.ts';

/** Max |computed − expected| / max(expected): the norm-wise relative error LAPACK also guarantees. */
function maxRelativeError(computed: Float64Array, expected: number[]): number {
  const sorted = [...expected].sort((x, y) => x - y);
  const scale = Math.max(...sorted);
  let worst = 0;
  sorted.forEach((value, i) => {
    worst = Math.max(worst, Math.abs(computed[i]! - value) / scale);
  });
  return worst;
}

describe('symmetricEigenvalues', () => {
  it('solves a 2×2 and a diagonal matrix exactly', () => {
    const pair = symmetricEigenvalues(Float64Array.from([2, 1, 1, 2]), 2);
    expect(pair[0]).toBeCloseTo(1, 14);
    expect(pair[1]).toBeCloseTo(3, 14);
    const diag = new Float64Array(16);
    [4, -1, 7, 0].forEach((v, i) => {
      diag[i * 4 + i] = v;
    });
    expect(Array.from(symmetricEigenvalues(diag, 4))).toEqual([-1, 0, 4, 7]);
  });

  it('finds the spectrum of the 1-D Laplacian (known closed form)', () => {
    const n = 50;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i + 1 < n) {
        a[i * n + i + 1] = -1;
        a[(i + 1) * n + i] = -1;
      }
    }
    const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    expect(maxRelativeError(symmetricEigenvalues(a, n), expected)).toBeLessThan(1e-13);
  });
});

describe('squaredSingularValues (TypeScript path)', () => {
  const cases: [number, number][] = [
    [60, 40],
    [40, 60],
    [33, 33],
    [1, 7],
  ];
  for (const [rows, cols] of cases) {
    it(`recovers a prescribed spectrum of a ${rows}×${cols} matrix to 1e-10·λmax`, () => {
      const m = Math.min(rows, cols);
      const rand = seededRandom(rows * 1000 + cols);
      // Spread over 6 decades, as trained layers do.
      const singular = Array.from({ length: m }, () => 10 ** (3 * rand() - 2));
      const w = matrixWithSingularValues(rows, cols, singular, rows + cols);
      const values = squaredSingularValuesTs(w, rows, cols);
      expect(values.length).toBe(m);
      expect(
        maxRelativeError(
          values,
          singular.map((s) => s * s),
        ),
      ).toBeLessThan(1e-10);
      // Per-eigenvalue relative error for eigenvalues within 4 decades of the top.
      const expected = singular.map((s) => s * s).sort((x, y) => x - y);
      const top = expected[m - 1]!;
      expected.forEach((lambda, i) => {
        if (lambda > 1e-4 * top) expect(Math.abs(values[i]! - lambda) / lambda).toBeLessThan(1e-10);
      });
    });
  }

  it('gives identical values in a worker thread and inline, from float32 input', async () => {
    const rand = seededRandom(7);
    const rows = 320;
    const cols = 256;
    const w = Float32Array.from({ length: rows * cols }, () => gaussian(rand));
    const inline = squaredSingularValuesTs(w, rows, cols);
    const inWorker = await squaredSingularValues(w, rows, cols, { backend: 'ts-worker' });
    expect(Array.from(inWorker)).toEqual(Array.from(inline));
    // Marchenko–Pastur sanity: mean eigenvalue of WᵀW for unit Gaussians is `rows`.
    const mean = inline.reduce((s, v) => s + v, 0) / inline.length;
    expect(Math.abs(mean / rows - 1)).toBeLessThan(0.05);
  });
});

describe.runIf(prerequisite(loadNativeLinalg() !== null, 'the native LAPACK addon (npm run build:native)'))(
  'native addon',
  () => {
    it('agrees with the TypeScript path to 1e-10·λmax for both LAPACK routes and both orientations', async () => {
      const rand = seededRandom(11);
      for (const [rows, cols] of [
        [300, 200],
        [200, 300],
      ] as const) {
        const w = Float32Array.from({ length: rows * cols }, () => gaussian(rand) * (rand() < 0.01 ? 30 : 1));
        const reference = Array.from(squaredSingularValuesTs(w, rows, cols));
        for (const backend of ['native-syevd', 'native-gesdd'] as const) {
          const values = await squaredSingularValues(w, rows, cols, { backend });
          expect(maxRelativeError(values, reference)).toBeLessThan(1e-10);
        }
        const single = await squaredSingularValues(w, rows, cols, { backend: 'native-syevd', single: true });
        expect(maxRelativeError(single, reference)).toBeLessThan(1e-4);
      }
    });
  },
);
