/**
 * One run of a `weightlens schedule`: the Temporal Schedule starts this workflow; it records the
 * run as an ordinary Sweep row (tagged with the schedule), runs the ordinary sweep as a child (so
 * results are keyed and reused exactly as for one-shot sweeps: unchanged checkpoints are not
 * recomputed), then evaluates the schedule's alert rules.
 */
import { executeChild, log, proxyActivities, proxyLocalActivities, uuid4 } from '@temporalio/workflow';
import { TASK_QUEUES } from '../contracts/queues.ts';
import type { ScheduleActivities, ScheduledSweepInput, ScheduledSweepResult } from '../contracts/schedule.ts';
import { sweepWorkflowId } from '../contracts/sweep.ts';
import { NON_RETRYABLE_TYPES } from './retry-policy.ts';
import { sweepWorkflow } from './sweep.ts';

const NON_RETRYABLE = [...NON_RETRYABLE_TYPES];

const bookkeeping = proxyLocalActivities<ScheduleActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Alert delivery retries a down webhook for a while; hits stay stored (and undelivered) after that. */
const alerts = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 8, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
});

export async function scheduledSweepWorkflow(input: ScheduledSweepInput): Promise<ScheduledSweepResult> {
  const sweepId = uuid4().slice(0, 8);
  const workflowId = sweepWorkflowId(sweepId);
  await bookkeeping.recordScheduledSweep({
    scheduleName: input.scheduleName,
    sweepId,
    workflowId,
    sources: input.sources,
    config: input.config,
    configHash: input.configHash,
  });
  await executeChild(sweepWorkflow, {
    workflowId,
    taskQueue: TASK_QUEUES.cpu,
    args: [
      {
        sweepId,
        sources: input.sources,
        config: input.config,
        configHash: input.configHash,
        curvature: input.curvature ?? 'off',
        completeness: input.completeness,
      },
    ],
  });
  if (!input.alerts?.length) return { sweepId };
  try {
    const outcome = await alerts.evaluateScheduleAlerts({
      scheduleName: input.scheduleName,
      sweepId,
      rules: input.alerts,
      webhook: input.webhook,
    });
    return { sweepId, alerts: outcome };
  } catch (err) {
    // The sweep itself succeeded; hits stay stored as undelivered and the next run delivers them.
    const cause = err instanceof Error ? err.cause : undefined;
    const alertError = cause instanceof Error ? cause.message : String(err);
    log.warn('alert evaluation or delivery failed', { sweepId, alertError });
    return { sweepId, alertError };
  }
}
