/**
 * Curvature of one checkpoint inside its checkpoint workflow: a cheap cpu-queue plan (model.json
 * beside the checkpoint? final row already stored?), then at most one curvature activity on the
 * `gpu` task queue with a timeout sized from the model and the methods asked for. Never throws
 * except on cancellation: skips and failures are recorded against the checkpoint's curvature row
 * and reported as an outcome, so curvature can never sink the checkpoint or the sweep.
 */
import { type ActivityOptions, isCancellation, proxyActivities } from '@temporalio/workflow';
import type {
  CurvatureOutcomeKind,
  CurvatureSettings,
  GpuActivities,
  SweepCurvature,
} from '../contracts/curvature.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import type { SweepActivities } from '../contracts/sweep.ts';
import { failureKind, failureReason } from './failure-reason.ts';
import { GPU_RETRY, NON_RETRYABLE_TYPES } from './retry-policy.ts';

const bookkeeping = proxyActivities<SweepActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] },
});

/** Pessimistic seconds per Hessian-vector product per (sample × parameter); see curvatureTimeoutMs. */
const SECONDS_PER_SAMPLE_PARAMETER = 1e-6;
const FLOOR_MS = 10 * 60_000;
const CAP_MS = 6 * 3600_000;

/** How many Hessian-vector products (or equivalent passes) the settings ask for, at most. */
export function curvatureProductBudget(
  settings: CurvatureSettings,
  data: SweepCurvature['data'],
  weightTensors: number | null,
): number {
  const topK = settings.topK ?? 1;
  let products = 2; // loss and set-up passes
  if (topK > 0) {
    products +=
      settings.eigenMethod === 'power'
        ? topK * (settings.powerMaxIter ?? 100)
        : (settings.lanczosSteps ?? Math.max(2 * topK, topK + 20));
  }
  const probes = settings.traceMaxProbes ?? 100;
  if (settings.trace) products += probes;
  if (settings.density) products += (settings.densitySteps ?? 100) * (settings.densityRuns ?? 1);
  if (settings.perLayer) products += (weightTensors ?? 50) * ((settings.perLayerSteps ?? 20) + probes);
  if (data.distilled) products += 500; // ZeroQ's 500 optimisation steps (each cheaper than a product)
  if (data.adversarial === 'pgd') products += 10;
  if (data.adversarial === 'fgsm') products += 1;
  return products;
}

/** Pessimistic seconds of one Hessian-vector product for this batch and model. */
function secondsPerProduct(samples: number, parameters: number): number {
  return samples * parameters * SECONDS_PER_SAMPLE_PARAMETER;
}

/**
 * Longest silence between heartbeats: the activity heartbeats after every product (and every ZeroQ
 * step, about a third of one), so three pessimistic products, at least 5 minutes, at most 1 hour.
 */
export function curvatureHeartbeatMs(
  curvature: Pick<SweepCurvature, 'data'>,
  model: { parameters: number | null },
): number {
  if (model.parameters === null) return 3600_000;
  const ms = 3 * secondsPerProduct(curvature.data.samples, model.parameters) * 1000;
  return Math.round(Math.min(3600_000, Math.max(5 * 60_000, ms)));
}

/**
 * Longest single attempt: 10 minutes for loading and the batch, plus the product budget at a
 * pessimistic 1e-6 s per sample·parameter per product (measured on this repo's zoo with wasm on a
 * busy core: ~1.3e-8 for the MLP, ~2.5e-7 for the CNN). Capped at 6 hours; unknown model size
 * gets the cap (the heartbeat timeout still notices a dead worker within minutes).
 */
export function curvatureTimeoutMs(
  curvature: Pick<SweepCurvature, 'data' | 'settings'>,
  model: { parameters: number | null; weightTensors: number | null },
): number {
  if (model.parameters === null) return CAP_MS;
  const products = curvatureProductBudget(curvature.settings, curvature.data, model.weightTensors);
  const seconds = products * secondsPerProduct(curvature.data.samples, model.parameters);
  return Math.min(CAP_MS, Math.round(FLOOR_MS + seconds * 1000));
}

function curvatureActivityOptions(
  curvature: SweepCurvature,
  model: { parameters: number | null; weightTensors: number | null },
): ActivityOptions {
  return {
    taskQueue: TASK_QUEUES.gpu,
    startToCloseTimeout: curvatureTimeoutMs(curvature, model),
    heartbeatTimeout: curvatureHeartbeatMs(curvature, model),
    retry: GPU_RETRY,
  };
}

export async function checkpointCurvature(
  checkpointId: string,
  uri: string,
  curvature: SweepCurvature,
): Promise<CurvatureOutcomeKind> {
  const { configHash, data, settings } = curvature;
  try {
    const plan = await bookkeeping.planCurvature({ checkpointId, uri, configHash, data });
    if (plan.action === 'skip') return 'skipped';
    if (plan.action === 'reuse') return plan.status === 'succeeded' ? 'reused' : 'failed';
    const { curvatureActivity } = proxyActivities<GpuActivities>(curvatureActivityOptions(curvature, plan));
    const outcome = await curvatureActivity({
      checkpointId,
      uri: plan.modelUri,
      data,
      settings,
      backend: curvature.mode === 'cpu' ? 'wasm' : undefined,
    });
    if (outcome.status === 'cached') return 'reused';
    return outcome.status === 'succeeded' ? 'computed' : 'failed';
  } catch (err) {
    if (isCancellation(err)) throw err;
    try {
      await bookkeeping.recordCurvatureFailure({
        checkpointId,
        configHash,
        data,
        reason: failureReason(err),
        failure: failureKind(err),
      });
    } catch (recordErr) {
      if (isCancellation(recordErr)) throw recordErr;
      // Postgres unreachable through all retries: the outcome still says failed.
    }
    return 'failed';
  }
}
