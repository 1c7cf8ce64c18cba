/**
 * Loader for the optional C addon (native/, built by `npm run build:native`). When it is missing
 * or fails to load, callers fall back to the TypeScript path; set WEIGHTLENS_NATIVE=0 to force that.
 */
import { fileURLToPath } from 'node:url';
import { optionalAddon } from './addon.ts';

export type NativeMethod = 'syevd' | 'gesdd';

/** The addon's surface: eigenvalues of the smaller Gram matrix, computed on a libuv worker thread. */
export interface NativeLinalg {
  /** Ascending squared singular values of the row-major rows×cols matrix (float64 arithmetic). */
  squaredSingularValues(
    data: Float32Array | Float64Array,
    rows: number,
    cols: number,
    method: NativeMethod,
    single: boolean,
  ): Promise<Float64Array>;
  /**
   * gram (cols×cols) += blockᵀ·block for a row-major rows×cols block (dsyrk), on the row-major
   * lower triangle only; `gram` must be left alone until the promise settles. Absent in builds
   * older than it (callers fall back to TypeScript).
   */
  gramUpdate?(
    gram: Float64Array,
    block: Float32Array | Float64Array,
    rows: number,
    cols: number,
  ): Promise<void>;
  /** Ascending eigenvalues (dsyevd) of the m×m matrix whose row-major lower triangle is `gram` (copied). */
  symmetricEigenvalues?(gram: Float64Array, m: number): Promise<Float64Array>;
  /** Name of the BLAS/LAPACK build it links (for reports). */
  backend(): string;
}

const ADDON_PATH = fileURLToPath(new URL('../../native/build/weightlens_linalg.node', import.meta.url));

const addon = optionalAddon<NativeLinalg>({
  name: 'native',
  path: ADDON_PATH,
  disableEnv: 'WEIGHTLENS_NATIVE',
  exports: ['squaredSingularValues', 'backend'],
  init: (exports) => exports as unknown as NativeLinalg,
});

/** The addon, or null when it is not built, disabled, or does not load. */
export function loadNativeLinalg(): NativeLinalg | null {
  return addon.load();
}

/** Why the addon is not in use (undefined when it is). */
export function nativeLoadError(): string | undefined {
  return addon.error();
}
