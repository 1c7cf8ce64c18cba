/**
 * Eigenvalues of WᵀW (the squared singular values of W) in float64, off the event loop: the CUDA
 * core (cuBLAS + cuSOLVER, lib/linalg/cuda.ts) from CUDA_MIN_DIM on where a GPU is usable; the
 * native addon (OpenBLAS dgesdd, or dsyrk+dsyevd from GRAM_MIN_DIM on) when built; else the
 * TypeScript solver in a worker thread for large matrices, inline for small ones. Results agree to
 * ~1e-13·λmax.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.ts';
import { cudaLoadError, loadCudaLinalg } from './cuda.ts';
import type { FloatArray } from './gram.ts';
import { loadNativeLinalg, type NativeMethod } from './native.ts';
import { CUDA_MIN_DIM, GRAM_MIN_DIM } from './thresholds.ts';
import { symmetricEigenvalues } from './tridiagonal.ts';
import { squaredSingularValuesTs } from './ts-solver.ts';

export { type CudaDtype, type CudaLinalg, cudaLoadError, loadCudaLinalg } from './cuda.ts';
export type { FloatArray } from './gram.ts';
export { loadNativeLinalg, nativeLoadError } from './native.ts';
export { CUDA_MIN_DIM, GRAM_MIN_DIM } from './thresholds.ts';
export { squaredSingularValuesTs } from './ts-solver.ts';

/**
 * 'auto' = the CUDA core for large matrices where a GPU is usable, else the native addon if it
 * loads (dgesdd, or dsyrk+dsyevd for large matrices), else TypeScript.
 */
export type EigenBackend = 'auto' | 'cuda' | 'native-syevd' | 'native-gesdd' | 'ts' | 'ts-worker';
/** A backend a call actually runs on (recorded with each layer result). */
export type ResolvedEigenBackend = Exclude<EigenBackend, 'auto'>;

export interface EigenOptions {
  backend?: EigenBackend;
  /** float32 arithmetic in the native and CUDA paths (faster, ~1e-7 relative); TS always uses float64. */
  single?: boolean;
}

/** Below this many multiply-adds (m²·n) the TS solver runs inline: a worker costs more to start. */
const WORKER_MIN_WORK = 2e7;

/**
 * Workers do not inherit the tsx loader (no build step in this project), so the worker registers it
 * itself before importing the TypeScript entry.
 */
const TSX_ESM_API = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
).href;
const WORKER_BOOTSTRAP = `import(${JSON.stringify(TSX_ESM_API)})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./eig-worker.ts', import.meta.url).href)}); });`;

interface PendingRequest {
  resolve: (values: Float64Array) => void;
  reject: (err: Error) => void;
}

/**
 * One long-lived solver thread (starting a worker with the tsx loader costs ~1 s): requests queue in
 * order, and the thread is unref'd so it never keeps the process alive.
 */
let solverThread: Worker | undefined;
const pending: PendingRequest[] = [];

function failAll(err: Error): void {
  solverThread = undefined;
  for (const request of pending.splice(0)) request.reject(err);
}

function getSolverThread(): Worker {
  if (solverThread) return solverThread;
  const worker = new Worker(WORKER_BOOTSTRAP, { eval: true });
  worker.unref();
  worker.on('message', (reply: { ok: boolean; values?: Float64Array; error?: string }) => {
    const request = pending.shift();
    if (pending.length === 0) worker.unref();
    if (!request) return;
    if (reply.ok && reply.values) request.resolve(reply.values);
    else request.reject(new Error(reply.error ?? 'eigen worker failed'));
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => {
    if (solverThread === worker) failAll(new Error(`eigen worker exited (code ${code})`));
  });
  solverThread = worker;
  return worker;
}

function runInWorker(data: FloatArray, rows: number, cols: number, symmetric = false): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const worker = getSolverThread();
    const copy = data.slice(0, rows * cols);
    pending.push({ resolve, reject });
    // Keep the process alive while a request is outstanding.
    worker.ref();
    worker.postMessage({ data: copy, rows, cols, symmetric }, [copy.buffer as ArrayBuffer]);
  });
}

/**
 * Ascending eigenvalues of the symmetric m×m row-major matrix `a` (full storage) with the
 * TypeScript solver, in the solver thread when large (a copy is sent; `a` is left as it is).
 */
export function symmetricEigenvaluesTs(a: Float64Array, m: number): Promise<Float64Array> {
  if (m * m * m < WORKER_MIN_WORK) return Promise.resolve(symmetricEigenvalues(a.slice(0, m * m), m));
  return runInWorker(a, m, m, true);
}

/** Every value WEIGHTLENS_EIGEN_BACKEND may take. */
export const EIGEN_BACKENDS: readonly EigenBackend[] = [
  'auto',
  'cuda',
  'native-syevd',
  'native-gesdd',
  'ts',
  'ts-worker',
];

/** The CUDA core, or a ConfigError naming what is missing (`what` says who asked for it). */
export function requireCudaLinalg(what = 'WEIGHTLENS_EIGEN_BACKEND=cuda') {
  const cuda = loadCudaLinalg();
  if (!cuda) throw new ConfigError(`${what}: ${cudaLoadError()}`);
  return cuda;
}

