/**
 * Lanczos with full reorthogonalisation. Used for the top-k eigenvalues (Ritz values of k + 20 steps,
 * with residual bounds) and as the engine of stochastic Lanczos quadrature. Full
 * reorthogonalisation keeps the Krylov basis orthogonal in floating point, so no spurious copies of
 * converged eigenvalues appear; it costs one dot/axpy per stored vector per step, small next to an HVP.
 */
import { tridiagonalEigen } from './symmetricEigen.ts';
import { axpy, dot, norm, SeededRandom, type SymmetricOperator, scale } from './vector.ts';

export interface LanczosOptions {
  steps: number;
  seed?: number;
  /** Start vector (normalised here); default a Gaussian vector from `seed`. */
  start?: Float64Array;
}

export interface LanczosRun {
  /** Diagonal of the tridiagonal T. */
  alpha: number[];
  /** Off-diagonal of T (length alpha.length − 1); a 0 marks a restart after an invariant subspace. */
  beta: number[];
  /** β after the last step: residual scale for Ritz pairs. */
  lastBeta: number;
}

function orthogonalize(w: Float64Array, basis: readonly Float64Array[]): void {
  // Two passes of classical Gram–Schmidt ("twice is enough").
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) axpy(-dot(w, q), q, w);
  }
}

export async function lanczos(op: SymmetricOperator, options: LanczosOptions): Promise<LanczosRun> {
  const steps = Math.min(options.steps, op.dim);
  const rng = new SeededRandom(options.seed ?? 1);
  const start = options.start ?? rng.gaussianVector(op.dim);
  const startNorm = norm(start);
  let q =
    startNorm > 0
      ? scale(1 / startNorm, start)
      : scale(1 / Math.sqrt(op.dim), new Float64Array(op.dim).fill(1));
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let lastBeta = 0;
  for (let j = 0; j < steps; j++) {
    basis.push(q);
    const w = await op.apply(q);
    const a = dot(w, q);
    alpha.push(a);
    orthogonalize(w, basis);
    const b = norm(w);
    lastBeta = b;
    if (j === steps - 1) break;
    const scaleOfT = Math.max(...alpha.map(Math.abs), ...beta, 1e-300);
    if (b <= 1e-10 * scaleOfT) {
      // Invariant subspace found: restart with a random vector orthogonal to the basis (β = 0).
      const fresh = rng.gaussianVector(op.dim);
      orthogonalize(fresh, basis);
      const freshNorm = norm(fresh);
      if (freshNorm === 0) break;
      beta.push(0);
      q = scale(1 / freshNorm, fresh);
    } else {
      beta.push(b);
      q = scale(1 / b, w);
    }
  }
  return { alpha, beta, lastBeta };
}

export interface TopEigenvalues {
  /** Descending. */
  values: number[];
  /** Residual bounds ‖H y − θ y‖ = β_m·|last component of the Ritz vector|, same order. */
  residuals: number[];
  steps: number;
}

/** The k largest (algebraic) eigenvalues from `steps` Lanczos steps (default max(2k, k + 20)). */
export async function lanczosTopEigenvalues(
  op: SymmetricOperator,
  k: number,
  options: { steps?: number; seed?: number } = {},
): Promise<TopEigenvalues> {
  const steps = Math.min(op.dim, options.steps ?? Math.max(2 * k, k + 20));
  const run = await lanczos(op, { steps, seed: options.seed });
  const m = run.alpha.length;
  const eig = tridiagonalEigen(run.alpha, run.beta);
  const values: number[] = [];
  const residuals: number[] = [];
  for (let idx = m - 1; idx >= Math.max(0, m - k); idx--) {
    values.push(eig.values[idx]!);
    residuals.push(run.lastBeta * Math.abs(eig.vectors[idx * m + m - 1]!));
  }
  return { values, residuals, steps: m };
}
