/**
 * A cpu worker holds no more activity tasks than it has compute slots (workers/create.ts): a task
 * held beyond them would wait behind an analysis that can take many minutes (and, when it stopped
 * waiting, run beside it on the same core). Sampled from the SDK's own count of the worker's
 * in-flight activities during a real sweep of one-layer batches on a one-slot in-process worker.
 */
import { describe, expect, inject, it } from 'vitest';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { startSweep } from '../../workers/sweep-client.ts';
import { syntheticZoo } from './sweep-fixtures.ts';
import { sweepResult, uploadZoo } from './sweep-harness.ts';
import { inProcessCpuWorker } from './worker-hooks.ts';

const services = inject('services');

describe('a one-slot cpu worker', () => {
  const stack = inProcessCpuWorker(services, 1);

  it('runs one activity and one analysis at a time while more layer batches are queued', async () => {
    // Six layers, one batch each (layerBatchFlops 0), all scheduled at once by the checkpoint workflow.
    const shapes: [number, number][] = Array.from({ length: 6 }, () => [640, 320]);
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
    expect(maxActivities).toBe(1);
  });
});
