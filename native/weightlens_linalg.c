/*
 * weightlens native linear algebra: squared singular values of a row-major rows x cols matrix
 * (the eigenvalues of its smaller Gram matrix), computed with OpenBLAS/LAPACK on a libuv worker
 * thread so the event loop keeps running (Temporal activities must heartbeat meanwhile).
 *
 *   squaredSingularValues(data: Float32Array|Float64Array, rows, cols, method: 'syevd'|'gesdd',
 *                         single: boolean) -> Promise<Float64Array>   (ascending, length min(rows, cols))
 *
 * 'syevd': Gram matrix by ?syrk, then ?syevd (values only). 'gesdd': ?gesdd values only, squared.
 * `single` runs the same routines in float32. The input is copied (and widened) on the main thread,
 * so JavaScript may reuse its buffer at once.
 *
 * A matrix too tall to hold is given by its Gram matrix, accumulated from row blocks:
 *   gramUpdate(gram: Float64Array (cols*cols), block: Float32Array|Float64Array, rows, cols)
 *     -> Promise<void>   gram += block^T block by dsyrk, updating the row-major LOWER triangle
 *                        (column-major upper); `gram` must not be touched until it settles.
 *   symmetricEigenvalues(gram: Float64Array (m*m), m) -> Promise<Float64Array>
 *                        ascending eigenvalues by dsyevd from that triangle (gram is copied).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <pthread.h>

/* OpenBLAS already uses every core for one call; concurrent jobs would only oversubscribe them
 * (and older OpenBLAS builds are not safe for concurrent callers), so jobs run one at a time. */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;

extern char *openblas_get_config(void);

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int rows;
  int cols;
  int use_gesdd;
  int single;
  void *matrix;     /* double* or float* copy of the input, row-major */
  double *values;   /* output, ascending */
  int count;
  char error[160];
} EigenJob;

#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error((env), NULL, "napi call failed: " #call);           \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

/* Column-major view: the row-major rows x cols buffer is the column-major cols x rows matrix Ac.
 * cols <= rows: W^T W = Ac Ac^T (n = cols, k = rows, no transpose); else W W^T = Ac^T Ac. */
static void run_double(EigenJob *job) {
  const int rows = job->rows, cols = job->cols;
  const int m = rows < cols ? rows : cols;
  double *a = (double *)job->matrix;
  double *out = job->values;
  lapack_int info;
  if (job->use_gesdd) {
    double *s = malloc(sizeof(double) * (size_t)m);
    if (!s) { snprintf(job->error, sizeof job->error, "out of memory"); return; }
    info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', cols, rows, a, cols, s, NULL, 1, NULL, 1);
    if (info != 0) { snprintf(job->error, sizeof job->error, "dgesdd failed (info=%d)", (int)info); free(s); return; }
    for (int i = 0; i < m; i++) out[i] = s[m - 1 - i] * s[m - 1 - i];
    free(s);
  } else {
    double *gram = calloc((size_t)m * (size_t)m, sizeof(double));
    if (!gram) { snprintf(job->error, sizeof job->error, "out of memory"); return; }
    if (cols <= rows) cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, cols, rows, 1.0, a, cols, 0.0, gram, m);
    else cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, rows, cols, 1.0, a, cols, 0.0, gram, m);
    info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'U', m, gram, m, out);
    free(gram);
    if (info != 0) { snprintf(job->error, sizeof job->error, "dsyevd failed (info=%d)", (int)info); return; }
  }
}

