/**
 * Flat float64 vectors and a seeded generator: the Krylov methods run in plain JS on these, so the
 * same code serves the tfjs Hessian operator and dense float64 test matrices, and every run is
 * reproducible from its seed.
 */
import { SeededRandom as BaseSeededRandom } from '../random.ts';

/** A symmetric linear map, applied one vector at a time (a Hessian, a block of it, a test matrix). */
export interface SymmetricOperator {
  readonly dim: number;
  apply(v: Float64Array): Promise<Float64Array>;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + alpha·x, in place. */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

export function scale(alpha: number, x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = alpha * x[i]!;
  return out;
}

/** The curvature methods' generator (lib/random.ts); seed 0 stands for a fixed nonzero seed. */
export class SeededRandom extends BaseSeededRandom {
  constructor(seed: number) {
    super(seed >>> 0 || 0x9e3779b9);
  }
}

/** A dense symmetric matrix as an operator (tests and references). */
export function denseOperator(matrix: Float64Array, dim: number): SymmetricOperator {
  return {
    dim,
    async apply(v) {
      const out = new Float64Array(dim);
      for (let i = 0; i < dim; i++) {
        let s = 0;
        const row = i * dim;
        for (let j = 0; j < dim; j++) s += matrix[row + j]! * v[j]!;
        out[i] = s;
      }
      return out;
    },
  };
}

/** The diagonal block [offset, offset+size) of an operator: v is zero outside, output restricted. */
export function blockOperator(op: SymmetricOperator, offset: number, size: number): SymmetricOperator {
  return {
    dim: size,
    async apply(v) {
      const full = new Float64Array(op.dim);
      full.set(v, offset);
      const out = await op.apply(full);
      return out.slice(offset, offset + size);
    },
  };
}
