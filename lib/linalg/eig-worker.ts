/**
 * worker_threads entry: the TypeScript eigen-solver off the main thread, so a large layer does not
 * block the event loop (Temporal activities must keep heartbeating while it runs).
 */
import { parentPort } from 'node:worker_threads';
import { symmetricEigenvalues } from './tridiagonal.ts';
import { squaredSingularValuesTs } from './ts-solver.ts';

interface EigRequest {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
  /** `data` is a symmetric rows×rows matrix whose own eigenvalues are asked for (a Gram matrix). */
  symmetric?: boolean;
}

parentPort?.on('message', (request: EigRequest) => {
  try {
    const values = request.symmetric
      ? symmetricEigenvalues(Float64Array.from(request.data), request.rows)
      : squaredSingularValuesTs(request.data, request.rows, request.cols);
    parentPort?.postMessage({ ok: true, values }, [values.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