static void run_single(EigenJob *job) {
  const int rows = job->rows, cols = job->cols;
  const int m = rows < cols ? rows : cols;
  float *a = (float *)job->matrix;
  float *w = malloc(sizeof(float) * (size_t)m);
  lapack_int info;
  if (!w) { snprintf(job->error, sizeof job->error, "out of memory"); return; }
  if (job->use_gesdd) {
    info = LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'N', cols, rows, a, cols, w, NULL, 1, NULL, 1);
    if (info != 0) { snprintf(job->error, sizeof job->error, "sgesdd failed (info=%d)", (int)info); free(w); return; }
    for (int i = 0; i < m; i++) job->values[i] = (double)w[m - 1 - i] * (double)w[m - 1 - i];
  } else {
    float *gram = calloc((size_t)m * (size_t)m, sizeof(float));
    if (!gram) { snprintf(job->error, sizeof job->error, "out of memory"); free(w); return; }
    if (cols <= rows) cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, cols, rows, 1.0f, a, cols, 0.0f, gram, m);
    else cblas_ssyrk(CblasColMajor, CblasUpper, CblasTrans, rows, cols, 1.0f, a, cols, 0.0f, gram, m);
    info = LAPACKE_ssyevd(LAPACK_COL_MAJOR, 'N', 'U', m, gram, m, w);
    free(gram);
    if (info != 0) { snprintf(job->error, sizeof job->error, "ssyevd failed (info=%d)", (int)info); free(w); return; }
    for (int i = 0; i < m; i++) job->values[i] = (double)w[i];
  }
  free(w);
}

static void execute(napi_env env, void *data) {
  (void)env;
  EigenJob *job = data;
  pthread_mutex_lock(&blas_lock);
  if (job->single) run_single(job);
  else run_double(job);
  pthread_mutex_unlock(&blas_lock);
  if (job->error[0] == '\0') {
    /* The Gram matrix is PSD: round-off negatives are zero singular values squared. */
    for (int i = 0; i < job->count; i++) if (job->values[i] < 0) job->values[i] = 0;
  }
}

/* Rejects an async job's promise with an Error carrying its message. */
static void reject_with_message(napi_env env, napi_deferred deferred, const char *text) {
  napi_value message, error;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_reject_deferred(env, deferred, error);
}

static void complete(napi_env env, napi_status status, void *data) {
  EigenJob *job = data;
  if (status != napi_ok && job->error[0] == '\0') snprintf(job->error, sizeof job->error, "async work cancelled");
  if (job->error[0] != '\0') {
    reject_with_message(env, job->deferred, job->error);
  } else {
    void *buffer_data;
    napi_value buffer, array;
    napi_create_arraybuffer(env, sizeof(double) * (size_t)job->count, &buffer_data, &buffer);
    memcpy(buffer_data, job->values, sizeof(double) * (size_t)job->count);
    napi_create_typedarray(env, napi_float64_array, (size_t)job->count, buffer, 0, &array);
    napi_resolve_deferred(env, job->deferred, array);
  }
  napi_delete_async_work(env, job->work);
  free(job->matrix);
  free(job->values);
  free(job);
}

