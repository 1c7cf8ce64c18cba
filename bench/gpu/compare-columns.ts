/**
 * The second half of the device check: WeightWatcher's columns computed by lib/spectral from the
 * eigenvalues the CUDA core returned on the device (bench/gpu/bench.py writes them to OUT/evals as
 * <key>.cuda.f64 and <key>.lapack.f64, float64 little-endian, with shapes.json) against the same
 * columns from the CPU route's (LAPACK) eigenvalues of the same matrices. Runs here, after the
 * device's OUT folder came back (the device may have no Node).
 *   npx tsx bench/gpu/compare-columns.ts <OUT>/evals     exits 1 when some |Δα| > 1e-6
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fitPowerLawWW } from '../../lib/spectral/fit.ts';
import { EVALS_THRESHOLD } from '../../lib/spectral/layer.ts';
import { fitMarchenkoPastur } from '../../lib/spectral/mp.ts';
import { normMetrics } from '../../lib/spectral/norms.ts';

/** The bar: α from the device's eigenvalues equals the CPU route's within this. */
export const ALPHA_TOLERANCE = 1e-6;

const COLUMNS = [
  'alpha',
  'D',
  'xmin',
  'num_pl_spikes',
  'alpha_weighted',
  'log_norm',
  'log_spectral_norm',
  'log_alpha_norm',
  'stable_rank',
  'entropy',
  'num_spikes',
  'mp_softrank',
] as const;
type Column = (typeof COLUMNS)[number];

/** WeightWatcher's columns of one layer from its ascending eigenvalues (the N×M matrix's ESD). */
export function eigenvalueColumns(evals: Float64Array, n: number, m: number): Record<Column, number> {
  const firstAbove = evals.findIndex((v) => v > EVALS_THRESHOLD);
  const fitData = firstAbove < 0 ? new Float64Array(0) : evals.subarray(firstAbove);
  const fit = fitPowerLawWW(fitData);
  const alpha = fit ? fit.alpha : -1;
  let spikes = 0;
  if (fit) for (const v of evals) if (v >= fit.xmin) spikes++;
  const norms = normMetrics(evals, alpha, n);
  let mp = { num_spikes: -1, mp_softrank: -1 };
  try {
    mp = fitMarchenkoPastur(evals, n, m);
  } catch {
    // WeightWatcher reports a failed MP fit as −1, and so does this comparison.
  }
  return {
    alpha,
    D: fit ? fit.D : -1,
    xmin: fit ? fit.xmin : -1,
    num_pl_spikes: fit ? spikes : -1,
    alpha_weighted: norms.alpha_weighted,
    log_norm: norms.log_norm,
    log_spectral_norm: norms.log_spectral_norm,
    log_alpha_norm: norms.log_alpha_norm,
    stable_rank: norms.stable_rank,
    entropy: norms.entropy,
    num_spikes: mp.num_spikes,
    mp_softrank: mp.mp_softrank,
  };
}

export interface RouteComparison {
  key: string;
  shape: [number, number];
  alphaCpu: number;
  alphaCuda: number;
  /** Largest |Δ| / max(1, |cpu value|) over the columns, and the column it is in. */
  worst: { column: Column; difference: number };
}

function readF64(file: string): Float64Array {
  const bytes = readFileSync(file);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Every matrix in `evalsDir` (shapes.json), columns from both routes' eigenvalues side by side. */
export function compareRoutes(evalsDir: string): RouteComparison[] {
  const shapes = JSON.parse(readFileSync(path.join(evalsDir, 'shapes.json'), 'utf8')) as Record<
    string,
    [number, number]
  >;
  return Object.entries(shapes).map(([key, shape]) => {
    const n = Math.max(...shape);
    const m = Math.min(...shape);
    const cpu = eigenvalueColumns(readF64(path.join(evalsDir, `${key}.lapack.f64`)), n, m);
    const cuda = eigenvalueColumns(readF64(path.join(evalsDir, `${key}.cuda.f64`)), n, m);
    let worst: RouteComparison['worst'] = { column: 'alpha', difference: 0 };
    for (const column of COLUMNS) {
      const difference = Math.abs(cuda[column] - cpu[column]) / Math.max(1, Math.abs(cpu[column]));
      if (!(difference <= worst.difference)) worst = { column, difference };
    }
    return { key, shape, alphaCpu: cpu.alpha, alphaCuda: cuda.alpha, worst };
  });
}

function main(evalsDir: string): void {
  const rows = compareRoutes(evalsDir);
  console.log('| matrix | α CPU route | α CUDA | |Δα| | worst column | its relative Δ |');
  console.log('|---|---|---|---|---|---|');
  let failed = 0;
  for (const row of rows) {
    const delta = Math.abs(row.alphaCuda - row.alphaCpu);
    if (!(delta <= ALPHA_TOLERANCE)) failed++;
    console.log(
      `| ${row.key} (${row.shape.join('×')}) | ${row.alphaCpu.toFixed(6)} | ${row.alphaCuda.toFixed(6)} | ` +
        `${delta.toExponential(1)}${delta <= ALPHA_TOLERANCE ? '' : ' FAIL'} | ${row.worst.column} | ${row.worst.difference.toExponential(1)} |`,
    );
  }
  if (failed > 0) {
    console.error(`${failed} of ${rows.length} matrices: |Δα| above ${ALPHA_TOLERANCE}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npx tsx bench/gpu/compare-columns.ts <OUT>/evals');
    process.exitCode = 2;
  } else main(dir);
}
