/**
 * Eigenvalues of WᵀW (the squared singular values of W) in float64, off the event loop: the native
 * addon (OpenBLAS dgesdd, or dsyrk+dsyevd from GRAM_MIN_DIM on) when built, else the TypeScript
 * solver in a worker thread for large matrices, inline for small ones. Results agree to ~1e-13·λmax.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FloatArray } from './gram.ts';
import { loadNativeLinalg, type NativeMethod } from './native.ts';
import { squaredSingularValuesTs } from './ts-solver.ts';

export type { FloatArray } from './gram.ts';
export { loadNativeLinalg, nativeLoadError } from './native.ts';
export { squaredSingularValuesTs } from './ts-solver.ts';

/** 'auto' = the native addon if it loads (dgesdd, or dsyrk+dsyevd for large matrices), else TypeScript. */
export type EigenBackend = 'auto' | 'native-syevd' | 'native-gesdd' | 'ts' | 'ts-worker';

export interface EigenOptions {
  backend?: EigenBackend;
  /** float32 arithmetic in the native path (faster, ~1e-7 relative); TS always uses float64. */
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

function runInWorker(data: FloatArray, rows: number, cols: number): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const worker = getSolverThread();
    const copy = data.slice(0, rows * cols);
    pending.push({ resolve, reject });
    // Keep the process alive while a request is outstanding.
    worker.ref();
    worker.postMessage({ data: copy, rows, cols }, [copy.buffer as ArrayBuffer]);
  });
}

const BACKENDS: readonly EigenBackend[] = ['native-syevd', 'native-gesdd', 'ts', 'ts-worker'];

/**
 * From this smaller dimension on, 'auto' takes the native Gram route (dsyrk + dsyevd): about 3× faster
 * than dgesdd (bench/spectral.ts: 0.92 s vs 2.69 s at 2048², one thread), which is what makes a
 * layer cost less than WeightWatcher's SVD. Below it the SVD of W costs under a quarter second and
 * keeps tiny singular values exact, as WeightWatcher's do.
 */
export const GRAM_MIN_DIM = 1024;

/**
 * The backend a call resolves to: an explicit (non-'auto') choice; else WEIGHTLENS_EIGEN_BACKEND
 * when set (and usable); else, with the native addon, dgesdd — WeightWatcher's own route (SVD of W),
 * exact for tiny singular values too — below GRAM_MIN_DIM and dsyrk+dsyevd from it on; else TypeScript.
 */
export function resolveBackend(
  rows: number,
  cols: number,
  requested: EigenBackend = 'auto',
): Exclude<EigenBackend, 'auto'> {
  if (requested !== 'auto') return requested;
  const native = loadNativeLinalg();
  const fromEnv = process.env.WEIGHTLENS_EIGEN_BACKEND as EigenBackend | undefined;
  if (fromEnv && fromEnv !== 'auto' && BACKENDS.includes(fromEnv)) {
    if (!fromEnv.startsWith('native') || native) return fromEnv as Exclude<EigenBackend, 'auto'>;
  }
  if (!native) return 'ts-worker';
  return Math.min(rows, cols) >= GRAM_MIN_DIM ? 'native-syevd' : 'native-gesdd';
}

/**
 * Whether a backend diagonalizes the Gram matrix WᵀW (all but dgesdd). Its eigenvalues carry absolute
 * errors of ~N·ε·λmax, so singular values below ~√(N·ε)·σmax are not resolved (they come out as
 * round-off, or 0 where it was negative).
 */
export function isGramBackend(backend: Exclude<EigenBackend, 'auto'>): boolean {
  return backend !== 'native-gesdd';
}

/** What 'auto' resolves to for small matrices (reports). */
export function defaultBackend(): Exclude<EigenBackend, 'auto'> {
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
