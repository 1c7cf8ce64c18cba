/**
 * The HDF5 library prints its error stack ("HDF5-DIAG: Error detected…", one frame per line) to
 * stderr: h5wasm's Node build writes it with fs.writeSync(2, …), and its abort() messages with
 * console.error. In the HDF5 worker thread both are kept instead of printed (a corrupt file would
 * flood the terminal; WEIGHTLENS_DEBUG=1 prints them too), and the innermost frame of the first
 * stack, the root cause, is added to the error a request fails with. Only this thread's `fs` and
 * `console` are patched (each worker thread has its own). Install before h5wasm is loaded.
 */
import { createRequire } from 'node:module';

type WriteSync = (fd: number, buffer: unknown, ...rest: unknown[]) => number;
const fs = createRequire(import.meta.url)('node:fs') as { writeSync: WriteSync };

const MAX_CHARS = 64 * 1024;
let text = '';

function keep(chunk: string): void {
  if (text.length < MAX_CHARS) text += chunk;
}

export function installHdf5Diagnostics(): void {
  const debug = Boolean(process.env.WEIGHTLENS_DEBUG);
  const writeSync = fs.writeSync;
  fs.writeSync = (fd, buffer, ...rest) => {
    if (fd !== 2 || !ArrayBuffer.isView(buffer)) return writeSync(fd, buffer, ...rest);
    const offset = typeof rest[0] === 'number' ? rest[0] : 0;
    const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
    keep(Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString('utf8'));
    return debug ? writeSync(fd, buffer, ...rest) : length;
  };
  const print = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    keep(`${args.map(String).join(' ')}\n`);
    if (debug) print(...args);
  };
}

/** Forget the output of the previous request. */
export function clearHdf5Diagnostics(): void {
  text = '';
}

/** "H5F__super_read(): truncated file…": the innermost frame of the first error stack, if any. */
export function hdf5RootCause(): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith('HDF5-DIAG'));
  if (start < 0) return undefined;
  let cause: string | undefined;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('HDF5-DIAG')) break;
    const frame = /^\s*#\d+: .* in (\S+\(\): .*)$/.exec(line);
    if (frame) cause = frame[1];
  }
  return cause;
}
