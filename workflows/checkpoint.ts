/**
 * One checkpoint of a sweep: inspect (tensor list → analyzable layers), one activity per layer with
 * bounded concurrency, then a summary. When the sweep asks for curvature, one curvature activity
 * (gpu queue, workflows/curvature.ts) runs alongside the layers. Deterministic orchestration only;
 * all I/O is in activities. Bad input never fails this workflow: it is recorded against the layer,
 * the checkpoint or the checkpoint's curvature.
 */
import { type ActivityOptions, isCancellation, proxyActivities } from '@temporalio/workflow';
import { checkpointCurvature } from './curvature.ts';
import { failureReason } from './failure-reason.ts';
import type {
  CheckpointWorkflowInput,
  CheckpointWorkflowResult,
  LayerPlan,
  LayerTaskResult,
  SweepActivities,
} from './types.ts';

const RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: ['BadInput', 'Unsupported'],
};

/** Short bookkeeping activities (Postgres writes, header reads). */
const bookkeeping = proxyActivities<SweepActivities>({
  startToCloseTimeout: '2 minutes',
  retry: RETRY,
});

/**
 * Longest single attempt for one layer: a floor for I/O plus the eigen-decomposition's cost
 * (rows·cols·min(rows,cols) flops per matrix, conv2d slices each) at a pessimistic 20 MFLOP/s,
 * the speed of the pure-TS fallback on a busy core. Capped at 6 hours.
 */
export function layerTimeoutMs(layer: LayerPlan): number {
  const shape = layer.shape;
  let flops: number;
  if (shape.length === 4 || shape.length === 3) {
    // conv2d [kh, kw, in, out] / conv1d [k, in, out]: one in×out matrix per kernel position.
    const cin = shape[shape.length - 2]!;
    const cout = shape[shape.length - 1]!;
    const positions = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    flops = positions * cin * cout * Math.min(cin, cout);
  } else {
    const rows = shape[0] ?? 1;
    const cols = shape.slice(1).reduce((a, b) => a * b, 1);
    flops = rows * cols * Math.min(rows, cols);
  }
  const ioMs = layer.byteLength / 5_000; // 5 MB/s worst-case object-store read
  return Math.min(6 * 3600_000, Math.round(120_000 + ioMs + flops / 20_000));
}

function layerActivityOptions(layer: LayerPlan): ActivityOptions {
  return {
    startToCloseTimeout: layerTimeoutMs(layer),
    // The activity heartbeats every few seconds while the eigensolver runs off the event loop,
    // so a SIGKILLed worker is noticed within this window and the layer moves to another worker.
    heartbeatTimeout: '30 seconds',
    retry: RETRY,
  };
}

export { failureReason } from './failure-reason.ts';

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

  let layers: LayerPlan[];
  try {
    const plan = await bookkeeping.inspectCheckpoint({ sweepId, checkpointId, uri, config, configHash });
    layers = plan.layers;
    result.layersSkipped = plan.skipped;
    result.layersReused = plan.reused - plan.reusedFailed;
    result.layersFailed = plan.reusedFailed;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    await bookkeeping.recordCheckpointFailure({ sweepId, checkpointId, reason });
    return { ...result, status: 'failed', reason };
  }

  const analyzeOne = async (layer: LayerPlan): Promise<void> => {
    const { analyzeLayerActivity } = proxyActivities<SweepActivities>(layerActivityOptions(layer));
    let outcome: LayerTaskResult;
    try {
      outcome = await analyzeLayerActivity({ sweepId, checkpointId, uri, layer, config, configHash });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Bad input was already recorded by the activity; record the rest (retries exhausted) here.
      await bookkeeping.recordLayerFailure({ checkpointId, configHash, layer, reason: failureReason(err) });
      result.layersFailed += 1;
      return;
    }
    if (outcome.status === 'failed') result.layersFailed += 1;
    else if (outcome.computed) result.layersComputed += 1;
    else result.layersReused += 1;
  };

  // Bounded fan-out: at most maxParallelLayers activities pending, far below Temporal's limits.
  const limit = Math.max(1, input.maxParallelLayers);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < layers.length) {
      const layer = layers[next++]!;
      await analyzeOne(layer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, layers.length) }, lane));

  try {
    const summary = await bookkeeping.summarizeCheckpoint({ sweepId, checkpointId, configHash });
    result.score = summary.score;
    if (summary.status === 'failed') return { ...result, status: 'failed', reason: summary.reason };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    await bookkeeping.recordCheckpointFailure({ sweepId, checkpointId, reason });
    return { ...result, status: 'failed', reason };
  }
  return result;
}
