/**
 * The Krylov methods on dense float64 matrices with known spectra (no tfjs): Lanczos top-k, power
 * iteration with deflation, Hutchinson's stopping rules, SLQ quadrature and its broadened density,
 * and block (per-layer) operators.
 */
import { describe, expect, it } from 'vitest';
import { densityOnGrid, stochasticLanczosQuadrature } from '../../../lib/curvature/density.ts';
import { basisTrace, hutchinsonTrace } from '../../../lib/curvature/hutchinson.ts';
import { lanczos, lanczosTopEigenvalues } from '../../../lib/curvature/lanczos.ts';
import { powerIteration } from '../../../lib/curvature/power.ts';
import { symmetricEigen } from '../../../lib/curvature/symmetricEigen.ts';
import { blockOperator, denseOperator, SeededRandom } from '../../../lib/curvature/vector.ts';

/** Q diag(eigenvalues) Qᵀ with a random orthogonal Q (Gram–Schmidt of Gaussian columns). */
function matrixWithSpectrum(eigenvalues: readonly number[], seed: number): Float64Array {
  const n = eigenvalues.length;
  const rng = new SeededRandom(seed);
  const q: Float64Array[] = [];
  while (q.length < n) {
    const v = rng.gaussianVector(n);
    for (const u of q) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i]! * u[i]!;
      for (let i = 0; i < n; i++) v[i]! -= d * u[i]!;
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k]![i]! * eigenvalues[k]! * q[k]![j]!;
      m[i * n + j] = s;
    }
  return m;
}

const spectrum = Array.from({ length: 60 }, (_, i) =>
  i < 3 ? [25, 24, 10][i]! : Math.sin(i) * 2 + (i % 7 === 0 ? -1.5 : 0.1),
);
const dim = spectrum.length;
const matrix = matrixWithSpectrum(spectrum, 5);
const op = denseOperator(matrix, dim);
const sorted = [...spectrum].sort((a, b) => b - a);
const exactTrace = spectrum.reduce((a, b) => a + b, 0);

