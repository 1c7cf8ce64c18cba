/*
 * Standalone check and timing driver for the CUDA core (no Node needed). Builds against
 * OpenBLAS/LAPACKE; CUDA is dlopen'ed by the core, so without a GPU it prints one "no CUDA: ..."
 * line after the host-side checks and exits 0 (2 with --require-cuda).
 *
 *   wl_cuda_check [--kernels LIB] [--require-cuda] [--bench] [--cpu-bench]
 *
 * Checks: eigenvalues of the Gram matrix against LAPACK (dsyrk + dsyevd, the CPU route's
 * solver) on the same matrices, float64 within 1e-10 * lambda_max, float32 reported; BF16/FP16
 * inputs widened the same way on host and device. --bench times the large shapes on the GPU
 * (and, with --cpu-bench, on LAPACK with the threads OpenBLAS is given). Output lines start with
 * CHECK / TIME so scripts can parse them.
 */
#define _POSIX_C_SOURCE 200809L
#include "wl_cuda.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double uniform01(void) {
  rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
  return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double gaussian(void) { return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01()); }

/* Heavy-tailed test matrix: Gaussian entries times a power-law column scale (never zeros). */
static double *random_matrix(int batch, int rows, int cols) {
  double *a = malloc(sizeof(double) * (size_t)batch * rows * cols);
  if (!a) { fprintf(stderr, "out of memory\n"); exit(1); }
  for (int b = 0; b < batch; b++)
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++)
        a[((size_t)b * rows + r) * cols + c] = gaussian() * pow(1.0 + c, -0.35) / sqrt((double)rows);
  return a;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The CPU route (native/weightlens_linalg.c 'syevd'): Gram by dsyrk, eigenvalues by dsyevd. */
static int lapack_gram_eigenvalues(const double *a, int rows, int cols, double *out) {
  const int m = rows < cols ? rows : cols;
  double *gram = calloc((size_t)m * m, sizeof(double));
  if (!gram) return -1;
  if (cols <= rows) cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, cols, rows, 1.0, a, cols, 0.0, gram, m);
  else cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, rows, cols, 1.0, a, cols, 0.0, gram, m);
  int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'U', m, gram, m, out);
  free(gram);
  return info;
}

static double max_rel_error(const double *x, const double *ref, size_t n, int m) {
  double worst = 0;
  for (size_t base = 0; base < n; base += (size_t)m) {
    const double scale = fabs(ref[base + m - 1]) > 0 ? fabs(ref[base + m - 1]) : 1;
    for (int i = 0; i < m; i++) {
      const double e = fabs(x[base + i] - ref[base + i]) / scale;
      if (!(e <= worst)) worst = e; /* NaN counts as the worst */
    }
  }
  return worst;
}

