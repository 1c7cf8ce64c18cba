/**
 * Loader for the optional CUDA eigenvalue core (native/cuda/, built by `npm run build:native`):
 * cuBLAS Gram matrix + cuSOLVER eigenvalues, with CUDA itself dlopen'ed by the addon at run time.
 * Where the addon, the CUDA libraries or a GPU is missing, loadCudaLinalg() returns null and
 * cudaLoadError() says which, in one line; WEIGHTLENS_CUDA=0 disables it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { optionalAddon } from './addon.ts';

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

const addon = optionalAddon<CudaLinalg>({
  name: 'CUDA',
  path: ADDON_PATH,
  disableEnv: 'WEIGHTLENS_CUDA',
  exports: ['init', 'describe', 'gramEigenvalues'],
  init: (exports) => {
    const cuda = exports as unknown as CudaAddon;
    const failure = cuda.init(existsSync(CUDA_KERNELS_PATH) ? CUDA_KERNELS_PATH : '');
    return failure ?? { gramEigenvalues: cuda.gramEigenvalues, describe: cuda.describe };
  },
});

/** The CUDA core when it loads and finds a GPU, else null (the reason: cudaLoadError()). */
export function loadCudaLinalg(): CudaLinalg | null {
  return addon.load();
}

/** Why the CUDA core is not in use (undefined when it is). */
export function cudaLoadError(): string | undefined {
  return addon.error();
}
