/*
 * The CUDA core (see wl_cuda.h). The few CUDA entry points it uses are declared here with their
 * C ABI (opaque handles are pointers, enums are ints) and resolved with dlsym, so the package
 * builds everywhere; only a machine with a driver and the libraries runs it.
 */
#define _GNU_SOURCE
#include "wl_cuda.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enum values of the CUDA headers (stable ABI). */
enum { CUDA_R_32F = 0, CUDA_R_64F = 1 };
enum { MEMCPY_H2D = 1, MEMCPY_D2H = 2 };
enum { FILL_UPPER = 1, OP_N = 0, OP_T = 1, EIG_NOVECTOR = 0 };

typedef void *handle_t;
typedef int (*fn_int)(void);
static struct {
  /* cudart */
  int (*GetDeviceCount)(int *);
  int (*SetDevice)(int);
  int (*Malloc)(void **, size_t);
  int (*Free)(void *);
  int (*Memcpy)(void *, const void *, size_t, int);
  int (*MemGetInfo)(size_t *, size_t *);
  int (*DeviceSynchronize)(void);
  const char *(*GetErrorString)(int);
  int (*RuntimeGetVersion)(int *);
  int (*GetDeviceProperties)(void *, int);
  /* cublas */
  int (*BlasCreate)(handle_t *);
  int (*Dsyrk)(handle_t, int, int, int, int, const double *, const double *, int, const double *, double *, int);
  int (*Ssyrk)(handle_t, int, int, int, int, const float *, const float *, int, const float *, float *, int);
  int (*DgemmSB)(handle_t, int, int, int, int, int, const double *, const double *, int, long long, const double *,
                 int, long long, const double *, double *, int, long long, int);
  int (*SgemmSB)(handle_t, int, int, int, int, int, const float *, const float *, int, long long, const float *, int,
                 long long, const float *, float *, int, long long, int);
  /* cusolver */
  int (*SolverCreate)(handle_t *);
  int (*CreateParams)(handle_t *);
  int (*XsyevdBufferSize)(handle_t, handle_t, int, int, int64_t, int, const void *, int64_t, int, const void *, int,
                          size_t *, size_t *);
  int (*Xsyevd)(handle_t, handle_t, int, int, int64_t, int, void *, int64_t, int, void *, int, void *, size_t, void *,
                size_t, int *);
  int (*XsyevBatchedBufferSize)(handle_t, handle_t, int, int, int64_t, int, const void *, int64_t, int, const void *,
                                int, size_t *, size_t *, int64_t);
  int (*XsyevBatched)(handle_t, handle_t, int, int, int64_t, int, void *, int64_t, int, void *, int, void *, size_t,
                      void *, size_t, int *, int64_t);
  int (*CreateSyevjInfo)(handle_t *);
  int (*DsyevjBatchedBufferSize)(handle_t, int, int, int, const double *, int, const double *, int *, handle_t, int);
  int (*DsyevjBatched)(handle_t, int, int, int, double *, int, double *, double *, int, int *, handle_t, int);
  int (*SsyevjBatchedBufferSize)(handle_t, int, int, int, const float *, int, const float *, int *, handle_t, int);
  int (*SsyevjBatched)(handle_t, int, int, int, float *, int, float *, float *, int, int *, handle_t, int);
  /* nvcc-built widening kernels (optional) */
  int (*Widen)(const void *, int, void *, int, size_t);
} cu;

static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_state; /* 0 = not tried, 1 = ready, -1 = failed */
static char init_error[320];
static char description[320];
static const char *last_solver = "";
static handle_t blas, solver, solver_params, syevj_info;

static void *open_first(const char *const *names, char *tried, size_t triedlen) {
  for (int i = 0; names[i]; i++) {
    void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (lib) return lib;
  }
  snprintf(tried, triedlen, "%s", names[0]);
  return NULL;
}

