/**
 * PyHessian's power iteration with deflation, kept for parity runs (Lanczos is the default).
 * For each eigenpair: Gaussian start; each iteration orthogonalises against the pairs already
 * found (deflation by projection), takes the Rayleigh quotient λ = vᵀHv, sets v = Hv/‖Hv‖, and stops
 * when |λ − λ_prev| / (|λ_prev| + 1e-6) < tol. Defaults as PyHessian: maxIter 100, tol 1e-3.
 * Like PyHessian it finds the largest-magnitude eigenvalue, and the reported λ is the Rayleigh
 * quotient of the vector before the last update.
 */
import { axpy, dot, norm, SeededRandom, type SymmetricOperator, scale } from './vector.ts';

export interface PowerIterationOptions {
  topK?: number;
  maxIter?: number;
  tol?: number;
  seed?: number;
}

export interface PowerIterationResult {
  values: number[];
  vectors: Float64Array[];
  /** Iterations used per eigenpair. */
  iterations: number[];
}

export async function powerIteration(
  op: SymmetricOperator,
  options: PowerIterationOptions = {},
): Promise<PowerIterationResult> {
  const topK = options.topK ?? 1;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-3;
  const rng = new SeededRandom(options.seed ?? 1);
  const values: number[] = [];
  const vectors: Float64Array[] = [];
  const iterations: number[] = [];
  for (let k = 0; k < topK; k++) {
    let v = rng.gaussianVector(op.dim);
    v = scale(1 / (norm(v) + 1e-6), v);
    let eigenvalue: number | undefined;
    let used = 0;
    for (let i = 0; i < maxIter; i++) {
      for (const u of vectors) axpy(-dot(v, u), u, v);
      v = scale(1 / (norm(v) + 1e-6), v);
      const hv = await op.apply(v);
      used++;
      const rayleigh = dot(hv, v);
      v = scale(1 / (norm(hv) + 1e-6), hv);
      if (eigenvalue !== undefined && Math.abs(eigenvalue - rayleigh) / (Math.abs(eigenvalue) + 1e-6) < tol) {
        break; // PyHessian keeps the previous quotient here
      }
      eigenvalue = rayleigh;
    }
    values.push(eigenvalue ?? 0);
    vectors.push(v);
    iterations.push(used);
  }
  return { values, vectors, iterations };
}
