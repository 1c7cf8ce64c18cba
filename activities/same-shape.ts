/**
 * On a worker where the CUDA core loads: the layers of a batch that share a shape are read first
 * and solved together (one batched device call per shape, lib/spectral solveSameShape), so many
 * small layers cost one upload and one batched eigensolve instead of one call each. Elsewhere this
 * does nothing and every layer is solved alone, as before.
 */
import { loadCudaLinalg } from '../lib/linalg/index.ts';
import { SAME_SHAPE_MIN_LAYERS, type SolvedMatrix, solveSameShape } from '../lib/spectral/esd.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { LayerWeights } from '../lib/types.ts';

export interface PresolvedLayer {
  weights: LayerWeights;
  solved?: SolvedMatrix;
}

export async function presolveOnDevice<L extends { layerName: string }>(
  layers: readonly L[],
  readWeights: (layer: L) => Promise<LayerWeights>,
  config: AnalysisConfig,
  run: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<Map<string, PresolvedLayer>> {
  const out = new Map<string, PresolvedLayer>();
  if (layers.length < SAME_SHAPE_MIN_LAYERS || !loadCudaLinalg()) return out;
  for (const layer of layers) {
    try {
      out.set(layer.layerName, { weights: await readWeights(layer) });
    } catch {
      // Read again (and its error recorded) by the layer loop.
    }
  }
  try {
    const solved = await run(() =>
      solveSameShape(
        [...out.values()].map((entry) => entry.weights),
        { backend: 'cuda', single: config.precision === 'f32' },
      ),
    );
    for (const entry of out.values()) entry.solved = solved.get(entry.weights);
  } catch {
    // A failed batched solve leaves each layer to its own solve (and its own error).
  }
  return out;
}
