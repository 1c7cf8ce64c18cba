#!/bin/sh
# Build the optional native addon (npm run build:native). Needs a C compiler, Node's headers
# (node_api.h) and Debian's libopenblas-dev + liblapacke-dev. No node-gyp, no downloads.
# Without it, lib/linalg uses its TypeScript solver.
set -eu
cd "$(dirname "$0")"
NODE_INCLUDE=""
for dir in "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$dir/node_api.h" ]; then NODE_INCLUDE="$dir"; break; fi
done
if [ -z "$NODE_INCLUDE" ]; then
  echo "build:native: node_api.h not found (install Node's headers)" >&2
  exit 1
fi
mkdir -p build
${CC:-cc} -O2 -fPIC -shared -Wall -Wextra -std=c11 -I"$NODE_INCLUDE" \
  weightlens_linalg.c -o build/weightlens_linalg.node -llapacke -lopenblas -lpthread
echo "built native/build/weightlens_linalg.node (headers: $NODE_INCLUDE)"
sh cuda/build.sh || echo "build:native: native/cuda failed to build; the CUDA eigen backend stays off" >&2
