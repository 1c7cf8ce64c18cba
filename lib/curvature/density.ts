/**
 * Spectral density by stochastic Lanczos quadrature (SLQ), as PyHessian: `runs` independent Lanczos
 * processes of `steps` steps (default 100, 1 run) from normalised Rademacher starts, with full
 * reorthogonalisation; nodes = Ritz values, weights = squared first components of T's eigenvectors
 * (each run's weights sum to 1: a quadrature of the normalised spectral measure).
 * The density on a grid puts a Gaussian of variance σ² = 1e-5·max(1, λmax − λmin) on each node over
 * 10 000 points spanning [mean min node − 0.01, mean max node + 0.01], averaged over runs and
 * renormalised to unit area (PyHessian's plotting helper). Multiply by `dim` for eigenvalue counts.
 */
import { lanczos } from './lanczos.ts';
import { tridiagonalEigen } from './symmetricEigen.ts';
import { SeededRandom, type SymmetricOperator, scale } from './vector.ts';

export interface QuadratureRun {
  nodes: number[];
  weights: number[];
}

export interface SlqOptions {
  steps?: number;
  runs?: number;
  seed?: number;
}

export async function stochasticLanczosQuadrature(
  op: SymmetricOperator,
  options: SlqOptions = {},
): Promise<QuadratureRun[]> {
  const steps = Math.min(op.dim, options.steps ?? 100);
  const runs = options.runs ?? 1;
  const rng = new SeededRandom(options.seed ?? 1);
  const out: QuadratureRun[] = [];
  for (let r = 0; r < runs; r++) {
    const start = scale(1 / Math.sqrt(op.dim), rng.rademacherVector(op.dim));
    const run = await lanczos(op, { steps, start, seed: (options.seed ?? 1) + 7919 * (r + 1) });
    const eig = tridiagonalEigen(run.alpha, run.beta);
    const m = run.alpha.length;
    const nodes = Array.from(eig.values);
    const weights = nodes.map((_, k) => eig.vectors[k * m]! ** 2);
    out.push({ nodes, weights });
  }
  return out;
}

export interface DensityOptions {
  gridPoints?: number;
  /** Gaussian variance; default 1e-5·max(1, λmax − λmin). */
  sigmaSquared?: number;
  margin?: number;
}

export interface GridDensity {
  grid: number[];
  values: number[];
  sigmaSquared: number;
}

export function densityOnGrid(runs: readonly QuadratureRun[], options: DensityOptions = {}): GridDensity {
  const gridPoints = options.gridPoints ?? 10_000;
  const margin = options.margin ?? 0.01;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const lo = mean(runs.map((r) => Math.min(...r.nodes))) - margin;
  const hi = mean(runs.map((r) => Math.max(...r.nodes))) + margin;
  const sigmaSquared = options.sigmaSquared ?? 1e-5 * Math.max(1, hi - lo);
  const grid = Array.from({ length: gridPoints }, (_, i) => lo + ((hi - lo) * i) / (gridPoints - 1));
  const values = new Float64Array(gridPoints);
  const norm = 1 / Math.sqrt(2 * Math.PI * sigmaSquared);
  const reach = Math.sqrt(sigmaSquared) * 12; // beyond 12σ a Gaussian is < 1e-31 of its peak
  const dx = (hi - lo) / (gridPoints - 1);
  for (const run of runs) {
    run.nodes.forEach((node, k) => {
      const w = run.weights[k]! / runs.length;
      const first = Math.max(0, Math.floor((node - reach - lo) / dx));
      const last = Math.min(gridPoints - 1, Math.ceil((node + reach - lo) / dx));
      for (let i = first; i <= last; i++) {
        values[i]! += w * norm * Math.exp(-((grid[i]! - node) ** 2) / (2 * sigmaSquared));
      }
    });
  }
  const area = values.reduce((s, x) => s + x, 0) * dx;
  return { grid, values: Array.from(values, (v) => (area > 0 ? v / area : 0)), sigmaSquared };
}
