"""Reference timings for bench/spectral.ts (run by it, same matrices, same run).

argv: a JSON list of {"path", "rows", "cols", "name"} (raw little-endian float32, row-major), and
the number of repeats (best of). Waits for a line on stdin before each matrix.
Prints one JSON object per matrix: bare LAPACK (numpy gesdd values only, and eigvalsh of the Gram
matrix), WeightWatcher's per-layer analyze() time and its alpha, and the process peak RSS.
"""
import json
import logging
import resource
import sys
import time

import numpy as np

logging.disable(logging.WARNING)
import weightwatcher as ww  # noqa: E402


def best_of(fn, repeats):
    best = float('inf')
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    specs = json.loads(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    watcher = ww.WeightWatcher()
    for spec in specs:
        # bench/spectral.ts asks for each matrix when it is not timing anything itself.
        if not sys.stdin.readline():
            return
        w = np.fromfile(spec['path'], dtype='<f4').reshape(spec['rows'], spec['cols'])
        svd_s, sv = best_of(lambda: np.linalg.svd(w.astype(np.float64), compute_uv=False), repeats)
        small = w.astype(np.float64)
        if small.shape[0] < small.shape[1]:
            small = small.T
        eigh_s, _ = best_of(lambda: np.linalg.eigvalsh(small.T @ small), repeats)
        ww_s, details = best_of(lambda: watcher.analyze(model={f"{spec['name']}.weight": w}), repeats)
        row = details.iloc[0]
        print(json.dumps({
            'name': spec['name'],
            'numpy_svd_s': svd_s,
            'numpy_eigvalsh_gram_s': eigh_s,
            'weightwatcher_s': ww_s,
            'ww_alpha': float(row['alpha']),
            'ww_lambda_max': float(row['lambda_max']),
            'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }), flush=True)


if __name__ == '__main__':
    main()
