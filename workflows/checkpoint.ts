/**
 * One checkpoint of a sweep: inspect (tensor list → analyzable layers), the layers in activities of
 * one or several layers each (small ones batched, workflows/layer-batches.ts) with bounded
 * concurrency, then a summary. When the sweep asks for curvature, one curvature activity
 * (gpu queue, workflows/curvature.ts) runs alongside the layers. Deterministic orchestration only;
 * all I/O is in activities. Bad input never fails this workflow: it is recorded against the layer,
 * the checkpoint or the checkpoint's curvature.
 */
import {
  type ActivityOptions,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type {
  CheckpointWorkflowInput,
  CheckpointWorkflowResult,
  LayerPlan,
  LayerTaskResult,
} from '../contracts/checkpoint.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import { DEFAULT_OUTAGE_BUDGET_MS, type SweepActivities } from '../contracts/sweep.ts';
import { CUDA_MIN_DIM } from '../lib/linalg/thresholds.ts';
import { checkpointCurvature } from './curvature.ts';
import { failureKind, failureReason } from './failure-reason.ts';
import {
  batchTimeoutMs,
  DEFAULT_BATCH_FLOPS,
  layerMinDim,
  layerTimeoutMs,
  planLayerRoutes,
  type SpectralQueue,
} from './layer-batches.ts';
import { outageTolerantOptions } from './retry-policy.ts';

const BOOKKEEPING_TIMEOUT_MS = 2 * 60_000;

/** Short bookkeeping activities (Postgres writes, header reads), as task-queue or local activities. */
function bookkeepingActivities(outageBudgetMs: number) {
  const options = outageTolerantOptions(BOOKKEEPING_TIMEOUT_MS, outageBudgetMs);
  return {
    remote: proxyActivities<SweepActivities>(options),
    // Run by the worker that runs this workflow, inside its workflow task: inspecting and
    // summarizing a checkpoint costs no task-queue round trip (all idempotent, so a re-run after a
    // lost workflow task is harmless).
    local: proxyLocalActivities<SweepActivities>(options),
  };
}

/** Marks histories with local bookkeeping; older histories replay the task-queue activities. */
const LOCAL_BOOKKEEPING_PATCH = 'local-bookkeeping';

/**
 * Layer activities: infrastructure errors retried through the outage budget. The activity
 * heartbeats every few seconds while the eigensolver runs off the event loop, so a SIGKILLed or
 * partitioned worker is noticed within the heartbeat timeout and the layers move to another worker.
 */
function batchActivityOptions(startToCloseTimeoutMs: number, outageBudgetMs: number): ActivityOptions {
  return outageTolerantOptions(startToCloseTimeoutMs, outageBudgetMs, { heartbeatTimeout: '30 seconds' });
}

/** Marks histories that batch layers; older histories replay the one-activity-per-layer path. */
const LAYER_BATCHES_PATCH = 'layer-batches';

/** Marks histories that asked whether gpu workers serve large layers; older ones never route. */
const GPU_ROUTING_PATCH = 'gpu-routing';

/**
 * How long a layer routed to the gpu queue may wait for a gpu worker to pick it up: Temporal lists
 * a stopped worker's poller for minutes, so a batch can land on a queue nobody serves; it then runs
 * on cpu instead.
 */
const GPU_SCHEDULE_TO_START_MS = 60_000;

/** Whether gpu workers poll their queue now: a quick local question to Temporal, cpu on any doubt. */
async function gpuWorkersPresent(): Promise<boolean> {
  const { countGpuWorkers } = proxyLocalActivities<SweepActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 2 },
  });
  try {
    return (await countGpuWorkers()).workers > 0;
  } catch (err) {
    if (isCancellation(err)) throw err;
    return false;
  }
}

export { failureReason } from './failure-reason.ts';
export { layerTimeoutMs } from './layer-batches.ts';

export async function checkpointWorkflow(input: CheckpointWorkflowInput): Promise<CheckpointWorkflowResult> {
  // Curvature (another queue, other workers) runs alongside the spectral part and never fails it.
  const curvature = input.curvature
    ? checkpointCurvature(input.checkpointId, input.uri, input.curvature)
    : undefined;
  // Only cancellation rejects it; the await below sees that, it must not go unhandled meanwhile.
  curvature?.catch(() => undefined);
  const result = await spectralCheckpoint(input);
  if (curvature) result.curvature = await curvature;
  return result;
}

