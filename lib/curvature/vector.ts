/**
 * Flat float64 vectors and a seeded generator: the Krylov methods run in plain JS on these, so the
 * same code serves the tfjs Hessian operator and dense float64 test matrices, and every run is
 * reproducible from its seed.
 */

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

/** Mulberry32: tiny, fast, good enough for probe vectors; seeded for reproducibility. */
export class SeededRandom {
  private state: number;
  private spareGaussian: number | undefined;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  gaussian(): number {
    if (this.spareGaussian !== undefined) {
      const g = this.spareGaussian;
      this.spareGaussian = undefined;
      return g;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spareGaussian = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
  gaussianVector(dim: number): Float64Array {
    const v = new Float64Array(dim);
    for (let i = 0; i < dim; i++) v[i] = this.gaussian();
    return v;
  }
  /** ±1 entries with equal probability (Hutchinson's and SLQ's probes). */
  rademacherVector(dim: number): Float64Array {
    const v = new Float64Array(dim);
    for (let i = 0; i < dim; i++) v[i] = this.next() < 0.5 ? -1 : 1;
    return v;
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
