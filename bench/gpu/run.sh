#!/bin/sh
# Device check for the CUDA eigen backend (issue 15), one prepared script for an H200 machine with
# nvcc, cuBLAS/cuSOLVER and PyTorch (no network, maybe no Node). About 5-8 minutes:
#   1. build the core (and the nvcc widening kernels) with native/cuda/build.sh --kernels
#   2. the C driver's checks against LAPACK, when LAPACKE/OpenBLAS are there to link it
#   3. bench/gpu/bench.py: eigenvalues vs LAPACK (scipy's dsyrk+dsyevd, the CPU route's solver)
#      and timings vs that CPU route (2 threads) and torch.linalg.eigvalsh on the GPU; one table.
#      Eigenvalues of the timed matrices (CUDA and LAPACK) go to $OUT/evals for the alpha /
#      WeightWatcher-column comparison through lib/spectral, run here once OUT came back:
#      npx tsx bench/gpu/compare-columns.ts OUT/evals  (exits 1 when some |Δα| > 1e-6)
# Usage (repo root): sh bench/gpu/run.sh    (OUT defaults to ./bench-gpu-out)
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-./bench-gpu-out}
mkdir -p "$OUT"
echo "== device"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
nvcc --version | tail -1 || true
echo "== build"
sh native/cuda/build.sh --kernels || { echo "build failed"; exit 1; }
KERNELS=native/build/libweightlens_cuda_kernels.so
if [ -x native/build/wl_cuda_check ]; then
  echo "== C driver checks (vs LAPACK)"
  native/build/wl_cuda_check --kernels "$KERNELS" --require-cuda | tee "$OUT/driver.txt"
  echo "== C driver, host widening (no kernels)"
  native/build/wl_cuda_check --require-cuda | grep -E "bf16|f16|failed" | tee -a "$OUT/driver.txt"
fi
echo "== bench"
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 timeout 420 python3 bench/gpu/bench.py --kernels "$KERNELS" --out "$OUT" | tee "$OUT/table.txt"
echo "eigenvalues for the alpha / WeightWatcher-column comparison: $OUT/evals (back here: npx tsx bench/gpu/compare-columns.ts <files_at>/evals)"
