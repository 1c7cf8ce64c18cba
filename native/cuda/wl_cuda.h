/*
 * weightlens CUDA eigenvalue core: squared singular values of row-major rows x cols matrices (the
 * eigenvalues of the smaller Gram matrix), Gram by cuBLAS, eigenvalues by cuSOLVER. CUDA is loaded
 * at run time with dlopen, so this builds and links with no CUDA headers or libraries present;
 * wl_cuda_init says what is missing where it cannot run.
 */
#ifndef WL_CUDA_H
#define WL_CUDA_H
#include <stddef.h>

typedef enum { WL_F64 = 0, WL_F32 = 1, WL_BF16 = 2, WL_F16 = 3 } wl_dtype;

/* Load libcudart/libcublas/libcusolver, find a device, create the handles. `kernels_path` names
 * the nvcc-built widening kernels (libweightlens_cuda_kernels.so) or is NULL/missing: then
 * BF16/FP16/FP32 inputs are widened on the host before upload. 0 on success; otherwise `err`
 * says what is missing, in one line. Idempotent (a failure is remembered). */
int wl_cuda_init(const char *kernels_path, char *err, size_t errlen);

/* Device name, memory and library versions, after a successful init. */
const char *wl_cuda_describe(void);

/* 1 when the device widening kernels are loaded (else widening runs on the host). */
int wl_cuda_device_widening(void);

/* Ascending eigenvalues of the min(rows, cols)^2 Gram matrix of each of `batch` row-major matrices
 * stored back to back in `data` (element type `dtype`), into out[batch * min(rows, cols)].
 * `single`: float32 Gram and solver (else float64). batch == 1: syrk + Xsyevd; batch > 1:
 * strided-batched gemm + syevjBatched (n <= 32) or XsyevBatched (when the library has it) or
 * Xsyevd per matrix, in chunks that fit the free device memory (checked before each upload).
 * 0 on success; otherwise `err` names the failing call. Calls are serialized (one device). */
int wl_cuda_gram_eigenvalues(const void *data, wl_dtype dtype, int batch, int rows, int cols, int single,
                             double *out, char *err, size_t errlen);

/* Widen n stored values (any wl_dtype) to float64 on the host: the fallback path's conversion. */
void wl_widen_on_host(const void *src, wl_dtype dtype, double *dst, size_t n);

/* The solver the last call used ("xsyevd", "syevjBatched", "xsyevBatched", "xsyevd-loop"). */
const char *wl_cuda_last_solver(void);

#endif
