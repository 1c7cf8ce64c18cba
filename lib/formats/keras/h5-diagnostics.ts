/**
 * The HDF5 library prints its error stack ("HDF5-DIAG: Error detected…", one frame per line) to
 * stderr through console.error. In the HDF5 worker thread those lines are kept instead of printed
 * (a corrupt file would flood the terminal; WEIGHTLENS_DEBUG=1 prints them too), and the innermost
 * frame of the first stack, the root cause, is added to the error a request fails with.
 * Install before h5wasm is loaded: it binds console.error once, at load.
 */

const MAX_LINES = 200;
let lines: string[] = [];

export function installHdf5Diagnostics(): void {
  const print = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (lines.length < MAX_LINES) lines.push(...text.split('\n'));
    if (process.env.WEIGHTLENS_DEBUG) print(...args);
  };
}

/** Forget the lines of the previous request. */
export function clearHdf5Diagnostics(): void {
  lines = [];
}

/** "H5F__super_read(): truncated file…": the innermost frame of the first error stack, if any. */
export function hdf5RootCause(): string | undefined {
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
