/**
 * Layer batching and cpu/gpu routing (workflows/layer-batches.ts) and the worker's compute slots
 * (activities/compute-slots.ts): pure pieces of the sweep's orchestration, no services.
 */
import { describe, expect, it, vi } from 'vitest';
import { ComputeSlots } from '../../activities/compute-slots.ts';
import type { LayerPlan } from '../../contracts/checkpoint.ts';
import { CUDA_MIN_DIM } from '../../lib/linalg/thresholds.ts';
import {
  batchTimeoutMs,
  DEFAULT_BATCH_FLOPS,
  GPU_SAME_SHAPE_MIN_LAYERS,
  layerAnalysisCost,
  layerFlops,
  layerMinDim,
  layerTimeoutMs,
  MAX_LAYERS_PER_BATCH,
  planLayerBatches,
  planLayerRoutes,
} from '../../workflows/layer-batches.ts';

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

describe('planLayerBatches', () => {
  it('keeps every layer exactly once, in order', () => {
    const layers = Array.from({ length: 50 }, (_, i) => layer(i, i % 7 === 0 ? [2048, 1024] : [64 + i, 32]));
    const batches = planLayerBatches(layers);
    expect(batches.flat().map((l) => l.layerId)).toEqual(layers.map((l) => l.layerId));
    for (const batch of batches) expect(batch.length).toBeGreaterThan(0);
  });

  it('groups small layers up to the flops budget and sends big ones alone', () => {
    // 768×384: 1.1e8 flops each, so several fit in 1e9; 2048×1024 (2.1e9) exceeds it alone.
    const small = Array.from({ length: 24 }, (_, i) => layer(i, [768, 384]));
    const batches = planLayerBatches(small);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(small.length);
    for (const batch of batches) {
      const flops = batch.reduce((sum, l) => sum + layerFlops(l), 0);
      expect(flops).toBeLessThanOrEqual(DEFAULT_BATCH_FLOPS);
    }
    const big = [layer(0, [64, 32]), layer(1, [2048, 1024]), layer(2, [64, 32])];
    expect(planLayerBatches(big).map((b) => b.map((l) => l.layerId))).toEqual([[0], [1], [2]]);
  });

  it('caps the number of layers per batch however small they are', () => {
    const tiny = Array.from({ length: 500 }, (_, i) => layer(i, [16, 8]));
    const batches = planLayerBatches(tiny, Number.MAX_SAFE_INTEGER);
    expect(Math.max(...batches.map((b) => b.length))).toBe(MAX_LAYERS_PER_BATCH);
    expect(batches.length).toBe(Math.ceil(500 / MAX_LAYERS_PER_BATCH));
  });

  it('gives one layer per batch with a zero budget', () => {
    const layers = [layer(0, [64, 32]), layer(1, [48, 24])];
    expect(planLayerBatches(layers, 0)).toEqual([[layers[0]], [layers[1]]]);
  });
});

describe('batch timeouts', () => {
  it('one floor for the batch plus the work of each layer', () => {
    const a = layer(0, [1024, 512]);
    const b = layer(1, [2048, 1024]);
    const floor = 120_000;
    expect(batchTimeoutMs([a, b]) - floor).toBe(layerTimeoutMs(a) - floor + (layerTimeoutMs(b) - floor));
    expect(batchTimeoutMs([layer(2, [1_000_000, 1_000_000])])).toBe(6 * 3600_000);
  });

  it('counts every kernel position of a convolution', () => {
    expect(layerFlops(layer(0, [3, 3, 64, 128], 'conv2d'))).toBe(9 * 64 * 128 * 64);
    expect(layerAnalysisCost(layer(0, [3, 3, 64, 128], 'conv2d'))).toBe(9 * 64 * 64 * (128 + 3 * 64));
  });

  it('analysis cost orders the 8B shapes as bench:llm measured them (4096×14336 1.3–1.4× a 4096²)', () => {
    const mlp = layerAnalysisCost(layer(0, [4096, 14336]));
    const square = layerAnalysisCost(layer(1, [4096, 4096]));
    const kv = layerAnalysisCost(layer(2, [1024, 4096]));
    expect(mlp / square).toBeGreaterThan(1.2);
    expect(mlp / square).toBeLessThan(1.8);
    // 1024×4096 took 0.27–0.41 s against 8.6–9.1 s for 4096² (3–5 %)
    expect(kv / square).toBeGreaterThan(0.02);
    expect(kv / square).toBeLessThan(0.06);
    expect(layerAnalysisCost(layer(3, [14336, 4096]))).toBe(mlp);
  });
});

