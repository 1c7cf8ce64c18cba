"""Eigenvalues and timings of the CUDA core (ctypes on native/build/libweightlens_cuda.so) against
the CPU route (scipy's dsyrk + dsyevd, the same LAPACK calls as native/weightlens_linalg.c, on the
threads OPENBLAS_NUM_THREADS allows) and torch.linalg.eigvalsh on the GPU. Prints one table; writes
eigenvalues to OUT/evals (float64 little-endian, <name>.<route>.f64, and shapes.json)."""
import argparse, ctypes, json, os, time
import numpy as np
import scipy.linalg.blas as blas
import scipy.linalg.lapack as lapack
import torch

p = argparse.ArgumentParser()
p.add_argument("--kernels", default="")
p.add_argument("--out", default="bench-gpu-out")
p.add_argument("--cpu-batch-sample", type=int, default=50, help="CPU route: matrices of the batch timed (scaled)")
args = p.parse_args()
os.makedirs(f"{args.out}/evals", exist_ok=True)
lib = ctypes.CDLL(os.path.abspath("native/build/libweightlens_cuda.so"))
err = ctypes.create_string_buffer(320)
lib.wl_cuda_init.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
if lib.wl_cuda_init(args.kernels.encode(), err, 320) != 0:
    raise SystemExit(err.value.decode())
lib.wl_cuda_describe.restype = ctypes.c_char_p
lib.wl_cuda_gram_eigenvalues.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                         ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
lib.wl_cuda_last_solver.restype = ctypes.c_char_p
print("device:", lib.wl_cuda_describe().decode(), flush=True)

def cuda_eigs(a, batch, rows, cols, single):
    m = min(rows, cols)
    out = np.empty(batch * m)
    dtype = 1 if a.dtype == np.float32 else 0
    a = np.ascontiguousarray(a)
    rc = lib.wl_cuda_gram_eigenvalues(a.ctypes.data_as(ctypes.c_void_p), dtype, batch, rows, cols, int(single),
                                      out.ctypes.data_as(ctypes.c_void_p), err, 320)
    if rc != 0:
        raise RuntimeError(err.value.decode())
    return out

def lapack_eigs(w):  # row-major rows x cols; Gram of the smaller side, upper, values only
    rows, cols = w.shape
    g = blas.dsyrk(1.0, w.T if cols <= rows else w, trans=0, lower=0)
    vals, info = lapack.dsyevd(g, compute_v=0, lower=0)[0::2]
    assert info == 0
    return vals

def best(f, reps=2):
    t, r = 1e30, None
    for _ in range(reps):
        t0 = time.perf_counter(); r = f(); t = min(t, time.perf_counter() - t0)
    return t, r

def torch_eigs(w, dtype):
    def run():
        x = torch.from_numpy(w).to("cuda", dtype)
        g = x.transpose(-1, -2) @ x if w.shape[-1] <= w.shape[-2] else x @ x.transpose(-1, -2)
        v = torch.linalg.eigvalsh(g)
        torch.cuda.synchronize()
        return v.double().cpu().numpy()
    return best(run)

rng = np.random.default_rng(15)
def matrix(batch, rows, cols):
    scale = (1.0 + np.arange(cols)) ** -0.35 / np.sqrt(rows)
    return rng.standard_normal((batch, rows, cols)) * scale

rows_out, shapes = [], {}
for name, batch, rows, cols in [("4096x4096", 1, 4096, 4096), ("8192x8192", 1, 8192, 8192),
                                ("4096x14336", 1, 4096, 14336), ("1000x512x512", 1000, 512, 512)]:
    w = matrix(batch, rows, cols)
    m = min(rows, cols)
    t64, e64 = best(lambda: cuda_eigs(w, batch, rows, cols, False))
    solver = lib.wl_cuda_last_solver().decode()
    w32 = w.astype(np.float32)
    t32, e32 = best(lambda: cuda_eigs(w32, batch, rows, cols, True))
    sample = batch if batch == 1 else min(batch, args.cpu_batch_sample)
    t0 = time.perf_counter()
    ref = np.concatenate([lapack_eigs(w[b]) for b in range(sample)])
    tcpu = (time.perf_counter() - t0) * batch / sample
    tt64, v64 = torch_eigs(w if batch > 1 else w[0], torch.float64)
    tt32, _ = torch_eigs(w32 if batch > 1 else w32[0], torch.float32)
    lmax = np.abs(ref.reshape(sample, m)[:, -1:])
    err64 = float(np.max(np.abs(e64[: sample * m].reshape(sample, m) - ref.reshape(sample, m)) / lmax))
    err32 = float(np.max(np.abs(e32[: sample * m].reshape(sample, m) - ref.reshape(sample, m)) / lmax))
    errt = float(np.max(np.abs(v64.reshape(-1)[: sample * m].reshape(sample, m) - ref.reshape(sample, m)) / lmax))
    for b in range(min(sample, 5)):
        key = name if batch == 1 else f"{name}-{b}"
        e64[b * m:(b + 1) * m].tofile(f"{args.out}/evals/{key}.cuda.f64")
        ref[b * m:(b + 1) * m].tofile(f"{args.out}/evals/{key}.lapack.f64")
        shapes[key] = [rows, cols]
    rows_out.append((name, solver, tcpu, t64, t32, tt64, tt32, err64, err32, errt, sample < batch))
    print(f"done {name}", flush=True)
json.dump(shapes, open(f"{args.out}/evals/shapes.json", "w"))

threads = os.environ.get("OPENBLAS_NUM_THREADS", "?")
print(f"\n| matrix | solver | CPU route f64 ({threads} thr) | cuda f64 | cuda f32 | torch f64 | torch f32 | CPU/cuda f64 | torch/cuda f64 | max|Δλ|/λmax f64 | f32 | torch f64 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, solver, tcpu, t64, t32, tt64, tt32, e64, e32, et, scaled in rows_out:
    print(f"| {name} | {solver} | {tcpu:.3f} s{'*' if scaled else ''} | {t64:.3f} s | {t32:.3f} s | {tt64:.3f} s | {tt32:.3f} s | "
          f"{tcpu / t64:.1f}x | {tt64 / t64:.2f}x | {e64:.1e}{'' if e64 <= 1e-10 else ' FAIL'} | {e32:.1e} | {et:.1e} |")
print("* CPU time of the batch scaled from the matrices timed (--cpu-batch-sample); times are best of 2,"
      " host arrays in, eigenvalues back on the host (upload included); torch includes its upload too")
if any(r[7] > 1e-10 for r in rows_out):
    raise SystemExit("float64 eigenvalues off LAPACK's by more than 1e-10·λmax")
