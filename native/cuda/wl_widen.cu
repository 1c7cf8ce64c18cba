// Device-side widening for the CUDA core: BF16/FP16/FP32 weights are uploaded as stored (half or
// a quarter of the float64 bytes over PCIe) and widened here. Built by nvcc only
// (native/cuda/build.sh --kernels); without it wl_cuda.c widens on the host.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stddef.h>

// dtype codes of wl_cuda.h: 1 = f32, 2 = bf16, 3 = f16.
template <typename Out>
__global__ void widen(const void *src, int dtype, Out *dst, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    float v;
    if (dtype == 1) v = static_cast<const float *>(src)[i];
    else if (dtype == 2) v = __bfloat162float(static_cast<const __nv_bfloat16 *>(src)[i]);
    else v = __half2float(static_cast<const __half *>(src)[i]);
    dst[i] = static_cast<Out>(v);
  }
}

extern "C" int wl_widen_on_device(const void *src, int dtype, void *dst, int to_double, size_t n) {
  if (dtype < 1 || dtype > 3) return (int)cudaErrorInvalidValue;
  const int threads = 256;
  size_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  if (blocks == 0) return 0;
  if (to_double) widen<double><<<(unsigned)blocks, threads>>>(src, dtype, static_cast<double *>(dst), n);
  else widen<float><<<(unsigned)blocks, threads>>>(src, dtype, static_cast<float *>(dst), n);
  return (int)cudaGetLastError();
}
