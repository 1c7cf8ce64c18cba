/**
 * Hutchinson's trace estimator: tr(H) = E[vᵀHv] for Rademacher v (±1 entries, not normalised).
 *
 * Stopping rules:
 * - 'pyhessian' (default, for parity): stop when the running mean changes by less than `tol`
 *   relative to |previous mean| + 1e-6 (the absolute value keeps negative traces converging), or at
 *   `maxProbes` (default 100, tol 1e-3). Weak: one close pair of means stops it, so we always report
 *   the standard error as well.
 * - 'fixed': exactly `maxProbes` probes.
 * Every probe also gives unbiased block traces vᵢᵀ(Hv)ᵢ for any partition of the parameters.
 */
import { SeededRandom, type SymmetricOperator } from './vector.ts';

export interface TraceOptions {
  maxProbes?: number;
  tol?: number;
  rule?: 'pyhessian' | 'fixed';
  /** Never stop before this many probes (PyHessian: 2, the first pair of means). */
  minProbes?: number;
  seed?: number;
  /** Ranges of the vector to report partial traces for (e.g. one per layer). */
  blocks?: readonly { name: string; offset: number; size: number }[];
}

export interface TraceEstimate {
  trace: number;
  /** Standard error of the mean over probes (NaN for one probe). */
  standardError: number;
  probes: number;
  samples: number[];
  blocks: { name: string; trace: number; standardError: number }[];
}

function meanAndStandardError(samples: readonly number[]): [number, number] {
  const n = samples.length;
  const mean = samples.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return [mean, Number.NaN];
  const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return [mean, Math.sqrt(variance / n)];
}

export async function hutchinsonTrace(
  op: SymmetricOperator,
  options: TraceOptions = {},
): Promise<TraceEstimate> {
  const maxProbes = options.maxProbes ?? 100;
  const tol = options.tol ?? 1e-3;
  const rule = options.rule ?? 'pyhessian';
  const minProbes = options.minProbes ?? 2;
  const rng = new SeededRandom(options.seed ?? 1);
  const blocks = options.blocks ?? [];
  const samples: number[] = [];
  const blockSamples: number[][] = blocks.map(() => []);
  let previousMean: number | undefined;
  let sum = 0;
  for (let probe = 0; probe < maxProbes; probe++) {
    const v = rng.rademacherVector(op.dim);
    const hv = await op.apply(v);
    let total = 0;
    for (let i = 0; i < v.length; i++) total += v[i]! * hv[i]!;
    samples.push(total);
    blocks.forEach((b, k) => {
      let partial = 0;
      for (let i = b.offset; i < b.offset + b.size; i++) partial += v[i]! * hv[i]!;
      blockSamples[k]!.push(partial);
    });
    sum += total;
    const mean = sum / samples.length;
    if (rule === 'pyhessian' && previousMean !== undefined && samples.length >= minProbes) {
      if (Math.abs(mean - previousMean) / (Math.abs(previousMean) + 1e-6) < tol) break;
    }
    previousMean = mean;
  }
  const [trace, standardError] = meanAndStandardError(samples);
  return {
    trace,
    standardError,
    probes: samples.length,
    samples,
    blocks: blocks.map((b, k) => {
      const [t, se] = meanAndStandardError(blockSamples[k]!);
      return { name: b.name, trace: t, standardError: se };
    }),
  };
}

/** The exact trace Σ eᵢᵀHeᵢ by probing every basis vector: dim products, for small models and tests. */
export async function basisTrace(
  op: SymmetricOperator,
  blocks: readonly { name: string; offset: number; size: number }[] = [],
): Promise<{ trace: number; diagonal: Float64Array; blocks: { name: string; trace: number }[] }> {
  const diagonal = new Float64Array(op.dim);
  for (let i = 0; i < op.dim; i++) {
    const e = new Float64Array(op.dim);
    e[i] = 1;
    diagonal[i] = (await op.apply(e))[i]!;
  }
  const sumRange = (from: number, to: number) => diagonal.subarray(from, to).reduce((s, x) => s + x, 0);
  return {
    trace: sumRange(0, op.dim),
    diagonal,
    blocks: blocks.map((b) => ({ name: b.name, trace: sumRange(b.offset, b.offset + b.size) })),
  };
}
