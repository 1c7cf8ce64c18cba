/**
 * HDF5 for the Keras readers, through h5wasm (the HDF5 C library compiled to WebAssembly) running in
 * a worker thread (h5-worker.ts). h5wasm reads files from its in-memory file system only, so the
 * whole file is loaded: files above `h5MaxBytes()` (env WEIGHTLENS_H5_MAX_BYTES, default 512 MiB)
 * are rejected before any byte is read. The HDF5 library can loop forever or abort() on a corrupt
 * file; each request is given `h5TimeoutMs(size)` (env WEIGHTLENS_H5_TIMEOUT_MS base, default 2 s,
 * plus 1 s per MiB) and the thread is terminated and replaced when it overruns or aborts: the file
 * is reported as corrupt, the caller's thread was never blocked, and the next file gets a fresh
 * HDF5 library. Requests run one at a time, so a time limit never counts time spent waiting for
 * another file, and a corrupt file fails only its own request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BadInputError, ConfigError, type ErrorContext, UnsupportedError } from '../../errors.ts';
import type { H5Listing } from './h5-core.ts';

export type { H5DatasetInfo, H5Listing } from './h5-core.ts';

export const DEFAULT_H5_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_H5_TIMEOUT_MS = 2000;

function positiveEnv(name: string, fallback: number): number {
  const parsed = Number(process.env[name]);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** Largest HDF5 file (or .keras weights entry) loaded into h5wasm's memory. */
export function h5MaxBytes(): number {
  return positiveEnv('WEIGHTLENS_H5_MAX_BYTES', DEFAULT_H5_MAX_BYTES);
}

/** How long the HDF5 thread may take over one file of `size` bytes before it is deemed stuck. */
export function h5TimeoutMs(size: number): number {
  return positiveEnv('WEIGHTLENS_H5_TIMEOUT_MS', DEFAULT_H5_TIMEOUT_MS) + Math.ceil(size / 1048576) * 1000;
}

export function checkH5Size(size: number, context: ErrorContext): void {
  const max = h5MaxBytes();
  if (size > max) {
    throw new UnsupportedError(
      `HDF5 file of ${size} bytes exceeds the ${max}-byte limit (h5wasm loads whole files into memory; raise WEIGHTLENS_H5_MAX_BYTES to allow it)`,
      context,
    );
  }
}

/** `\x89HDF\r\n\x1a\n` at offset 0 (files with a user block before it are not recognized). */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5Head(head: Uint8Array): boolean {
  return HDF5_SIGNATURE.every((b, i) => head[i] === b);
}

/** `directory`: where the thread writes the image for h5wasm, which reads real files (h5-core.ts). */
type H5RequestBase = { id: number; file: string; bytes: Uint8Array; directory: string };
export type H5Request =
  | (H5RequestBase & { op: 'list' })
  | (H5RequestBase & { op: 'read'; path: string })
  | (H5RequestBase & { op: 'abort' });

export type H5Reply =
  | { id: number; ok: true; listing: H5Listing }
  | { id: number; ok: true; values: Float32Array | Float64Array }
  | { id: number; ok: false; kind: string; message: string; fatal: boolean };

type H5Success = H5Reply & { ok: true };

/** Workers do not inherit the tsx loader (no build step); the thread registers it itself. */
const TSX_ESM_API = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
).href;
const WORKER_BOOTSTRAP = `import(${JSON.stringify(TSX_ESM_API)})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./h5-worker.ts', import.meta.url).href)}); });`;

/** Starting the thread (tsx loader, 4 MB of wasm) takes seconds on a loaded machine; not parse time. */
const STARTUP_TIMEOUT_MS = 120_000;

/** One HDF5 worker thread with at most one request in flight. */
class H5Thread {
  private readonly worker: Worker;
  readonly ready: Promise<void>;
  /** Set once the thread is terminated or dead; a fresh one is then started for the next request. */
  dead = false;
  private inflight:
    | { id: number; context: ErrorContext; resolve: (reply: H5Reply) => void; reject: (err: Error) => void }
    | undefined;

