/**
 * A quantization/pruning plan of one checkpoint from its stored per-layer results: prepare (find the
 * checkpoint, record the plan row, check the results the method reads), run a one-checkpoint sweep
 * as a child when they are missing (the sweep and checkpoint workflows compute and store them);
 * for hawq, the checkpoint's curvature step (reused by its configuration hash, else computed on the
 * gpu queue); for zeroq, the KL activity on the gpu queue; then solve and store the plan (and
 * write the planned checkpoint when asked). Deterministic orchestration only; bad input (an infeasible budget,
 * an unreadable checkpoint) is recorded on the plan and returned, never thrown.
 */
import { executeChild, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import {
  type KlTable,
  type PlanActivities,
  type PlanGpuActivities,
  type PlanWorkflowInput,
  type PlanWorkflowResult,
  planWorkflowId,
} from '../contracts/plan.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import { sweepWorkflowId } from '../contracts/sweep.ts';
import { checkpointCurvature } from './curvature.ts';
import { failureReason } from './failure-reason.ts';
import { GPU_RETRY, outageTolerantOptions } from './retry-policy.ts';
import { sweepWorkflow } from './sweep.ts';

const bookkeeping = proxyActivities<PlanActivities>(outageTolerantOptions(2 * 60_000));

/** Solving reads every planned tensor once and re-solves the budget sweep; it heartbeats every 5 s. */
const solving = proxyActivities<PlanActivities>(
  outageTolerantOptions(2 * 3600_000, undefined, { heartbeatTimeout: '1 minute' }),
);

/** ZeroQ's KL on the gpu queue: one forward pass of the batch per layer and width, plus distilling. */
const zeroq = proxyActivities<PlanGpuActivities>({
  taskQueue: TASK_QUEUES.gpu,
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '10 minutes',
  retry: GPU_RETRY,
});

export async function planWorkflow(input: PlanWorkflowInput): Promise<PlanWorkflowResult> {
  const { planId, options, config, configHash } = input;
  try {
    const prepared = await bookkeeping.preparePlan({
      planId,
      workflowId: planWorkflowId(planId),
      uri: input.uri,
      options,
      config,
      configHash,
      ...(input.curvature ? { curvatureHash: input.curvature.configHash } : {}),
    });
    if (prepared.spectral.action === 'missing') {
      const { sweepId } = prepared.spectral;
      await executeChild(sweepWorkflow, {
        workflowId: sweepWorkflowId(sweepId),
        taskQueue: TASK_QUEUES.cpu,
        args: [{ sweepId, sources: [prepared.uri], config, configHash, curvature: 'off' }],
      });
    }
    const { curvature } = input;
    let kl: { table: KlTable; source: string } | undefined;
    // Both branches are new commands; histories of alpha/uniform plans never reach them.
    if (options.method === 'hawq' && curvature && patched('plan-curvature')) {
      // Reuses a stored run under the same hash (no gpu work); a skip or failure is on its row,
      // which computePlan reports.
      await checkpointCurvature(prepared.checkpointId, prepared.uri, { mode: 'gpu', ...curvature });
    }
    if (options.method === 'zeroq' && curvature && patched('plan-zeroq')) {
      kl = await zeroq.zeroqActivity({ uri: prepared.uri, options, data: curvature.data });
    }
    await solving.computePlan({
      planId,
      checkpointId: prepared.checkpointId,
      uri: prepared.uri,
      options,
      configHash,
      ...(curvature && options.method === 'hawq' ? { curvatureHash: curvature.configHash } : {}),
      ...(kl ? { kl } : {}),
      ...(input.write ? { write: input.write } : {}),
    });
    return { planId, status: 'succeeded' };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    await bookkeeping.recordPlanFailure({ planId, reason });
    return { planId, status: 'failed', reason };
  }
}