describe('Krylov methods on known spectra', () => {
  it('symmetricEigen recovers the constructed spectrum', () => {
    const values = Array.from(symmetricEigen(matrix, dim).values).reverse();
    values.forEach((v, i) => {
      expect(v).toBeCloseTo(sorted[i]!, 9);
    });
  });

  it('Lanczos finds the top 3 (including a close pair) with small residuals', async () => {
    const top = await lanczosTopEigenvalues(op, 3, { steps: 30 });
    top.values.forEach((v, i) => {
      expect(Math.abs(v - sorted[i]!) / sorted[i]!).toBeLessThan(1e-6);
    });
    top.residuals.forEach((r) => {
      expect(r).toBeLessThan(1e-3);
    });
  });

  it('Lanczos restarts after an invariant subspace (β = 0) instead of dividing by zero', async () => {
    const diag = new Float64Array(16);
    for (let i = 0; i < 4; i++) diag[i * 4 + i] = i + 1;
    const start = new Float64Array([1, 0, 0, 0]); // an eigenvector: β₁ = 0 immediately
    const run = await lanczos(denseOperator(diag, 4), { steps: 4, start });
    expect(run.beta[0]).toBe(0);
    expect([...run.alpha].sort()).toEqual(expect.arrayContaining([1]));
    const values = Array.from(symmetricEigen(diag, 4).values);
    expect(values).toEqual([1, 2, 3, 4]);
  });

  it('power iteration with deflation finds the top 2; PyHessian tol stops early on a close pair', async () => {
    const strict = await powerIteration(op, { topK: 2, maxIter: 2000, tol: 1e-10 });
    expect(Math.abs(strict.values[0]! - 25) / 25).toBeLessThan(1e-4);
    expect(Math.abs(strict.values[1]! - 24) / 24).toBeLessThan(1e-3);
    const parity = await powerIteration(op, {});
    expect(parity.iterations[0]!).toBeLessThan(100);
  });

  it('Hutchinson: fixed probes within 4 s.e.; PyHessian rule stops early; negative traces converge', async () => {
    const fixed = await hutchinsonTrace(op, { rule: 'fixed', maxProbes: 400, seed: 9 });
    expect(fixed.probes).toBe(400);
    expect(Math.abs(fixed.trace - exactTrace)).toBeLessThan(4 * fixed.standardError);
    const parity = await hutchinsonTrace(op, { seed: 9 });
    expect(parity.probes).toBeLessThan(100);
    const negative = denseOperator(
      matrix.map((x) => -x),
      dim,
    );
    const neg = await hutchinsonTrace(negative, { seed: 9 });
    expect(neg.probes).toBeLessThan(100);
    expect(neg.trace).toBeLessThan(0);
  });

  it('block operators give per-layer traces that sum to the total', async () => {
    const blocks = [
      { name: 'a', offset: 0, size: 20 },
      { name: 'b', offset: 20, size: 40 },
    ];
    const exact = await basisTrace(op, blocks);
    expect(exact.trace).toBeCloseTo(exactTrace, 9);
    expect(exact.blocks[0]!.trace + exact.blocks[1]!.trace).toBeCloseTo(exactTrace, 9);
    const blockB = blockOperator(op, 20, 40);
    expect((await basisTrace(blockB)).trace).toBeCloseTo(exact.blocks[1]!.trace, 9);
    const estimate = await hutchinsonTrace(op, { rule: 'fixed', maxProbes: 200, blocks, seed: 3 });
    expect(estimate.blocks[0]!.trace + estimate.blocks[1]!.trace).toBeCloseTo(estimate.trace, 9);
  });

  it('SLQ: weights sum to 1, moments match the spectrum, density integrates to 1 and matches the histogram', async () => {
    const runs = await stochasticLanczosQuadrature(op, { steps: dim, runs: 4, seed: 2 });
    for (const run of runs) expect(run.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    // With steps = dim the quadrature nodes are the exact eigenvalues.
    const nodes = [...runs[0]!.nodes].sort((a, b) => b - a);
    nodes.forEach((v, i) => {
      expect(v).toBeCloseTo(sorted[i]!, 6);
    });
    // The first moment Σ wᵢθᵢ is vᵀHv/‖v‖² for a Rademacher v: an unbiased trace/dim estimate.
    const meanEstimate =
      runs.reduce((s, r) => s + r.nodes.reduce((a, x, k) => a + x * r.weights[k]!, 0), 0) / runs.length;
    expect(Math.abs(meanEstimate * dim - exactTrace)).toBeLessThan(0.35 * Math.abs(exactTrace) + 10);

    const density = densityOnGrid(runs, { gridPoints: 4000, sigmaSquared: 0.05 });
    const dx = density.grid[1]! - density.grid[0]!;
    expect(density.values.reduce((a, b) => a + b, 0) * dx).toBeCloseTo(1, 9);
    // Against the exact spectrum broadened the same way: mass in coarse bins agrees within SLQ's
    // sampling error (4 runs ⇒ weights are noisy, so the bound is loose but can fail).
    const exactDensity = densityOnGrid([{ nodes: spectrum.slice(), weights: spectrum.map(() => 1 / dim) }], {
      gridPoints: 4000,
      sigmaSquared: 0.05,
    });
    const cdfAt = (d: typeof density, x: number) =>
      d.values.reduce((s, v, i) => (d.grid[i]! <= x ? s + v * (d.grid[1]! - d.grid[0]!) : s), 0);
    for (const x of [-2, 0, 1, 2, 15])
      expect(Math.abs(cdfAt(density, x) - cdfAt(exactDensity, x))).toBeLessThan(0.15);
    expect(cdfAt(density, 9)).toBeLessThan(1 - 1 / dim); // the outliers above 9 carry mass
  });

  it('SLQ with few steps still finds the extreme eigenvalue as a node', async () => {
    const runs = await stochasticLanczosQuadrature(op, { steps: 25, runs: 1, seed: 4 });
    expect(Math.max(...runs[0]!.nodes)).toBeCloseTo(25, 4);
  });
});
