/**
 * Loader for the optional CUDA eigenvalue core (native/cuda/, built by `npm run build:native`):
 * cuBLAS Gram matrix + cuSOLVER eigenvalues, with CUDA itself dlopen'ed by the addon at run time.
 * Where the addon, the CUDA libraries or a GPU is missing, loadCudaLinalg() returns null and
 * cudaLoadError() says which, in one line; WEIGHTLENS_CUDA=0 disables it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Element types the core uploads as stored (bf16/f16 as their raw 16-bit patterns). */
export type CudaDtype = 'f64' | 'f32' | 'bf16' | 'f16';

export interface CudaLinalg {
  /**
   * Ascending eigenvalues of the min(rows, cols)² Gram matrix of each of `batch` row-major
   * rows×cols matrices stored back to back (length batch·min(rows, cols)); `single` = float32.
   */
  gramEigenvalues(
    data: Float64Array | Float32Array | Uint16Array,
    dtype: CudaDtype,
    batch: number,
    rows: number,
    cols: number,
    single: boolean,
  ): Promise<Float64Array>;
  /** Device, memory, runtime version and widening path (for reports). */
  describe(): string;
}

interface CudaAddon {
  init(kernelsPath: string): string | null;
  describe(): string;
  gramEigenvalues: CudaLinalg['gramEigenvalues'];
}

const ADDON_PATH = fileURLToPath(new URL('../../native/build/weightlens_cuda.node', import.meta.url));
/** nvcc-built widening kernels; without them the addon widens bf16/f16/f32 on the host. */
export const CUDA_KERNELS_PATH = fileURLToPath(
  new URL('../../native/build/libweightlens_cuda_kernels.so', import.meta.url),
);

let cached: CudaLinalg | null | undefined;
let loadError: string | undefined;

function isCudaAddon(value: unknown): value is CudaAddon {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['init', 'describe', 'gramEigenvalues'].every((key) => typeof record[key] === 'function');
}

/** The CUDA core when it loads and finds a GPU, else null (the reason: cudaLoadError()). */
export function loadCudaLinalg(): CudaLinalg | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env.WEIGHTLENS_CUDA === '0') {
    loadError = 'CUDA disabled by WEIGHTLENS_CUDA=0';
    return cached;
  }
  if (!existsSync(ADDON_PATH)) {
    loadError = `CUDA addon not built (${ADDON_PATH}); run npm run build:native`;
    return cached;
  }
  try {
    const addon: unknown = createRequire(import.meta.url)(ADDON_PATH);
    if (!isCudaAddon(addon)) {
      loadError = 'CUDA addon does not export init/describe/gramEigenvalues';
      return cached;
    }
    const failure = addon.init(existsSync(CUDA_KERNELS_PATH) ? CUDA_KERNELS_PATH : '');
    if (failure !== null) loadError = failure;
    else cached = { gramEigenvalues: addon.gramEigenvalues, describe: addon.describe };
  } catch (err) {
    loadError = `CUDA addon failed to load: ${err instanceof Error ? err.message : String(err)}`;
  }
  return cached;
}

/** Why the CUDA core is not in use (undefined when it is). */
export function cudaLoadError(): string | undefined {
  loadCudaLinalg();
  return loadError;
}
