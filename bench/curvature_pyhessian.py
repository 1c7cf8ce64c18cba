"""PyHessian-equivalent reference for `npm run bench:curvature` (our own code, same method).

Reads the zoo CNN's weights (tfjs layouts), the batch and a probe vector written by
bench/curvature.ts, rebuilds the network in torch (float32, CPU, one thread to match the
single-threaded wasm backend), and times, as PyHessian does for a single batch: the gradient graph
built once with create_graph=True, then each Hessian-vector product as one more backward pass of
(g·v) with retain_graph; power iteration = PyHessian's eigenvalues(maxIter=20) without early stop.
Prints one JSON object.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
work = Path(sys.argv[1])
meta = json.loads((work / "meta.json").read_text())
flat = np.fromfile(work / "params.bin", dtype=np.float32)
x = torch.tensor(np.fromfile(work / "x.bin", dtype=np.float32).reshape(meta["x_shape"])).permute(0, 3, 1, 2)
y = torch.tensor(np.fromfile(work / "y.bin", dtype=np.int32).astype(np.int64))
v_flat = torch.tensor(np.fromfile(work / "v.bin", dtype=np.float32))

params, offset = {}, 0
for p in meta["params"]:
    size = int(np.prod(p["shape"]))
    params[p["name"]] = torch.tensor(flat[offset : offset + size].reshape(p["shape"])).requires_grad_(True)
    offset += size
order = [p["name"] for p in meta["params"]]


def forward(inp):
    h = inp
    for layer in meta["layers"]:
        kind, name = layer["kind"], layer["name"]
        if kind == "conv":
            k = params[f"{name}/kernel"].permute(3, 2, 0, 1)
            h = torch.nn.functional.conv2d(h, k, params[f"{name}/bias"], padding=layer["padding"])
            h = torch.relu(h)
        elif kind == "pool":
            h = torch.nn.functional.max_pool2d(h, layer["size"])
        elif kind == "flatten":
            h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # NHWC order, as tfjs
        elif kind == "dense":
            h = h @ params[f"{name}/kernel"] + params[f"{name}/bias"]
            if layer["activation"] == "relu":
                h = torch.relu(h)
    return h


def split(vec):
    out, o = [], 0
    for name in order:
        n = params[name].numel()
        out.append(vec[o : o + n].reshape(params[name].shape))
        o += n
    return out


started = time.perf_counter()
started_cpu = time.process_time()
loss = torch.nn.functional.cross_entropy(forward(x), y)
grads = torch.autograd.grad(loss, [params[n] for n in order], create_graph=True)
graph_seconds = time.perf_counter() - started
graph_cpu = time.process_time() - started_cpu


def hvp(vs):
    return torch.autograd.grad(grads, [params[n] for n in order], grad_outputs=vs, only_inputs=True, retain_graph=True)


hvp(split(v_flat))  # warm-up
times, cpu_times = [], []
for _ in range(3):
    t0, c0 = time.perf_counter(), time.process_time()
    hv = hvp(split(v_flat))
    times.append(time.perf_counter() - t0)
    cpu_times.append(time.process_time() - c0)
hv_flat = torch.cat([h.reshape(-1) for h in hv]).detach()

torch.manual_seed(0)
t0, c0 = time.perf_counter(), time.process_time()
v = [torch.randn_like(params[n]) for n in order]
norm = torch.sqrt(sum((vi * vi).sum() for vi in v))
v = [vi / (norm + 1e-6) for vi in v]
eigenvalue = None
for _ in range(20):
    hv = hvp(v)
    eigenvalue = float(sum((a * b).sum() for a, b in zip(hv, v)))
    norm = torch.sqrt(sum((h * h).sum() for h in hv))
    v = [h.detach() / (norm + 1e-6) for h in hv]
power_seconds = time.perf_counter() - t0 + graph_seconds
power_cpu = time.process_time() - c0 + graph_cpu

print(
    json.dumps(
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "loss": float(loss.detach()),
            "graph_seconds": graph_seconds,
            "hvp_seconds": sorted(times)[1],
            "hvp_cpu_seconds": sorted(cpu_times)[1],
            "power20_seconds": power_seconds,
            "power20_cpu_seconds": power_cpu,
            "top_eigenvalue": eigenvalue,
            "hv": hv_flat.tolist(),
        }
    )
)
