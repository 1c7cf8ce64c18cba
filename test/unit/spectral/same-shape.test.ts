/**
 * Same-shape layers solved together (lib/spectral solveSameShape, the gpu worker's batched route):
 * each layer's analysis from the batch equals its analysis alone on the same backend, layers of
 * other shapes or with bad weights are left out, and a solved ESD is never reused for a permuted copy.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../lib/random.ts';
import {
  analyzeLayer,
  defaultAnalysisConfig,
  parseAnalysisConfig,
  solveSameShape,
} from '../../../lib/spectral/index.ts';
import type { LayerWeights } from '../../../lib/types.ts';

function dense(name: string, rows: number, cols: number, seed: number): LayerWeights {
  const random = seededRandom(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = (random() - 0.5) * (1 + (i % cols)) ** -0.4;
  return { name, layerType: 'dense', shape: [rows, cols], data };
}

describe('solveSameShape', () => {
  const same = [1, 2, 3, 4].map((i) => dense(`block.${i}.weight`, 200, 120, i));
  const other = dense('head.weight', 64, 48, 9);
  const bad = dense('bad.weight', 200, 120, 10);
  bad.data[5] = Number.NaN;

  it('solves each shape group once and gives every layer its analysis alone', async () => {
    const solved = await solveSameShape([...same, other, bad], { backend: 'native-syevd' });
    expect([...solved.keys()].map((w) => w.name)).toEqual(same.map((w) => w.name));
    for (const [id, weights] of same.entries()) {
      const together = await analyzeLayer(weights, defaultAnalysisConfig, id, {
        solved: solved.get(weights),
      });
      const alone = await analyzeLayer(weights, defaultAnalysisConfig, id, { backend: 'native-syevd' });
      expect(together.eigenBackend).toBe('native-syevd');
      expect(Array.from(together.eigenvalues)).toEqual(Array.from(alone.eigenvalues));
      expect(together.metrics).toEqual(alone.metrics);
    }
  });

  it('never uses the solved values for randomized (permuted) ESDs', async () => {
    const config = parseAnalysisConfig({ randomize: true });
    const weights = same[0]!;
    const solved = await solveSameShape(same, { backend: 'native-syevd' });
    const together = await analyzeLayer(weights, config, 0, {
      solved: solved.get(weights),
      backend: 'native-syevd',
    });
    const alone = await analyzeLayer(weights, config, 0, { backend: 'native-syevd' });
    expect(together.metrics.rand_distance).toBe(alone.metrics.rand_distance);
    expect(Array.from(together.randomizedEigenvalues!)).toEqual(Array.from(alone.randomizedEigenvalues!));
  });

  it('a single layer of a shape is not batched', async () => {
    expect((await solveSameShape([same[0]!, other], { backend: 'native-syevd' })).size).toBe(0);
  });
});