#define SYM(lib, field, name)                                                            \
  do {                                                                                   \
    *(void **)&cu.field = dlsym(lib, name);                                              \
    if (!cu.field) {                                                                     \
      snprintf(init_error, sizeof init_error, "no CUDA: %s lacks %s", #lib, name);        \
      return -1;                                                                         \
    }                                                                                    \
  } while (0)
#define OPTSYM(lib, field, name) (*(void **)&cu.field = dlsym(lib, name))

static int load_libraries(const char *kernels_path) {
  static const char *const cudart_names[] = {"libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", NULL};
  static const char *const cublas_names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11", NULL};
  static const char *const cusolver_names[] = {"libcusolver.so", "libcusolver.so.12", "libcusolver.so.11", NULL};
  char tried[64];
  void *cudart = open_first(cudart_names, tried, sizeof tried);
  if (!cudart) { snprintf(init_error, sizeof init_error, "no CUDA: %s not found (install the CUDA runtime)", tried); return -1; }
  void *cublas = open_first(cublas_names, tried, sizeof tried);
  if (!cublas) { snprintf(init_error, sizeof init_error, "no CUDA: %s not found (install cuBLAS)", tried); return -1; }
  void *cusolver = open_first(cusolver_names, tried, sizeof tried);
  if (!cusolver) { snprintf(init_error, sizeof init_error, "no CUDA: %s not found (install cuSOLVER)", tried); return -1; }
  SYM(cudart, GetDeviceCount, "cudaGetDeviceCount");
  SYM(cudart, SetDevice, "cudaSetDevice");
  SYM(cudart, Malloc, "cudaMalloc");
  SYM(cudart, Free, "cudaFree");
  SYM(cudart, Memcpy, "cudaMemcpy");
  SYM(cudart, MemGetInfo, "cudaMemGetInfo");
  SYM(cudart, DeviceSynchronize, "cudaDeviceSynchronize");
  SYM(cudart, GetErrorString, "cudaGetErrorString");
  SYM(cudart, RuntimeGetVersion, "cudaRuntimeGetVersion");
  if (!OPTSYM(cudart, GetDeviceProperties, "cudaGetDeviceProperties_v2"))
    SYM(cudart, GetDeviceProperties, "cudaGetDeviceProperties");
  SYM(cublas, BlasCreate, "cublasCreate_v2");
  SYM(cublas, Dsyrk, "cublasDsyrk_v2");
  SYM(cublas, Ssyrk, "cublasSsyrk_v2");
  SYM(cublas, DgemmSB, "cublasDgemmStridedBatched");
  SYM(cublas, SgemmSB, "cublasSgemmStridedBatched");
  SYM(cusolver, SolverCreate, "cusolverDnCreate");
  SYM(cusolver, CreateParams, "cusolverDnCreateParams");
  SYM(cusolver, XsyevdBufferSize, "cusolverDnXsyevd_bufferSize");
  SYM(cusolver, Xsyevd, "cusolverDnXsyevd");
  SYM(cusolver, CreateSyevjInfo, "cusolverDnCreateSyevjInfo");
  SYM(cusolver, DsyevjBatchedBufferSize, "cusolverDnDsyevjBatched_bufferSize");
  SYM(cusolver, DsyevjBatched, "cusolverDnDsyevjBatched");
  SYM(cusolver, SsyevjBatchedBufferSize, "cusolverDnSsyevjBatched_bufferSize");
  SYM(cusolver, SsyevjBatched, "cusolverDnSsyevjBatched");
  /* Newer cuSOLVER only: batched syevd for n > 32. */
  if (!OPTSYM(cusolver, XsyevBatchedBufferSize, "cusolverDnXsyevBatched_bufferSize") ||
      !OPTSYM(cusolver, XsyevBatched, "cusolverDnXsyevBatched")) {
    cu.XsyevBatched = NULL;
  }
  if (kernels_path && kernels_path[0]) {
    void *kernels = dlopen(kernels_path, RTLD_NOW | RTLD_LOCAL);
    if (kernels) OPTSYM(kernels, Widen, "wl_widen_on_device");
  }
  return 0;
}

int wl_cuda_init(const char *kernels_path, char *err, size_t errlen) {
  pthread_mutex_lock(&device_lock);
  if (init_state == 0) {
    init_state = -1;
    int count = 0, rc;
    if (load_libraries(kernels_path) != 0) {
      /* init_error is set */
    } else if ((rc = cu.GetDeviceCount(&count)) != 0 || count < 1) {
      snprintf(init_error, sizeof init_error, "no CUDA: no usable GPU (cudaGetDeviceCount: %s)",
               rc ? cu.GetErrorString(rc) : "0 devices");
    } else if ((rc = cu.SetDevice(0)) != 0) {
      snprintf(init_error, sizeof init_error, "no CUDA: cudaSetDevice(0): %s", cu.GetErrorString(rc));
    } else if (cu.BlasCreate(&blas) != 0) {
      snprintf(init_error, sizeof init_error, "no CUDA: cublasCreate failed");
    } else if (cu.SolverCreate(&solver) != 0 || cu.CreateParams(&solver_params) != 0 || cu.CreateSyevjInfo(&syevj_info) != 0) {
      snprintf(init_error, sizeof init_error, "no CUDA: cusolverDnCreate failed");
    } else {
      /* cudaDeviceProp starts with char name[256]; the rest of its (version-dependent) layout is unused. */
      char *props = calloc(1, 16384);
      size_t free_bytes = 0, total_bytes = 0;
      int version = 0;
      cu.MemGetInfo(&free_bytes, &total_bytes);
      cu.RuntimeGetVersion(&version);
      if (props && cu.GetDeviceProperties(props, 0) == 0) props[255] = '\0';
      snprintf(description, sizeof description, "%s, %.1f GiB, CUDA runtime %d.%d, %s widening%s",
               props ? props : "GPU", (double)total_bytes / (1 << 30), version / 1000, (version % 1000) / 10,
               cu.Widen ? "device" : "host", cu.XsyevBatched ? ", XsyevBatched" : "");
      free(props);
      init_state = 1;
    }
  }
  int ok = init_state == 1;
  if (!ok && err) snprintf(err, errlen, "%s", init_error);
  pthread_mutex_unlock(&device_lock);
  return ok ? 0 : -1;
}

const char *wl_cuda_describe(void) { return init_state == 1 ? description : init_error; }
int wl_cuda_device_widening(void) { return cu.Widen != NULL; }
const char *wl_cuda_last_solver(void) { return last_solver; }

static size_t dtype_size(wl_dtype t) { return t == WL_F64 ? 8 : t == WL_F32 ? 4 : 2; }

static double half_to_double(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) bits = sign;
    else { /* subnormal: renormalize */
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; exp--; }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
  else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static double element(const void *data, wl_dtype t, size_t i) {
  switch (t) {
    case WL_F64: return ((const double *)data)[i];
    case WL_F32: return ((const float *)data)[i];
    case WL_BF16: {
      uint32_t bits = (uint32_t)((const uint16_t *)data)[i] << 16;
      float f;
      memcpy(&f, &bits, 4);
      return f;
    }
    default: return half_to_double(((const uint16_t *)data)[i]);
  }
}

void wl_widen_on_host(const void *src, wl_dtype dtype, double *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = element(src, dtype, i);
}

#define CU(call, what)                                                                          \
  do {                                                                                          \
    int rc_ = (call);                                                                           \
    if (rc_ != 0) {                                                                             \
      snprintf(err, errlen, "%s failed (%d%s%s)", what, rc_, cu_error_prefix(what),              \
               cu_error_text(what, rc_));                                                       \
      goto done;                                                                                \
    }                                                                                           \
  } while (0)

static const char *cu_error_prefix(const char *what) { return strncmp(what, "cuda", 4) == 0 ? ": " : ""; }
static const char *cu_error_text(const char *what, int rc) {
  return strncmp(what, "cuda", 4) == 0 ? cu.GetErrorString(rc) : "";
}

/*
 * Upload `count` matrices starting at matrix `first` and leave them on the device in the working
 * precision (`elem` = 8 or 4 bytes) at `dst`. Same-type data goes straight up; otherwise the stored
 * type is uploaded and widened on the device when the kernels are loaded, else widened on the host.
 */
static int upload(const void *data, wl_dtype dtype, size_t first_elem, size_t n, int single, void *dst, void *scratch,
                  char *err, size_t errlen) {
  const wl_dtype work = single ? WL_F32 : WL_F64;
  const size_t in_size = dtype_size(dtype), out_size = dtype_size(work);
  const char *src = (const char *)data + first_elem * in_size;
  int rc = -1;
  void *host = NULL;
  if (dtype == work) {
    CU(cu.Memcpy(dst, src, n * in_size, MEMCPY_H2D), "cudaMemcpy (upload)");
  } else if (cu.Widen && in_size < out_size) {
    CU(cu.Memcpy(scratch, src, n * in_size, MEMCPY_H2D), "cudaMemcpy (upload)");
    CU(cu.Widen(scratch, (int)dtype, dst, !single, n), "widening kernel");
  } else {
    host = malloc(n * out_size);
    if (!host) { snprintf(err, errlen, "out of host memory widening %zu values", n); goto done; }
    if (single) for (size_t i = 0; i < n; i++) ((float *)host)[i] = (float)element(src, dtype, i);
    else for (size_t i = 0; i < n; i++) ((double *)host)[i] = element(src, dtype, i);
    CU(cu.Memcpy(dst, host, n * out_size, MEMCPY_H2D), "cudaMemcpy (upload)");
  }
  rc = 0;
done:
  free(host);
  return rc;
}

int wl_cuda_gram_eigenvalues(const void *data, wl_dtype dtype, int batch, int rows, int cols, int single,
                             double *out, char *err, size_t errlen) {
  if (init_state != 1) { snprintf(err, errlen, "%s", init_error[0] ? init_error : "no CUDA: wl_cuda_init not called"); return -1; }
  if (batch < 1 || rows < 1 || cols < 1) { snprintf(err, errlen, "bad shape %d x %dx%d", batch, rows, cols); return -1; }
  pthread_mutex_lock(&device_lock);
  const int m = rows < cols ? rows : cols, k = rows < cols ? cols : rows;
  const size_t elem = single ? 4 : 8, in_size = dtype_size(dtype);
  const size_t per_matrix = (size_t)rows * cols, per_gram = (size_t)m * m;
  const int data_type = single ? CUDA_R_32F : CUDA_R_64F;
  const int widen_on_device = cu.Widen && in_size < elem;
  int rc = -1, done_matrices = 0;
  void *d_a = NULL, *d_scratch = NULL, *d_gram = NULL, *d_w = NULL, *d_work = NULL, *h_work = NULL, *h_w = NULL;
  int *d_info = NULL;
  size_t dev_ws = 0, host_ws = 0;
  const double one = 1.0, zero = 0.0;
  const float onef = 1.0f, zerof = 0.0f;

  /* Matrices per chunk: what fits in 80% of the free memory with a solver workspace estimate. */
  size_t free_bytes = 0, total_bytes = 0;
  CU(cu.MemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  const size_t need_one = per_matrix * (elem + (widen_on_device ? in_size : 0)) + 3 * per_gram * elem + (size_t)m * elem;
  size_t chunk = (size_t)((double)free_bytes * 0.8 / (double)need_one);
  if (chunk < 1) {
    snprintf(err, errlen, "matrix %dx%d needs ~%.2f GiB on the device, %.2f GiB free", rows, cols,
             (double)need_one / (1 << 30), (double)free_bytes / (1 << 30));
    goto done;
  }
  if (chunk > (size_t)batch) chunk = (size_t)batch;
  const int use_syevj = batch > 1 && m <= 32;
  const int use_xbatched = batch > 1 && !use_syevj && cu.XsyevBatched != NULL;
  last_solver = batch == 1 ? "xsyevd" : use_syevj ? "syevjBatched" : use_xbatched ? "xsyevBatched" : "xsyevd-loop";

  CU(cu.Malloc(&d_a, chunk * per_matrix * elem), "cudaMalloc (matrix)");
  if (widen_on_device) CU(cu.Malloc(&d_scratch, chunk * per_matrix * in_size), "cudaMalloc (stored copy)");
  CU(cu.Malloc(&d_gram, chunk * per_gram * elem), "cudaMalloc (Gram)");
  CU(cu.Malloc(&d_w, chunk * (size_t)m * elem), "cudaMalloc (eigenvalues)");
  CU(cu.Malloc((void **)&d_info, chunk * sizeof(int)), "cudaMalloc (info)");
  h_w = malloc(chunk * (size_t)m * elem);
  if (!h_w) { snprintf(err, errlen, "out of host memory"); goto done; }

  if (use_syevj) {
    int lwork = 0;
    if (single) CU(cu.SsyevjBatchedBufferSize(solver, EIG_NOVECTOR, FILL_UPPER, m, d_gram, m, d_w, &lwork, syevj_info, (int)chunk), "cusolverDnSsyevjBatched_bufferSize");
    else CU(cu.DsyevjBatchedBufferSize(solver, EIG_NOVECTOR, FILL_UPPER, m, d_gram, m, d_w, &lwork, syevj_info, (int)chunk), "cusolverDnDsyevjBatched_bufferSize");
    dev_ws = (size_t)lwork * elem;
  } else if (use_xbatched) {
    CU(cu.XsyevBatchedBufferSize(solver, solver_params, EIG_NOVECTOR, FILL_UPPER, m, data_type, d_gram, m, data_type, d_w, data_type, &dev_ws, &host_ws, (int64_t)chunk), "cusolverDnXsyevBatched_bufferSize");
  } else {
    CU(cu.XsyevdBufferSize(solver, solver_params, EIG_NOVECTOR, FILL_UPPER, m, data_type, d_gram, m, data_type, d_w, data_type, &dev_ws, &host_ws), "cusolverDnXsyevd_bufferSize");
  }
  CU(cu.MemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  if (dev_ws > free_bytes) {
    snprintf(err, errlen, "solver workspace %.2f GiB exceeds the free %.2f GiB", (double)dev_ws / (1 << 30), (double)free_bytes / (1 << 30));
    goto done;
  }
  if (dev_ws) CU(cu.Malloc(&d_work, dev_ws), "cudaMalloc (workspace)");
  if (host_ws) { h_work = malloc(host_ws); if (!h_work) { snprintf(err, errlen, "out of host memory"); goto done; } }

  while (done_matrices < batch) {
    const int count = (int)((size_t)(batch - done_matrices) < chunk ? (size_t)(batch - done_matrices) : chunk);
    if (upload(data, dtype, (size_t)done_matrices * per_matrix, (size_t)count * per_matrix, single, d_a, d_scratch, err, errlen) != 0) goto done;
    /* Row-major rows x cols is column-major A (cols x rows, lda = cols): cols <= rows gives
     * W^T W = A A^T (cols x cols), else W W^T = A^T A (rows x rows). */
    const int trans = cols <= rows ? OP_N : OP_T;
    if (count == 1 && !use_syevj && !use_xbatched) {
      if (single) CU(cu.Ssyrk(blas, FILL_UPPER, trans, m, k, &onef, d_a, cols, &zerof, d_gram, m), "cublasSsyrk");
      else CU(cu.Dsyrk(blas, FILL_UPPER, trans, m, k, &one, d_a, cols, &zero, d_gram, m), "cublasDsyrk");
    } else {
      /* C = op(A) op(A)^T per matrix: gemm(opA, !opA) with A = B. */
      const int ta = trans, tb = trans == OP_N ? OP_T : OP_N;
      if (single) CU(cu.SgemmSB(blas, ta, tb, m, m, k, &onef, d_a, cols, (long long)per_matrix, d_a, cols, (long long)per_matrix, &zerof, d_gram, m, (long long)per_gram, count), "cublasSgemmStridedBatched");
      else CU(cu.DgemmSB(blas, ta, tb, m, m, k, &one, d_a, cols, (long long)per_matrix, d_a, cols, (long long)per_matrix, &zero, d_gram, m, (long long)per_gram, count), "cublasDgemmStridedBatched");
    }
    if (use_syevj) {
      if (single) CU(cu.SsyevjBatched(solver, EIG_NOVECTOR, FILL_UPPER, m, d_gram, m, d_w, d_work, (int)(dev_ws / elem), d_info, syevj_info, count), "cusolverDnSsyevjBatched");
      else CU(cu.DsyevjBatched(solver, EIG_NOVECTOR, FILL_UPPER, m, d_gram, m, d_w, d_work, (int)(dev_ws / elem), d_info, syevj_info, count), "cusolverDnDsyevjBatched");
    } else if (use_xbatched) {
      CU(cu.XsyevBatched(solver, solver_params, EIG_NOVECTOR, FILL_UPPER, m, data_type, d_gram, m, data_type, d_w, data_type, d_work, dev_ws, h_work, host_ws, d_info, (int64_t)count), "cusolverDnXsyevBatched");
    } else {
      for (int i = 0; i < count; i++) {
        CU(cu.Xsyevd(solver, solver_params, EIG_NOVECTOR, FILL_UPPER, m, data_type, (char *)d_gram + (size_t)i * per_gram * elem, m, data_type, (char *)d_w + (size_t)i * m * elem, data_type, d_work, dev_ws, h_work, host_ws, d_info + i), "cusolverDnXsyevd");
      }
    }
    CU(cu.DeviceSynchronize(), "cudaDeviceSynchronize");
    int info[64];
    for (int i = 0; i < count; i += 64) {
      const int n_info = count - i < 64 ? count - i : 64;
      CU(cu.Memcpy(info, d_info + i, (size_t)n_info * sizeof(int), MEMCPY_D2H), "cudaMemcpy (info)");
      for (int j = 0; j < n_info; j++) if (info[j] != 0) { snprintf(err, errlen, "%s: info=%d for matrix %d", last_solver, info[j], done_matrices + i + j); goto done; }
    }
    CU(cu.Memcpy(h_w, d_w, (size_t)count * m * elem, MEMCPY_D2H), "cudaMemcpy (eigenvalues)");
    double *dst = out + (size_t)done_matrices * m;
    if (single) for (size_t i = 0; i < (size_t)count * m; i++) dst[i] = ((float *)h_w)[i];
    else memcpy(dst, h_w, (size_t)count * m * sizeof(double));
    done_matrices += count;
  }
  rc = 0;
done:
  if (d_a) cu.Free(d_a);
  if (d_scratch) cu.Free(d_scratch);
  if (d_gram) cu.Free(d_gram);
  if (d_w) cu.Free(d_w);
  if (d_work) cu.Free(d_work);
  if (d_info) cu.Free(d_info);
  free(h_work);
  free(h_w);
  pthread_mutex_unlock(&device_lock);
  return rc;
}
