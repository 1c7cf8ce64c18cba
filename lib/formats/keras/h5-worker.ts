/**
 * The HDF5 worker thread: runs h5wasm on requests from h5.ts, one at a time, and replies with
 * listings or values. Errors travel back as {kind, message}; `fatal` tells the caller to replace
 * this thread (the wasm instance aborted or trapped and cannot be used again).
 */
import { parentPort } from 'node:worker_threads';
import { WeightlensError } from '../../errors.ts';
import type { H5Reply, H5Request } from './h5.ts';
import { clearHdf5Diagnostics, hdf5RootCause, installHdf5Diagnostics } from './h5-diagnostics.ts';

const port = parentPort;
if (!port) throw new Error('h5-worker.ts must run as a worker thread');

installHdf5Diagnostics();
// Loaded after the diagnostics hook (h5wasm binds console.error when it loads), and before saying
// ready, so the caller's time limits cover only the parsing.
const { isAbort, listH5InThread, readH5DatasetInThread } = await import('./h5-core.ts');
const { default: h5wasm } = await import('h5wasm/node');
const module = await h5wasm.ready;
port.postMessage({ ready: true });

port.on('message', async (request: H5Request) => {
  const context = { file: request.file };
  clearHdf5Diagnostics();
  try {
    if (request.op === 'list') {
      const listing = await listH5InThread(request.bytes, request.directory, context);
      port.postMessage({ id: request.id, ok: true, listing } satisfies H5Reply);
    } else if (request.op === 'abort') {
      // An invalid free: dlmalloc's check calls abort(), as corrupt files make HDF5 do.
      module._free(8);
      port.postMessage({ id: request.id, ok: false, kind: 'BadInput', message: 'no abort', fatal: false });
    } else {
      const values = await readH5DatasetInThread(request.bytes, request.path, request.directory, {
        ...context,
        tensor: request.path,
      });
      port.postMessage({ id: request.id, ok: true, values } satisfies H5Reply, [
        values.buffer as ArrayBuffer,
      ]);
    }
  } catch (err) {
    const kind = err instanceof WeightlensError ? err.code : 'BadInput';
    const message = err instanceof Error ? err.message : String(err);
    const cause = hdf5RootCause();
    port.postMessage({
      id: request.id,
      ok: false,
      kind,
      message: cause && !message.includes(cause) ? `${message} (HDF5: ${cause})` : message,
      fatal: isAbort(err),
    } satisfies H5Reply);
  }
});
