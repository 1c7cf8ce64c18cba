#!/bin/sh
# Build the CUDA eigenvalue core (native/cuda/). Needs only a C compiler: CUDA is dlopen'ed at run
# time, so this builds on machines without CUDA too.
#   sh native/cuda/build.sh            core: native/build/libweightlens_cuda.so, the Node addon
#                                      native/build/weightlens_cuda.node (when node_api.h is found)
#                                      and the check driver native/build/wl_cuda_check (with LAPACKE)
#   sh native/cuda/build.sh --kernels  also the device widening kernels with nvcc
#                                      (native/build/libweightlens_cuda_kernels.so)
set -eu
cd "$(dirname "$0")"
OUT=../build
mkdir -p "$OUT"
CC=${CC:-cc}
CFLAGS="-O2 -fPIC -Wall -Wextra -std=gnu11"
$CC $CFLAGS -shared wl_cuda.c -o "$OUT/libweightlens_cuda.so" -ldl -lpthread
echo "built native/build/libweightlens_cuda.so"
NODE_INCLUDE=""
if command -v node >/dev/null 2>&1; then
  for dir in "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
    if [ -f "$dir/node_api.h" ]; then NODE_INCLUDE="$dir"; break; fi
  done
fi
if [ -n "$NODE_INCLUDE" ]; then
  $CC $CFLAGS -shared -I"$NODE_INCLUDE" wl_cuda_napi.c wl_cuda.c -o "$OUT/weightlens_cuda.node" -ldl -lpthread
  echo "built native/build/weightlens_cuda.node"
else
  echo "native/cuda: node_api.h not found, Node addon not built"
fi
if printf '#include <lapacke.h>\n#include <cblas.h>\nint main(void){return 0;}\n' | $CC -x c - -o /dev/null -llapacke -lopenblas 2>/dev/null; then
  $CC $CFLAGS wl_cuda_check.c wl_cuda.c -o "$OUT/wl_cuda_check" -llapacke -lopenblas -ldl -lpthread -lm
  echo "built native/build/wl_cuda_check"
else
  echo "native/cuda: LAPACKE/OpenBLAS not found, wl_cuda_check not built"
fi
if [ "${1:-}" = "--kernels" ]; then
  ${NVCC:-nvcc} -O3 -std=c++17 -shared -Xcompiler -fPIC -cudart shared \
    -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_90,code=compute_90 \
    wl_widen.cu -o "$OUT/libweightlens_cuda_kernels.so"
  echo "built native/build/libweightlens_cuda_kernels.so"
fi