describe('ComputeSlots', () => {
  it('runs at most `size` jobs at once, first come first served', async () => {
    const slots = new ComputeSlots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (id: number) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(id);
      running -= 1;
      return id;
    };
    const results = await Promise.all([0, 1, 2, 3, 4].map((id) => slots.run(job(id))));
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order.slice(2)).toEqual([2, 3, 4]);
  });

  it('releases the slot when a job throws, and a waiter can be aborted', async () => {
    const slots = new ComputeSlots(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    let release!: () => void;
    const holding = slots.run(() => new Promise<void>((resolve) => (release = resolve)));
    const abort = new AbortController();
    const waiting = slots.run(() => Promise.resolve('ran'), abort.signal);
    abort.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    release();
    await holding;
    await expect(slots.run(() => Promise.resolve('free again'))).resolves.toBe('free again');
  });

  it('a waiter waits however long the holder runs (never a second analysis on one slot)', async () => {
    vi.useFakeTimers();
    try {
      const slots = new ComputeSlots(1);
      let holderDone = false;
      let release!: () => void;
      const holding = slots.run(
        () =>
          new Promise<void>((resolve) => {
            release = () => {
              holderDone = true;
              resolve();
            };
          }),
      );
      let ran: 'beside the holder' | 'after the holder' | undefined;
      const waiting = slots.run(async () => {
        ran = holderDone ? 'after the holder' : 'beside the holder';
        return slots.running;
      });
      // An 8B-shaped MLP matrix takes minutes on a busy core; the waiter must not give up.
      await vi.advanceTimersByTimeAsync(30 * 60_000);
      expect(ran).toBeUndefined();
      expect(slots.running).toBe(1);
      release();
      await holding;
      await expect(waiting).resolves.toBe(1);
      expect(ran).toBe('after the holder');
      expect(slots.available).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects a size below one', () => {
    expect(() => new ComputeSlots(0)).toThrow(RangeError);
  });
});

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

  it('with gpu workers sends small dense layers of a frequent shape together to gpu (batched solver)', () => {
    const many = Array.from({ length: 70 }, (_, i) => layer(i, [512, 512]));
    const few = Array.from({ length: GPU_SAME_SHAPE_MIN_LAYERS - 1 }, (_, i) => layer(100 + i, [256, 128]));
    const convs = Array.from({ length: 10 }, (_, i) => layer(200 + i, [3, 3, 64, 64], 'conv2d'));
    const all = [...many, ...few, ...convs];
    const routes = planLayerRoutes(all, { gpu: true, budgetFlops: 1e9 });
    const gpu = routes.filter((r) => r.queue === 'gpu');
    // 70 same-shape layers: chunks of at most MAX_LAYERS_PER_BATCH, all on gpu, in order.
    expect(gpu.map((r) => r.layers.length)).toEqual([64, 6]);
    expect(gpu.flatMap((r) => r.layers.map((l) => l.layerId))).toEqual(many.map((l) => l.layerId));
    const cpu = routes.filter((r) => r.queue === 'cpu');
    expect(cpu.map((r) => r.layers)).toEqual(planLayerBatches([...few, ...convs], 1e9));
    expect(planLayerRoutes(all, { gpu: false, budgetFlops: 1e9 }).every((r) => r.queue === 'cpu')).toBe(true);
  });
});
