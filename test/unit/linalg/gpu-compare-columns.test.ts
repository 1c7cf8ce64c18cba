/**
 * bench/gpu/compare-columns.ts, the device check's column comparison, run here on eigenvalues of
 * two CPU routes (dsyrk+dsyevd standing for LAPACK, dgesdd standing for the device): its columns
 * equal the pipeline's (analyzeLayer) on the same matrix, two routes agree within the α bar, and
 * a perturbed eigenvalue file is caught.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALPHA_TOLERANCE, compareRoutes, eigenvalueColumns } from '../../../bench/gpu/compare-columns.ts';
import { squaredSingularValues } from '../../../lib/linalg/index.ts';
import { analyzeLayer, defaultAnalysisConfig } from '../../../lib/spectral/index.ts';

/** A heavy-tailed-ish test matrix: Gaussian columns with decaying scales (deterministic). */
function matrix(rows: number, cols: number, seed: number): Float64Array {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const gauss = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      out[i * cols + j] = (gauss * (1 + j) ** -0.35) / Math.sqrt(rows);
    }
  return out;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-gpu-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shapes: Record<string, [number, number]> = { a: [300, 200], b: [160, 240], c: [256, 256] };

describe('device check column comparison', () => {
  it("gives the pipeline's columns, agreeing routes pass and a perturbed file is caught", async () => {
    for (const [key, [rows, cols]] of Object.entries(shapes)) {
      const w = matrix(rows, cols, rows * 7 + cols);
      const lapack = await squaredSingularValues(w, rows, cols, { backend: 'native-syevd' });
      const other = await squaredSingularValues(w, rows, cols, { backend: 'native-gesdd' });
      writeFileSync(path.join(dir, `${key}.lapack.f64`), Buffer.from(lapack.buffer));
      writeFileSync(path.join(dir, `${key}.cuda.f64`), Buffer.from(other.buffer));
      const analysis = await analyzeLayer(
        { name: key, layerType: 'dense', shape: [rows, cols], data: w },
        defaultAnalysisConfig,
        0,
        { backend: 'native-gesdd' },
      );
      const columns = eigenvalueColumns(other, Math.max(rows, cols), Math.min(rows, cols));
      for (const column of [
        'alpha',
        'D',
        'xmin',
        'alpha_weighted',
        'log_norm',
        'stable_rank',
        'entropy',
      ] as const)
        expect(columns[column], `${key} ${column}`).toBeCloseTo(analysis.metrics[column] as number, 10);
    }
    writeFileSync(path.join(dir, 'shapes.json'), JSON.stringify(shapes));
    const agreeing = compareRoutes(dir);
    expect(agreeing).toHaveLength(3);
    for (const row of agreeing)
      expect(Math.abs(row.alphaCuda - row.alphaCpu)).toBeLessThanOrEqual(ALPHA_TOLERANCE);

    // The "device" returns its largest eigenvalues 1% too large: α and the norms move, and it shows.
    const [rows, cols] = shapes.b!;
    const bad = await squaredSingularValues(matrix(rows, cols, rows * 7 + cols), rows, cols, {
      backend: 'native-gesdd',
    });
    for (let i = bad.length - 20; i < bad.length; i++) bad[i]! *= 1.01;
    writeFileSync(path.join(dir, 'b.cuda.f64'), Buffer.from(bad.buffer));
    const perturbed = compareRoutes(dir).find((row) => row.key === 'b')!;
    expect(perturbed.worst.difference).toBeGreaterThan(1e-4);
  });
});
