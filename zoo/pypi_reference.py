"""Dev-venv helper of zoo/install-pretrained-pypi.sh (never a runtime dependency).

For a torch .pth: legacy (pre-zip) files are loaded with torch.load(weights_only=True) — torch's
own restricted loader, which runs no pickled code — and re-saved in the zip format weightlens
reads (the original is kept as <name>.legacy, out of discovery's way). For every weights file it
writes <file>.reference.json: per tensor the shape, dtype, sum, sum of |x| and a position-
weighted sum (Σ x_i·(i mod 7 + 1), row-major) in float64, which
the pretrained tests compare against weightlens' own decoding.

Usage: python zoo/pypi_reference.py <weights file>...
"""
import json
import pathlib
import sys
import zipfile

import torch
from safetensors.torch import load_file


def load(path: pathlib.Path):
    if path.suffix == ".safetensors":
        return load_file(str(path))
    if not zipfile.is_zipfile(path):
        legacy = path.with_name(path.name + ".legacy")
        path.rename(legacy)
        state = torch.load(legacy, map_location="cpu", weights_only=True)
        torch.save(state, path)
    return torch.load(path, map_location="cpu", weights_only=True)


for arg in sys.argv[1:]:
    path = pathlib.Path(arg)
    tensors = load(path)
    reference = {
        name: {
            "shape": list(t.shape),
            "dtype": str(t.dtype).replace("torch.", ""),
            "sum": float(t.to(torch.float64).sum()),
            "abs_sum": float(t.to(torch.float64).abs().sum()),
            # Position-sensitive: a transposed or mis-strided decode changes it.
            "weighted_sum": float(
                (t.to(torch.float64).reshape(-1) * (torch.arange(t.numel(), dtype=torch.float64) % 7 + 1)).sum()
            ),
        }
        for name, t in tensors.items()
    }
    path.with_name(path.name + ".reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    print(f"zoo: {path.name}: {len(reference)} tensors referenced")