/**
 * The backend a call resolves to: an explicit (non-'auto') choice; else WEIGHTLENS_EIGEN_BACKEND
 * when set (an unknown value is a ConfigError, and so is 'cuda' where CUDA is not usable; the
 * native ones fall back when the addon is not built); else the CUDA core from CUDA_MIN_DIM on
 * where a GPU is usable; else, with the native addon, dgesdd — WeightWatcher's own route (SVD of
 * W), exact for tiny singular values too — below GRAM_MIN_DIM and dsyrk+dsyevd from it on; else
 * TypeScript.
 */
export function resolveBackend(
  rows: number,
  cols: number,
  requested: EigenBackend = 'auto',
): ResolvedEigenBackend {
  if (requested !== 'auto') return requested;
  const native = loadNativeLinalg();
  const fromEnv = process.env.WEIGHTLENS_EIGEN_BACKEND;
  if (fromEnv) {
    if (!(EIGEN_BACKENDS as readonly string[]).includes(fromEnv)) {
      throw new ConfigError(`WEIGHTLENS_EIGEN_BACKEND=${fromEnv} is not one of ${EIGEN_BACKENDS.join(', ')}`);
    }
    if (fromEnv === 'cuda') {
      requireCudaLinalg();
      return 'cuda';
    }
    if (fromEnv !== 'auto' && (!fromEnv.startsWith('native') || native))
      return fromEnv as ResolvedEigenBackend;
  }
  if (Math.min(rows, cols) >= CUDA_MIN_DIM && loadCudaLinalg()) return 'cuda';
  if (!native) return 'ts-worker';
  return Math.min(rows, cols) >= GRAM_MIN_DIM ? 'native-syevd' : 'native-gesdd';
}

/**
 * Whether a backend diagonalizes the Gram matrix WᵀW (all but dgesdd). Its eigenvalues carry absolute
 * errors of ~N·ε·λmax, so singular values below ~√(N·ε)·σmax are not resolved (they come out as
 * round-off, or 0 where it was negative).
 */
export function isGramBackend(backend: ResolvedEigenBackend): boolean {
  return backend !== 'native-gesdd';
}

/** What 'auto' resolves to for small matrices (reports). */
export function defaultBackend(): ResolvedEigenBackend {
  return resolveBackend(1, 1);
}

/**
 * Ascending squared singular values (length min(rows, cols)) of the row-major rows×cols matrix
 * held in `data[0 .. rows*cols)`.
 */
export async function squaredSingularValues(
  data: FloatArray,
  rows: number,
  cols: number,
  options: EigenOptions = {},
): Promise<Float64Array> {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new RangeError(`bad matrix shape ${rows}×${cols}`);
  }
  if (data.length < rows * cols) throw new RangeError(`matrix ${rows}×${cols} needs ${rows * cols} values`);
  const backend = resolveBackend(rows, cols, options.backend);
  if (backend === 'cuda') return cudaSquaredSingularValues(data, 1, rows, cols, options.single === true);
  if (backend === 'native-syevd' || backend === 'native-gesdd') {
    const native = loadNativeLinalg();
    if (!native) throw new Error('native linalg addon is not available');
    const method: NativeMethod = backend === 'native-syevd' ? 'syevd' : 'gesdd';
    const values = await native.squaredSingularValues(data, rows, cols, method, options.single === true);
    // Round-off can leave eigenvalues of the PSD Gram matrix slightly negative; σ² never is.
    if (method === 'syevd') for (let i = 0; i < values.length; i++) if (values[i]! < 0) values[i] = 0;
    return values;
  }
  const m = Math.min(rows, cols);
  const work = m * m * Math.max(rows, cols);
  if (backend === 'ts' || work < WORKER_MIN_WORK) return squaredSingularValuesTs(data, rows, cols);
  return runInWorker(data, rows, cols);
}

/** Round-off can leave eigenvalues of the PSD Gram matrix slightly negative; σ² never is. */
function clampNegatives(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) if (values[i]! < 0) values[i] = 0;
  return values;
}

function cudaSquaredSingularValues(
  data: FloatArray,
  batch: number,
  rows: number,
  cols: number,
  single: boolean,
): Promise<Float64Array> {
  const cuda = requireCudaLinalg("eigen backend 'cuda'");
  const dtype = data instanceof Float64Array ? 'f64' : 'f32';
  return cuda.gramEigenvalues(data, dtype, batch, rows, cols, single).then(clampNegatives);
}

/**
 * Ascending squared singular values of each of `batch` row-major rows×cols matrices stored back to
 * back in `data` (batch·min(rows, cols) values, matrix by matrix). On 'cuda' one batched call
 * (strided-batched Gram, batched eigensolver); elsewhere matrix by matrix.
 */
export async function squaredSingularValuesBatched(
  data: FloatArray,
  batch: number,
  rows: number,
  cols: number,
  options: EigenOptions = {},
): Promise<Float64Array> {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`bad batch size ${batch}`);
  const size = rows * cols;
  if (data.length < batch * size)
    throw new RangeError(`${batch} matrices ${rows}×${cols} need ${batch * size} values`);
  const backend = resolveBackend(rows, cols, options.backend);
  if (backend === 'cuda') return cudaSquaredSingularValues(data, batch, rows, cols, options.single === true);
  const m = Math.min(rows, cols);
  const out = new Float64Array(batch * m);
  for (let b = 0; b < batch; b++) {
    const values = await squaredSingularValues(data.subarray(b * size, (b + 1) * size), rows, cols, {
      ...options,
      backend,
    });
    out.set(values, b * m);
  }
  return out;
}
