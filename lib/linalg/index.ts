/**
 * Eigenvalues of WᵀW (the squared singular values of W) in float64, off the event loop:
 * the native addon (OpenBLAS dsyrk+dsyevd or dgesdd) when built, else the TypeScript solver in a
 * worker thread for large matrices, inline for small ones. Results agree to ~1e-13·λmax.
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

/** 'auto' = native gesdd if the addon loads, else TypeScript. */
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
 * Which backend 'auto' resolves to: WEIGHTLENS_EIGEN_BACKEND when set (and usable), else native
 * gesdd — WeightWatcher's own route (SVD of W), exact for tiny singular values too — else TypeScript.
 */
export function defaultBackend(): Exclude<EigenBackend, 'auto'> {
  const native = loadNativeLinalg();
  const requested = process.env.WEIGHTLENS_EIGEN_BACKEND as EigenBackend | undefined;
  if (requested && requested !== 'auto' && BACKENDS.includes(requested)) {
    if (!requested.startsWith('native') || native) return requested as Exclude<EigenBackend, 'auto'>;
  }
  return native ? 'native-gesdd' : 'ts-worker';
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
  const backend = options.backend && options.backend !== 'auto' ? options.backend : defaultBackend();
  if (backend === 'native-syevd' || backend === 'native-gesdd') {
    const native = loadNativeLinalg();
    if (!native) throw new Error('native linalg addon is not available');
    const method: NativeMethod = backend === 'native-syevd' ? 'syevd' : 'gesdd';
    return native.squaredSingularValues(data, rows, cols, method, options.single === true);
  }
  const m = Math.min(rows, cols);
  const work = m * m * Math.max(rows, cols);
  if (backend === 'ts' || work < WORKER_MIN_WORK) return squaredSingularValuesTs(data, rows, cols);
  return runInWorker(data, rows, cols);
}