static napi_value squared_singular_values(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) { napi_throw_type_error(env, NULL, "expected (data, rows, cols, method, single)"); return NULL; }
  bool is_typed = false;
  CHECK(env, napi_is_typedarray(env, argv[0], &is_typed));
  if (!is_typed) { napi_throw_type_error(env, NULL, "data must be a Float32Array or Float64Array"); return NULL; }
  napi_typedarray_type type;
  size_t length;
  void *source;
  CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &length, &source, NULL, NULL));
  if (type != napi_float32_array && type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "data must be a Float32Array or Float64Array");
    return NULL;
  }
  int32_t rows, cols;
  CHECK(env, napi_get_value_int32(env, argv[1], &rows));
  CHECK(env, napi_get_value_int32(env, argv[2], &cols));
  if (rows < 1 || cols < 1 || (size_t)rows * (size_t)cols > length) {
    napi_throw_range_error(env, NULL, "bad matrix shape for the data length");
    return NULL;
  }
  char method[16] = {0};
  size_t method_length;
  CHECK(env, napi_get_value_string_utf8(env, argv[3], method, sizeof method, &method_length));
  bool single = false;
  CHECK(env, napi_get_value_bool(env, argv[4], &single));

  EigenJob *job = calloc(1, sizeof(EigenJob));
  if (!job) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  const size_t count = (size_t)rows * (size_t)cols;
  job->rows = rows;
  job->cols = cols;
  job->use_gesdd = strcmp(method, "gesdd") == 0;
  job->single = single;
  job->count = rows < cols ? rows : cols;
  job->matrix = malloc(count * (single ? sizeof(float) : sizeof(double)));
  job->values = malloc(sizeof(double) * (size_t)job->count);
  if (!job->matrix || !job->values) {
    free(job->matrix); free(job->values); free(job);
    napi_throw_error(env, NULL, "out of memory copying the matrix");
    return NULL;
  }
  if (single) {
    float *dst = job->matrix;
    if (type == napi_float32_array) memcpy(dst, source, count * sizeof(float));
    else for (size_t i = 0; i < count; i++) dst[i] = (float)((double *)source)[i];
  } else {
    double *dst = job->matrix;
    if (type == napi_float64_array) memcpy(dst, source, count * sizeof(double));
    else for (size_t i = 0; i < count; i++) dst[i] = (double)((float *)source)[i];
  }
  napi_value promise, resource_name;
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, "weightlens:eigenvalues", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(env, napi_create_async_work(env, NULL, resource_name, execute, complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref gram_ref; /* keeps the caller's gram buffer alive while the worker writes it */
  double *gram;      /* the caller's m x m buffer (update) or a copy (eigenvalues) */
  double *block;     /* rows x cols row-major copy, widened (update only) */
  int rows;
  int m;
  double *values;    /* eigenvalues (eigenvalues only) */
  char error[160];
} GramJob;

static void gram_execute(napi_env env, void *data) {
  (void)env;
  GramJob *job = data;
  pthread_mutex_lock(&blas_lock);
  if (job->block) {
    /* Row-major rows x m block = column-major m x rows Ac; Ac Ac^T = block^T block. */
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, job->m, job->rows, 1.0, job->block, job->m, 1.0,
                job->gram, job->m);
  } else {
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'U', job->m, job->gram, job->m, job->values);
    if (info != 0) snprintf(job->error, sizeof job->error, "dsyevd failed (info=%d)", (int)info);
  }
  pthread_mutex_unlock(&blas_lock);
}

static void gram_complete(napi_env env, napi_status status, void *data) {
  GramJob *job = data;
  if (status != napi_ok && job->error[0] == '\0') snprintf(job->error, sizeof job->error, "async work cancelled");
  if (job->error[0] != '\0') {
    reject_with_message(env, job->deferred, job->error);
  } else if (job->block) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    void *buffer_data;
    napi_value buffer, array;
    const size_t m = (size_t)job->m;
    napi_create_arraybuffer(env, sizeof(double) * m, &buffer_data, &buffer);
    memcpy(buffer_data, job->values, sizeof(double) * m);
    napi_create_typedarray(env, napi_float64_array, m, buffer, 0, &array);
    napi_resolve_deferred(env, job->deferred, array);
  }
  napi_delete_async_work(env, job->work);
  if (job->gram_ref) napi_delete_reference(env, job->gram_ref);
  else free(job->gram);
  free(job->block);
  free(job->values);
  free(job);
}

/* A Float64Array argument holding at least `need` values, or NULL with a TypeError/RangeError thrown. */
static double *float64_argument(napi_env env, napi_value value, size_t need, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  if (length < need) {
    napi_throw_range_error(env, NULL, "gram buffer is smaller than m*m");
    return NULL;
  }
  return data;
}

