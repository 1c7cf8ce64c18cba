/**
 * The one seeded pseudo-random generator (mulberry32): tiny, fast and reproducible on every
 * machine — for randomized ESDs, curvature probe vectors, the zoo's training shuffles, seeded
 * databases and test matrices. Not for anything that needs unpredictability.
 */

/** Uniform numbers in [0, 1), the same sequence for the same 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `seededRandom` with the draws built on it (integers, permutations, Gaussians, sign vectors). */
export class SeededRandom {
  private readonly uniform: () => number;
  private spareGaussian: number | undefined;
  constructor(seed: number) {
    this.uniform = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
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
