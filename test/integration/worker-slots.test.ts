/**
 * A cpu worker holds one activity task per compute slot and reads one more ahead only when a slot
 * is about to free (workers/activity-slots.ts): never two analyses on one slot, and the next
 * layer's read overlaps the running analysis. Sampled from the SDK's own count of the worker's
 * in-flight activities during a real sweep of one-layer batches on a one-slot in-process worker.
 */
import { describe, expect, inject, it } from 'vitest';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { READ_AHEAD_SLOTS } from '../../workers/activity-slots.ts';
import { startSweep } from '../../workers/sweep-client.ts';
import { syntheticZoo } from './sweep-fixtures.ts';
import { sweepResult, uploadZoo } from './sweep-harness.ts';
import { inProcessCpuWorker } from './worker-hooks.ts';

const services = inject('services');

describe('a one-slot cpu worker', () => {
  const stack = inProcessCpuWorker(services, 1);

  it('runs one analysis at a time and reads the next layer while one runs', async () => {
    // Six layers, one batch each (layerBatchFlops 0), all scheduled at once by the checkpoint
    // workflow; each analysis (~0.2–1 s) is shorter than the least read-ahead lead (1 s), so once
    // the first has finished (its duration is then known) the next task is taken while one runs.
    const shapes: [number, number][] = Array.from({ length: 6 }, () => [1200, 1200]);
    const zoo = syntheticZoo(1, { family: `worker-slots-${Date.now()}`, shapes, seed: 5 });
    const prefix = await uploadZoo(services, `worker-slots-${Date.now()}`, zoo);
    let maxActivities = 0;
    let maxAnalyses = 0;
    const sampler = setInterval(() => {
      maxActivities = Math.max(maxActivities, stack.worker.worker.getStatus().numInFlightNonLocalActivities);
      maxAnalyses = Math.max(maxAnalyses, stack.worker.analysesRunning());
    }, 5);
    try {
      const started = await startSweep(stack.temporal.client, stack.prisma, {
        sources: [prefix],
        config: defaultAnalysisConfig,
        tuning: { layerBatchFlops: 0 },
      });
      const result = await sweepResult(started.handle);
      expect(result.succeeded).toBe(1);
      expect(result.layersComputed).toBe(6);
    } finally {
      clearInterval(sampler);
    }
    expect(maxAnalyses).toBe(1);
    expect(maxActivities).toBe(1 + READ_AHEAD_SLOTS);
  });
});
