/**
 * The CUDA eigen backend where it cannot run (this machine, CI): the loader says what is missing in
 * one line, 'auto' never picks it, asking for it fails with that line, and the CPU routes give what
 * they gave before. Where a GPU is usable the same tests check the other side (it loads, 'auto'
 * takes it for large matrices, its eigenvalues match LAPACK's). The C driver runs without Node's
 * help: its host-side widening checks pass and it reports "no CUDA" cleanly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors.ts';
import {
  CUDA_MIN_DIM,
  cudaLoadError,
  loadCudaLinalg,
  loadNativeLinalg,
  resolveBackend,
  squaredSingularValues,
  squaredSingularValuesBatched,
} from '../../../lib/linalg/index.ts';
import { seededRandom } from '../../../lib/random.ts';
import { analyzeLayer, defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { prerequisite } from '../../prerequisites.ts';
import { gaussian } from './known-spectrum.ts';

const cuda = loadCudaLinalg();
const native = prerequisite(loadNativeLinalg() !== null, 'the native LAPACK addon (npm run build:native)');
const driverPath = fileURLToPath(new URL('../../../native/build/wl_cuda_check', import.meta.url));
const driverBuilt = prerequisite(existsSync(driverPath), 'native/build/wl_cuda_check (npm run build:native)');
const root = fileURLToPath(new URL('../../../', import.meta.url));

function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  return Float64Array.from({ length: rows * cols }, () => gaussian(rand));
}

/** Runs a snippet in a fresh Node (the loader caches its answer per process). */
function inFreshProcess(code: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('CUDA eigen backend', () => {
  const saved = process.env.WEIGHTLENS_EIGEN_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.WEIGHTLENS_EIGEN_BACKEND;
    else process.env.WEIGHTLENS_EIGEN_BACKEND = saved;
  });

  it('the loader gives the core or one line naming what is missing', () => {
    if (cuda) {
      expect(cudaLoadError()).toBeUndefined();
      expect(cuda.describe()).toMatch(/GiB, CUDA runtime/);
    } else {
      const reason = cudaLoadError();
      expect(reason).toMatch(/^(no CUDA: |CUDA addon not built|CUDA disabled)/);
      expect(reason).not.toContain('\n');
    }
  });

  it('WEIGHTLENS_CUDA=0 disables it', () => {
    const run = inFreshProcess(
      "import { cudaLoadError, loadCudaLinalg } from './lib/linalg/cuda.ts'; console.log(JSON.stringify([loadCudaLinalg(), cudaLoadError()]));",
      { WEIGHTLENS_CUDA: '0' },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual([null, 'CUDA disabled by WEIGHTLENS_CUDA=0']);
  });

  it("'auto' takes it only where it is usable, and only for large matrices", () => {
    delete process.env.WEIGHTLENS_EIGEN_BACKEND;
    expect(resolveBackend(CUDA_MIN_DIM - 1, 4 * CUDA_MIN_DIM)).not.toBe('cuda');
    expect(resolveBackend(8192, 8192) === 'cuda').toBe(cuda !== null);
  });

  it('WEIGHTLENS_EIGEN_BACKEND=cuda fails with one line where it is missing; unknown values fail too', async () => {
    process.env.WEIGHTLENS_EIGEN_BACKEND = 'cuda';
    if (cuda) expect(resolveBackend(10, 10)).toBe('cuda');
    else {
      let error: unknown;
      try {
        resolveBackend(10, 10);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(`WEIGHTLENS_EIGEN_BACKEND=cuda: ${cudaLoadError()}`);
      await expect(squaredSingularValues(randomMatrix(4, 3, 1), 4, 3, { backend: 'cuda' })).rejects.toThrow(
        ConfigError,
      );
    }
    process.env.WEIGHTLENS_EIGEN_BACKEND = 'gpu';
    expect(() => resolveBackend(10, 10)).toThrow(/WEIGHTLENS_EIGEN_BACKEND=gpu is not one of auto, cuda, /);
  });

  it('the CPU route is what it was: auto at and above CUDA_MIN_DIM without a GPU is dsyrk+dsyevd, bit for bit', async () => {
    delete process.env.WEIGHTLENS_EIGEN_BACKEND;
    if (cuda || !native) return;
    const data = randomMatrix(CUDA_MIN_DIM + 16, CUDA_MIN_DIM, 7);
    const auto = await squaredSingularValues(data, CUDA_MIN_DIM + 16, CUDA_MIN_DIM);
    const syevd = await squaredSingularValues(data, CUDA_MIN_DIM + 16, CUDA_MIN_DIM, {
      backend: 'native-syevd',
    });
    expect(Buffer.from(auto.buffer).equals(Buffer.from(syevd.buffer))).toBe(true);
  });

  it('batched eigenvalues are the per-matrix ones, matrix by matrix', async () => {
    const rows = 40;
    const cols = 30;
    const batch = 5;
    const data = randomMatrix(batch * rows, cols, 11);
    const together = await squaredSingularValuesBatched(data, batch, rows, cols, { backend: 'ts' });
    expect(together.length).toBe(batch * cols);
    for (let b = 0; b < batch; b++) {
      const one = await squaredSingularValues(
        data.subarray(b * rows * cols, (b + 1) * rows * cols),
        rows,
        cols,
        {
          backend: 'ts',
        },
      );
      expect(Array.from(together.subarray(b * cols, (b + 1) * cols))).toEqual(Array.from(one));
    }
    if (cuda) {
      const gpu = await squaredSingularValuesBatched(data, batch, rows, cols, { backend: 'cuda' });
      const lmax = Math.max(...together);
      for (let i = 0; i < gpu.length; i++)
        expect(Math.abs(gpu[i]! - together[i]!)).toBeLessThanOrEqual(1e-10 * lmax);
    }
  });

  it('analyzeLayer reports the backend that computed the ESD', async () => {
    delete process.env.WEIGHTLENS_EIGEN_BACKEND;
    const weights = {
      name: 'w',
      layerType: 'dense' as const,
      shape: [120, 80],
      data: randomMatrix(120, 80, 3),
    };
    const auto = await analyzeLayer(weights, defaultAnalysisConfig, 1);
    expect(auto.eigenBackend).toBe(resolveBackend(120, 80));
    const ts = await analyzeLayer(weights, defaultAnalysisConfig, 1, { backend: 'ts' });
    expect(ts.eigenBackend).toBe('ts');
  });

  it.runIf(driverBuilt)(
    'the C driver checks host widening and reports the absence of CUDA in one line',
    () => {
      const run = spawnSync(driverPath, [], { encoding: 'utf8' });
      expect(run.stdout).toMatch(/CHECK host widening bf16\s+ok/);
      expect(run.stdout).toMatch(/CHECK host widening f16 \(normal, subnormal, max\)\s+ok/);
      if (cuda) {
        expect(run.status, run.stdout).toBe(0);
        expect(run.stdout).toMatch(/^device: /m);
        expect(run.stdout).toMatch(/^0 check\(s\) failed$/m);
      } else {
        expect(run.status).toBe(0);
        expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^no CUDA: /);
        expect(spawnSync(driverPath, ['--require-cuda']).status).toBe(2);
        expect(spawnSync(driverPath, ['--bogus']).status).toBe(1);
      }
    },
  );
});