async function spectralCheckpoint(input: CheckpointWorkflowInput): Promise<CheckpointWorkflowResult> {
  const { sweepId, checkpointId, uri, config, configHash } = input;
  const result: CheckpointWorkflowResult = {
    checkpointId,
    status: 'succeeded',
    layersComputed: 0,
    layersReused: 0,
    layersFailed: 0,
    layersSkipped: 0,
    score: null,
  };

  const outageBudgetMs = input.outageBudgetMs ?? DEFAULT_OUTAGE_BUDGET_MS;
  const bookkeeping = bookkeepingActivities(outageBudgetMs);
  const book = patched(LOCAL_BOOKKEEPING_PATCH) ? bookkeeping.local : bookkeeping.remote;
  let layers: LayerPlan[];
  let contentHash: string | undefined;
  try {
    const plan = await book.inspectCheckpoint({ sweepId, checkpointId, uri, config, configHash });
    layers = plan.layers;
    contentHash = plan.contentHash;
    result.layersSkipped = plan.skipped;
    result.layersReused = plan.reused - plan.reusedFailed;
    result.layersFailed = plan.reusedFailed;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    await book.recordCheckpointFailure({ sweepId, checkpointId, reason });
    return { ...result, status: 'failed', reason };
  }

  const analyzeOne = async (layer: LayerPlan): Promise<void> => {
    const { analyzeLayerActivity } = proxyActivities<SweepActivities>(
      // Single-layer activities: checkpoint workflows started before batching replay through them.
      batchActivityOptions(layerTimeoutMs(layer), outageBudgetMs),
    );
    let outcome: LayerTaskResult;
    try {
      outcome = await analyzeLayerActivity({ sweepId, checkpointId, uri, layer, config, configHash });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Bad input was already recorded by the activity; record the rest (retries exhausted) here.
      await book.recordLayerFailure({
        checkpointId,
        configHash,
        layer,
        reason: failureReason(err),
        failure: failureKind(err),
      });
      result.layersFailed += 1;
      return;
    }
    if (outcome.status === 'failed') result.layersFailed += 1;
    else if (outcome.computed) result.layersComputed += 1;
    else result.layersReused += 1;
  };

  const analyzeBatch = async (
    batch: LayerPlan[],
    hash: string,
    queue: SpectralQueue = 'cpu',
  ): Promise<void> => {
    const options = batchActivityOptions(batchTimeoutMs(batch), outageBudgetMs);
    const { analyzeLayerBatch } = proxyActivities<SweepActivities>(
      queue === 'gpu'
        ? { ...options, taskQueue: TASK_QUEUES.gpu, scheduleToStartTimeout: GPU_SCHEDULE_TO_START_MS }
        : options,
    );
    let outcomes: LayerTaskResult[];
    try {
      outcomes = await analyzeLayerBatch({
        sweepId,
        checkpointId,
        uri,
        contentHash: hash,
        layers: batch,
        config,
        configHash,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Not picked up by a gpu worker in time, or given up there: the cpu workers run it.
      if (queue === 'gpu') return analyzeBatch(batch, hash, 'cpu');
      const { failed } = await book.recordLayerBatchFailure({
        checkpointId,
        configHash,
        layers: batch,
        reason: failureReason(err),
        failure: failureKind(err),
      });
      result.layersFailed += failed;
      // The others were stored by an earlier attempt before the last one failed.
      result.layersReused += batch.length - failed;
      return;
    }
    for (const outcome of outcomes) {
      if (outcome.status === 'failed') result.layersFailed += 1;
      else if (outcome.computed) result.layersComputed += 1;
      else result.layersReused += 1;
    }
  };

  // Bounded fan-out: at most maxParallelLayers activities pending, far below Temporal's limits.
  let tasks: (() => Promise<void>)[];
  if (patched(LAYER_BATCHES_PATCH) && contentHash !== undefined) {
    const gpuMinDim = input.gpuMinDim ?? CUDA_MIN_DIM;
    const hasLargeLayers = gpuMinDim > 0 && layers.some((layer) => layerMinDim(layer) >= gpuMinDim);
    const gpu = hasLargeLayers && patched(GPU_ROUTING_PATCH) && (await gpuWorkersPresent());
    const routes = planLayerRoutes(layers, {
      gpu,
      gpuMinDim,
      budgetFlops: input.layerBatchFlops ?? DEFAULT_BATCH_FLOPS,
    });
    tasks = routes.map((route) => () => analyzeBatch(route.layers, contentHash, route.queue));
  } else {
    tasks = layers.map((layer) => () => analyzeOne(layer));
  }
  const limit = Math.max(1, input.maxParallelLayers);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));

  try {
    const summary = await book.summarizeCheckpoint({ sweepId, checkpointId, configHash });
    result.score = summary.score;
    if (summary.status !== 'succeeded') return { ...result, status: summary.status, reason: summary.reason };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    await book.recordCheckpointFailure({ sweepId, checkpointId, reason });
    return { ...result, status: 'failed', reason };
  }
  return result;
}