static napi_value queue_gram_job(napi_env env, GramJob *job) {
  napi_value promise, resource_name;
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, "weightlens:gram", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(env, napi_create_async_work(env, NULL, resource_name, gram_execute, gram_complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

static napi_value gram_update(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) { napi_throw_type_error(env, NULL, "expected (gram, block, rows, cols)"); return NULL; }
  int32_t rows, cols;
  CHECK(env, napi_get_value_int32(env, argv[2], &rows));
  CHECK(env, napi_get_value_int32(env, argv[3], &cols));
  if (rows < 1 || cols < 1) { napi_throw_range_error(env, NULL, "bad block shape"); return NULL; }
  double *gram = float64_argument(env, argv[0], (size_t)cols * (size_t)cols, "gram must be a Float64Array");
  if (!gram) return NULL;
  bool is_typed = false;
  CHECK(env, napi_is_typedarray(env, argv[1], &is_typed));
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void *source = NULL;
  if (is_typed) CHECK(env, napi_get_typedarray_info(env, argv[1], &type, &length, &source, NULL, NULL));
  if (!is_typed || (type != napi_float32_array && type != napi_float64_array)) {
    napi_throw_type_error(env, NULL, "block must be a Float32Array or Float64Array");
    return NULL;
  }
  const size_t count = (size_t)rows * (size_t)cols;
  if (count > length) { napi_throw_range_error(env, NULL, "bad block shape for the data length"); return NULL; }
  GramJob *job = calloc(1, sizeof(GramJob));
  if (!job) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  job->block = malloc(sizeof(double) * count);
  if (!job->block) { free(job); napi_throw_error(env, NULL, "out of memory copying the block"); return NULL; }
  if (type == napi_float64_array) memcpy(job->block, source, count * sizeof(double));
  else for (size_t i = 0; i < count; i++) job->block[i] = (double)((float *)source)[i];
  job->gram = gram;
  job->rows = rows;
  job->m = cols;
  if (napi_create_reference(env, argv[0], 1, &job->gram_ref) != napi_ok) {
    free(job->block); free(job);
    napi_throw_error(env, NULL, "cannot reference the gram buffer");
    return NULL;
  }
  return queue_gram_job(env, job);
}

static napi_value symmetric_eigenvalues(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) { napi_throw_type_error(env, NULL, "expected (gram, m)"); return NULL; }
  int32_t m;
  CHECK(env, napi_get_value_int32(env, argv[1], &m));
  if (m < 1) { napi_throw_range_error(env, NULL, "bad matrix size"); return NULL; }
  const size_t size = (size_t)m * (size_t)m;
  double *gram = float64_argument(env, argv[0], size, "gram must be a Float64Array");
  if (!gram) return NULL;
  GramJob *job = calloc(1, sizeof(GramJob));
  if (!job) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  job->gram = malloc(sizeof(double) * size);
  job->values = malloc(sizeof(double) * (size_t)m);
  if (!job->gram || !job->values) {
    free(job->gram); free(job->values); free(job);
    napi_throw_error(env, NULL, "out of memory copying the gram matrix");
    return NULL;
  }
  memcpy(job->gram, gram, sizeof(double) * size);
  job->m = m;
  return queue_gram_job(env, job);
}

static napi_value backend(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  char text[256];
  snprintf(text, sizeof text, "OpenBLAS %s + LAPACKE", openblas_get_config());
  CHECK(env, napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result));
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "squaredSingularValues", NAPI_AUTO_LENGTH, squared_singular_values, NULL, &fn);
  napi_set_named_property(env, exports, "squaredSingularValues", fn);
  napi_create_function(env, "gramUpdate", NAPI_AUTO_LENGTH, gram_update, NULL, &fn);
  napi_set_named_property(env, exports, "gramUpdate", fn);
  napi_create_function(env, "symmetricEigenvalues", NAPI_AUTO_LENGTH, symmetric_eigenvalues, NULL, &fn);
  napi_set_named_property(env, exports, "symmetricEigenvalues", fn);
  napi_create_function(env, "backend", NAPI_AUTO_LENGTH, backend, NULL, &fn);
  napi_set_named_property(env, exports, "backend", fn);
  return exports;
}
