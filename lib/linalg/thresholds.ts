/**
 * Size thresholds of the eigen-solver routes. Pure constants (no imports), so workflow code can route
 * layers by the same numbers the solvers use.
 */

/**
 * From this smaller dimension on, 'auto' takes the CUDA core where a GPU is usable: below it the
 * upload and launch overheads (~ms) outweigh a CPU solve of a few tens of milliseconds.
 */
export const CUDA_MIN_DIM = 1024;

/**
 * From this smaller dimension on, 'auto' takes the native Gram route (dsyrk + dsyevd): about 3× faster
 * than dgesdd (bench/spectral.ts: 0.92 s vs 2.69 s at 2048², one thread), which is what makes a
 * layer cost less than WeightWatcher's SVD. Below it the SVD of W costs under a quarter second and
 * keeps tiny singular values exact, as WeightWatcher's do.
 */
export const GRAM_MIN_DIM = 1024;