  constructor() {
    this.worker = new Worker(WORKER_BOOTSTRAP, { eval: true });
    this.ready = new Promise<void>((resolve, reject) => {
      const startup = setTimeout(() => {
        this.kill();
        reject(new ConfigError(`HDF5 worker did not start within ${STARTUP_TIMEOUT_MS} ms`));
      }, STARTUP_TIMEOUT_MS);
      this.worker.on('message', (message: H5Reply | { ready: true }) => {
        if ('ready' in message) {
          clearTimeout(startup);
          // From now on the thread never keeps the process alive by itself (a request's timer does
          // while one is in flight). Not earlier: on Node 20 an unref() before the thread is online
          // does not hold, and the process would never exit.
          this.worker.unref();
          resolve();
          return;
        }
        const request = this.inflight;
        if (request?.id !== message.id) return;
        this.inflight = undefined;
        request.resolve(message);
      });
      // A thread that dies (out of memory on a hostile file) fails its request as bad input.
      const died = (why: string, cause?: unknown) => {
        clearTimeout(startup);
        this.dead = true;
        reject(new ConfigError(`HDF5 worker failed to start: ${why}`, { cause }));
        const request = this.inflight;
        request?.reject(new BadInputError(`HDF5 worker died: ${why}`, request.context, { cause }));
        this.inflight = undefined;
      };
      this.worker.on('error', (err) => died(err.message, err));
      this.worker.on('exit', (code) => died(`exit code ${code}`));
    });
  }

  kill(): void {
    this.dead = true;
    void this.worker.terminate();
  }

  /** Send one request; reject with a BadInputError if no reply comes within `timeoutMs`. */
  request(message: H5Request, timeoutMs: number, context: ErrorContext): Promise<H5Reply> {
    return new Promise<H5Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inflight = undefined;
        this.kill();
        reject(
          new BadInputError(`HDF5 parsing did not finish within ${timeoutMs} ms: corrupt file`, context),
        );
      }, timeoutMs);
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          fn(value);
        };
      this.inflight = { id: message.id, context, resolve: settle(resolve), reject: settle(reject) };
      this.worker.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
    });
  }
}

let thread: H5Thread | undefined;
let nextId = 0;
/** The tail of the request chain: each request starts when the previous one has settled. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * One request to the HDF5 thread, after those already queued, bounded in time; typed errors come
 * back typed. `bytes` is copied into the request when its turn comes (and the copy transferred).
 */
function call(
  op: { op: 'list' } | { op: 'read'; path: string } | { op: 'abort' },
  bytes: Uint8Array,
  context: ErrorContext,
): Promise<H5Success> {
  const run = async (): Promise<H5Success> => {
    if (!thread || thread.dead) thread = new H5Thread();
    const current = thread;
    await current.ready;
    // A copy in its own ArrayBuffer: the caller keeps its bytes. (Not bytes.slice(): on a Node
    // Buffer that is a view, and the transfer would detach the caller's memory.)
    const directory = mkdtempSync(join(tmpdir(), 'weightlens-h5-'));
    const request = {
      ...op,
      id: nextId++,
      file: context.file ?? '',
      bytes: new Uint8Array(bytes),
      directory,
    };
    let reply: H5Reply;
    try {
      reply = await current.request(request, h5TimeoutMs(bytes.byteLength), context);
    } finally {
      // Also after a timeout: the killed thread could not delete its file.
      rmSync(directory, { recursive: true, force: true });
    }
    if (reply.ok) return reply;
    // An abort() leaves the wasm instance unusable: the next request gets a fresh thread.
    if (reply.fatal) current.kill();
    const ErrorType = reply.kind === 'Unsupported' ? UnsupportedError : BadInputError;
    throw new ErrorType(reply.fatal ? `HDF5 library aborted: ${reply.message}` : reply.message, context);
  };
  const result = queue.then(run);
  queue = result.catch(() => undefined);
  return result;
}

/** List every numeric dataset of an HDF5 image and locate its stored bytes (see h5-core.ts). */
export async function listH5(bytes: Uint8Array, context: ErrorContext): Promise<H5Listing> {
  const reply = await call({ op: 'list' }, bytes, context);
  if (!('listing' in reply)) throw new BadInputError('HDF5 worker replied without a listing', context);
  return reply.listing;
}

/** Slow path: one dataset's values decoded by h5wasm from the whole file image. */
export async function readH5Dataset(
  bytes: Uint8Array,
  path: string,
  context: ErrorContext,
): Promise<Float32Array | Float64Array> {
  const reply = await call({ op: 'read', path }, bytes, context);
  if (!('values' in reply)) throw new BadInputError('HDF5 worker replied without values', context);
  return reply.values;
}

/**
 * For tests: make the HDF5 library abort() in its thread, as some corrupt files do (which ones
 * depends on the library's memory history, so no committed file does it reliably). Rejects with
 * the BadInputError such a file gets; the next request gets a fresh library.
 */
export async function abortHdf5ForTests(context: ErrorContext): Promise<never> {
  await call({ op: 'abort' }, new Uint8Array(0), context);
  throw new Error('the HDF5 library did not abort');
}