static uint16_t to_bf16(double v) {
  float f = (float)v;
  uint32_t bits;
  memcpy(&bits, &f, 4);
  return (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}
static uint16_t to_f16(double v) { /* normal range only: the test values are */
  float f = (float)v;
  uint32_t bits;
  memcpy(&bits, &f, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const int exp = (int)((bits >> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return (uint16_t)sign;
  return (uint16_t)(sign | ((uint32_t)exp << 10) | ((bits >> 13) & 0x3ff));
}

static int failures = 0;
static void check(const char *name, int ok, const char *detail) {
  printf("CHECK %-44s %s %s\n", name, ok ? "ok  " : "FAIL", detail);
  if (!ok) failures++;
}

/* Host widening against exactly representable values (runs without a GPU). */
static void check_host_widening(void) {
  const uint16_t bf16[] = {0x3f80, 0xc000, 0x3e80, 0x0000, 0x8000, 0x4049};
  const double bf16_want[] = {1.0, -2.0, 0.25, 0.0, -0.0, 3.140625};
  const uint16_t f16[] = {0x3c00, 0xc000, 0x3400, 0x0001, 0x7bff, 0x0000};
  const double f16_want[] = {1.0, -2.0, 0.25, 5.960464477539063e-08, 65504.0, 0.0};
  double got[6];
  int ok = 1;
  wl_widen_on_host(bf16, WL_BF16, got, 6);
  for (int i = 0; i < 6; i++) ok &= got[i] == bf16_want[i];
  check("host widening bf16", ok, "");
  ok = 1;
  wl_widen_on_host(f16, WL_F16, got, 6);
  for (int i = 0; i < 6; i++) ok &= got[i] == f16_want[i];
  check("host widening f16 (normal, subnormal, max)", ok, "");
}

/* One shape against LAPACK, in float64 and float32, from f64 / f32 / bf16 / f16 storage. */
static void check_shape(int batch, int rows, int cols) {
  const int m = rows < cols ? rows : cols;
  const size_t n = (size_t)batch * rows * cols, nw = (size_t)batch * m;
  double *a = random_matrix(batch, rows, cols);
  double *ref = malloc(sizeof(double) * nw), *got = malloc(sizeof(double) * nw), *widened = malloc(sizeof(double) * n);
  float *a32 = malloc(sizeof(float) * n);
  uint16_t *a16 = malloc(sizeof(uint16_t) * n);
  char name[96], detail[160], err[320];
  for (int b = 0; b < batch; b++) lapack_gram_eigenvalues(a + (size_t)b * rows * cols, rows, cols, ref + (size_t)b * m);

  struct { const char *label; wl_dtype dtype; const void *data; int single; double tol; } cases[6];
  for (size_t i = 0; i < n; i++) a32[i] = (float)a[i];
  cases[0] = (typeof(cases[0])){"f64", WL_F64, a, 0, 1e-10};
  cases[1] = (typeof(cases[0])){"f64 in, f32 solve (report)", WL_F64, a, 1, 1e-2};
  cases[2] = (typeof(cases[0])){"f32 in, f64 solve", WL_F32, a32, 0, -1};
  for (int c = 0; c < 3; c++) {
    snprintf(name, sizeof name, "%dx%dx%d %s", batch, rows, cols, cases[c].label);
    if (wl_cuda_gram_eigenvalues(cases[c].data, cases[c].dtype, batch, rows, cols, cases[c].single, got, err, sizeof err) != 0) {
      check(name, 0, err);
      continue;
    }
    double *want = ref;
    if (cases[c].tol < 0) { /* f32 storage: compare with LAPACK on the same (rounded) values */
      double *ref32 = malloc(sizeof(double) * nw);
      for (size_t i = 0; i < n; i++) widened[i] = a32[i];
      for (int b = 0; b < batch; b++) lapack_gram_eigenvalues(widened + (size_t)b * rows * cols, rows, cols, ref32 + (size_t)b * m);
      const double e = max_rel_error(got, ref32, nw, m);
      snprintf(detail, sizeof detail, "max|d|/lmax=%.2e (<=1e-10) solver=%s", e, wl_cuda_last_solver());
      check(name, e <= 1e-10, detail);
      free(ref32);
      continue;
    }
    const double e = max_rel_error(got, want, nw, m);
    snprintf(detail, sizeof detail, "max|d|/lmax=%.2e (<=%.0e) solver=%s", e, cases[c].tol, wl_cuda_last_solver());
    check(name, e <= cases[c].tol, detail);
  }
  /* Half types: both widening paths must give LAPACK's eigenvalues of the widened matrix. */
  const wl_dtype halves[2] = {WL_BF16, WL_F16};
  for (int h = 0; h < 2; h++) {
    for (size_t i = 0; i < n; i++) a16[i] = halves[h] == WL_BF16 ? to_bf16(a[i]) : to_f16(a[i]);
    wl_widen_on_host(a16, halves[h], widened, n);
    for (int b = 0; b < batch; b++) lapack_gram_eigenvalues(widened + (size_t)b * rows * cols, rows, cols, ref + (size_t)b * m);
    snprintf(name, sizeof name, "%dx%dx%d %s in, f64 solve (%s widening)", batch, rows, cols, halves[h] == WL_BF16 ? "bf16" : "f16",
             wl_cuda_device_widening() ? "device" : "host");
    if (wl_cuda_gram_eigenvalues(a16, halves[h], batch, rows, cols, 0, got, err, sizeof err) != 0) { check(name, 0, err); continue; }
    const double e = max_rel_error(got, ref, nw, m);
    snprintf(detail, sizeof detail, "max|d|/lmax=%.2e (<=1e-10)", e);
    check(name, e <= 1e-10, detail);
  }
  free(a); free(ref); free(got); free(widened); free(a32); free(a16);
}

static void time_shape(const char *label, int batch, int rows, int cols, int cpu) {
  const int m = rows < cols ? rows : cols;
  double *a = random_matrix(batch, rows, cols);
  double *got = malloc(sizeof(double) * (size_t)batch * m), *ref = malloc(sizeof(double) * (size_t)batch * m);
  float *a32 = malloc(sizeof(float) * (size_t)batch * rows * cols);
  for (size_t i = 0; i < (size_t)batch * rows * cols; i++) a32[i] = (float)a[i];
  char err[320];
  for (int single = 0; single <= 1; single++) {
    double best = 1e30;
    for (int rep = 0; rep < 2; rep++) { /* the first also warms the libraries up */
      const double t0 = now();
      if (wl_cuda_gram_eigenvalues(single ? (void *)a32 : (void *)a, single ? WL_F32 : WL_F64, batch, rows, cols, single, got, err, sizeof err) != 0) {
        printf("TIME %s cuda-%s error %s\n", label, single ? "f32" : "f64", err);
        break;
      }
      const double t = now() - t0;
      if (t < best) best = t;
    }
    printf("TIME %s cuda-%s %.4f s solver=%s\n", label, single ? "f32" : "f64", best, wl_cuda_last_solver());
    fflush(stdout);
  }
  if (cpu) {
    const double t0 = now();
    for (int b = 0; b < batch; b++) lapack_gram_eigenvalues(a + (size_t)b * rows * cols, rows, cols, ref + (size_t)b * m);
    printf("TIME %s lapack-f64 %.4f s threads=%d\n", label, now() - t0, openblas_get_num_threads());
    wl_cuda_gram_eigenvalues(a, WL_F64, batch, rows, cols, 0, got, err, sizeof err);
    printf("CHECK %s f64 vs lapack max|d|/lmax=%.2e\n", label, max_rel_error(got, ref, (size_t)batch * m, m));
  }
  free(a); free(got); free(ref); free(a32);
}

int main(int argc, char **argv) {
  const char *kernels = NULL;
  int require = 0, bench = 0, cpu = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--kernels") && i + 1 < argc) kernels = argv[++i];
    else if (!strcmp(argv[i], "--require-cuda")) require = 1;
    else if (!strcmp(argv[i], "--bench")) bench = 1;
    else if (!strcmp(argv[i], "--cpu-bench")) cpu = 1;
    else { fprintf(stderr, "unknown option %s\nusage: %s [--kernels LIB] [--require-cuda] [--bench] [--cpu-bench]\n", argv[i], argv[0]); return 1; }
  }
  check_host_widening();
  char err[320];
  if (wl_cuda_init(kernels, err, sizeof err) != 0) {
    printf("%s\n", err);
    return failures ? 1 : require ? 2 : 0;
  }
  printf("device: %s\n", wl_cuda_describe());
  check_shape(1, 300, 200);
  check_shape(1, 200, 300);
  check_shape(1, 1024, 768);
  check_shape(64, 24, 20);   /* syevjBatched (n <= 32) */
  check_shape(16, 100, 80);  /* XsyevBatched, or Xsyevd per matrix */
  if (bench) {
    time_shape("4096x4096", 1, 4096, 4096, cpu);
    time_shape("8192x8192", 1, 8192, 8192, cpu);
    time_shape("4096x14336", 1, 4096, 14336, cpu);
    time_shape("1000x512x512", 1000, 512, 512, cpu);
  }
  printf("%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
