/**
 * Routing a checkpoint's layers between the cpu and gpu queues (workflows/layer-batches.ts
 * planLayerRoutes): pure workflow code, no services.
 */
import { describe, expect, it } from 'vitest';
import type { LayerPlan } from '../../contracts/checkpoint.ts';
import { CUDA_MIN_DIM } from '../../lib/linalg/thresholds.ts';
import { layerMinDim, planLayerBatches, planLayerRoutes } from '../../workflows/layer-batches.ts';

function layer(layerId: number, shape: number[], layerType: LayerPlan['layerType'] = 'dense'): LayerPlan {
  return {
    layerId,
    layerName: `l${layerId}`,
    tensorName: `l${layerId}`,
    layerType,
    shape,
    byteLength: shape.reduce((a, b) => a * b, 4),
  };
}

const mixed = [
  layer(0, [CUDA_MIN_DIM, 4 * CUDA_MIN_DIM]),
  layer(1, [256, 128]),
  layer(2, [CUDA_MIN_DIM - 1, 8 * CUDA_MIN_DIM]),
  layer(3, [3, 3, CUDA_MIN_DIM, 2 * CUDA_MIN_DIM], 'conv2d'),
  layer(4, [512, 512]),
  layer(5, [4096, 14336]),
];

describe('planLayerRoutes', () => {
  it('without gpu workers gives exactly planLayerBatches, all on cpu', () => {
    const routes = planLayerRoutes(mixed, { gpu: false, budgetFlops: 1e9 });
    expect(routes.every((r) => r.queue === 'cpu')).toBe(true);
    expect(routes.map((r) => r.layers)).toEqual(planLayerBatches(mixed, 1e9));
  });

  it('with gpu workers sends each layer from the CUDA threshold on alone to gpu, batches the rest for cpu', () => {
    const routes = planLayerRoutes(mixed, { gpu: true, budgetFlops: 1e9 });
    const gpu = routes.filter((r) => r.queue === 'gpu');
    expect(gpu.map((r) => r.layers.map((l) => l.layerId))).toEqual([[0], [3], [5]]);
    const cpu = routes.filter((r) => r.queue === 'cpu');
    expect(cpu.map((r) => r.layers)).toEqual(planLayerBatches([mixed[1]!, mixed[2]!, mixed[4]!], 1e9));
    // Every layer exactly once.
    expect(routes.flatMap((r) => r.layers.map((l) => l.layerId)).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
  });

  it('the threshold is the smaller matrix side (conv: cin×cout per kernel position)', () => {
    expect(layerMinDim(layer(0, [300, 5000]))).toBe(300);
    expect(layerMinDim(layer(1, [3, 3, 64, 2048], 'conv2d'))).toBe(64);
    const routes = planLayerRoutes([layer(0, [2000, 2000]), layer(1, [2000, 2000])], {
      gpu: true,
      gpuMinDim: 4096,
    });
    expect(routes.every((r) => r.queue === 'cpu')).toBe(true);
  });
});
