/**
 * A quantization/pruning plan of one checkpoint from its stored per-layer results: prepare (find the
 * checkpoint, record the plan row, check the results the method reads), run a one-checkpoint sweep
 * as a child when they are missing (the sweep and checkpoint workflows compute and store them),
 * then solve and store the plan. Deterministic orchestration only; bad input (an infeasible budget,
 * an unreadable checkpoint) is recorded on the plan and returned, never thrown.
 */
import { executeChild, isCancellation, proxyActivities } from '@temporalio/workflow';
import {
  type PlanActivities,
  type PlanWorkflowInput,
  type PlanWorkflowResult,
  planWorkflowId,
} from '../contracts/plan.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import { sweepWorkflowId } from '../contracts/sweep.ts';
import { failureReason } from './failure-reason.ts';
import { outageTolerantOptions } from './retry-policy.ts';
import { sweepWorkflow } from './sweep.ts';

const bookkeeping = proxyActivities<PlanActivities>(outageTolerantOptions(2 * 60_000));

/** Solving reads every planned tensor once and re-solves the budget sweep; it heartbeats every 5 s. */
const solving = proxyActivities<PlanActivities>(
  outageTolerantOptions(2 * 3600_000, undefined, { heartbeatTimeout: '1 minute' }),
);

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
    });
    if (prepared.spectral.action === 'missing') {
      const { sweepId } = prepared.spectral;
      await executeChild(sweepWorkflow, {
        workflowId: sweepWorkflowId(sweepId),
        taskQueue: TASK_QUEUES.cpu,
        args: [{ sweepId, sources: [prepared.uri], config, configHash, curvature: 'off' }],
      });
    }
    await solving.computePlan({
      planId,
      checkpointId: prepared.checkpointId,
      uri: prepared.uri,
      options,
      configHash,
    });
    return { planId, status: 'succeeded' };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    await bookkeeping.recordPlanFailure({ planId, reason });
    return { planId, status: 'failed', reason };
  }
}
