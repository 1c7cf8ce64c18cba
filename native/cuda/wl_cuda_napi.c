/*
 * Node-API face of the CUDA core (native/build/weightlens_cuda.node): lib/linalg/cuda.ts loads it.
 *
 *   init(kernelsPath: string) -> string | null     (null when ready, else the one-line reason)
 *   describe() -> string
 *   gramEigenvalues(data: Float32Array|Float64Array|Uint16Array, dtype: 'f64'|'f32'|'bf16'|'f16',
 *                   batch, rows, cols, single: boolean) -> Promise<Float64Array>
 *
 * The solve runs on a libuv worker thread; the input is copied first, so JavaScript may reuse it.
 */
#define NAPI_VERSION 8
#include "wl_cuda.h"
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  void *data;
  wl_dtype dtype;
  int batch, rows, cols, single;
  double *values;
  size_t count;
  char error[320];
} Job;

#define CHECK(env, call)                                                         \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error((env), NULL, "napi call failed: " #call);                 \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static napi_value init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char path[4096] = {0}, err[320];
  size_t length = 0;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length);
  if (wl_cuda_init(path, err, sizeof err) == 0) CHECK(env, napi_get_null(env, &result));
  else CHECK(env, napi_create_string_utf8(env, err, NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value describe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(env, napi_create_string_utf8(env, wl_cuda_describe(), NAPI_AUTO_LENGTH, &result));
  return result;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  wl_cuda_gram_eigenvalues(job->data, job->dtype, job->batch, job->rows, job->cols, job->single, job->values,
                           job->error, sizeof job->error);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  if (status != napi_ok && job->error[0] == '\0') snprintf(job->error, sizeof job->error, "async work cancelled");
  if (job->error[0] != '\0') {
    napi_value message, error;
    napi_create_string_utf8(env, job->error, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  } else {
    void *buffer_data;
    napi_value buffer, array;
    napi_create_arraybuffer(env, sizeof(double) * job->count, &buffer_data, &buffer);
    memcpy(buffer_data, job->values, sizeof(double) * job->count);
    napi_create_typedarray(env, napi_float64_array, job->count, buffer, 0, &array);
    napi_resolve_deferred(env, job->deferred, array);
  }
  napi_delete_async_work(env, job->work);
  free(job->data);
  free(job->values);
  free(job);
}

static napi_value gram_eigenvalues(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) { napi_throw_type_error(env, NULL, "expected (data, dtype, batch, rows, cols, single)"); return NULL; }
  bool is_typed = false;
  CHECK(env, napi_is_typedarray(env, argv[0], &is_typed));
  if (!is_typed) { napi_throw_type_error(env, NULL, "data must be a typed array"); return NULL; }
  napi_typedarray_type type;
  size_t length;
  void *source;
  CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &length, &source, NULL, NULL));
  char dtype_name[8] = {0};
  size_t name_length;
  CHECK(env, napi_get_value_string_utf8(env, argv[1], dtype_name, sizeof dtype_name, &name_length));
  wl_dtype dtype;
  napi_typedarray_type want;
  if (!strcmp(dtype_name, "f64")) { dtype = WL_F64; want = napi_float64_array; }
  else if (!strcmp(dtype_name, "f32")) { dtype = WL_F32; want = napi_float32_array; }
  else if (!strcmp(dtype_name, "bf16")) { dtype = WL_BF16; want = napi_uint16_array; }
  else if (!strcmp(dtype_name, "f16")) { dtype = WL_F16; want = napi_uint16_array; }
  else { napi_throw_type_error(env, NULL, "dtype must be f64, f32, bf16 or f16"); return NULL; }
  if (type != want) { napi_throw_type_error(env, NULL, "typed array does not match dtype"); return NULL; }
  int32_t batch, rows, cols;
  bool single = false;
  CHECK(env, napi_get_value_int32(env, argv[2], &batch));
  CHECK(env, napi_get_value_int32(env, argv[3], &rows));
  CHECK(env, napi_get_value_int32(env, argv[4], &cols));
  CHECK(env, napi_get_value_bool(env, argv[5], &single));
  if (batch < 1 || rows < 1 || cols < 1 || (size_t)batch * rows * cols > length) {
    napi_throw_range_error(env, NULL, "bad matrix shape for the data length");
    return NULL;
  }
  Job *job = calloc(1, sizeof(Job));
  if (!job) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  const size_t elements = (size_t)batch * rows * cols;
  const size_t element_size = dtype == WL_F64 ? 8 : dtype == WL_F32 ? 4 : 2;
  job->dtype = dtype;
  job->batch = batch;
  job->rows = rows;
  job->cols = cols;
  job->single = single;
  job->count = (size_t)batch * (rows < cols ? rows : cols);
  job->data = malloc(elements * element_size);
  job->values = malloc(sizeof(double) * job->count);
  if (!job->data || !job->values) {
    free(job->data); free(job->values); free(job);
    napi_throw_error(env, NULL, "out of memory copying the matrices");
    return NULL;
  }
  memcpy(job->data, source, elements * element_size);
  napi_value promise, resource_name;
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, "weightlens:cuda-eigenvalues", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(env, napi_create_async_work(env, NULL, resource_name, execute, complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "init", NAPI_AUTO_LENGTH, init, NULL, &fn);
  napi_set_named_property(env, exports, "init", fn);
  napi_create_function(env, "describe", NAPI_AUTO_LENGTH, describe, NULL, &fn);
  napi_set_named_property(env, exports, "describe", fn);
  napi_create_function(env, "gramEigenvalues", NAPI_AUTO_LENGTH, gram_eigenvalues, NULL, &fn);
  napi_set_named_property(env, exports, "gramEigenvalues", fn);
  return exports;
}
