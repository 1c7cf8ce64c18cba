/**
 * A sweep: discover checkpoints (an activity writes them to Postgres), then page through them by
 * cursor and run one child `checkpointWorkflow` per checkpoint, at most `maxParallelCheckpoints` at
 * once. After `childrenPerRun` children (or when Temporal suggests it) the workflow drains and
 * continues as new carrying only the cursor and counters, so 10,000 checkpoints stay far inside
 * the history limits. Progress is a query; cancellation cancels the children and records the sweep.
 */

import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  type ChildWorkflowHandle,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { type CheckpointWorkflowResult, checkpointWorkflowId } from '../contracts/checkpoint.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import {
  defaultSweepTuning,
  emptySweepCounts,
  type SourceError,
  type SweepActivities,
  type SweepItem,
  type SweepPhase,
  type SweepWorkflowInput,
  type SweepWorkflowResult,
} from '../contracts/sweep.ts';
import { checkpointWorkflow, failureReason } from './checkpoint.ts';
import { progressQuery } from './queries.ts';
import { outageTolerantOptions } from './retry-policy.ts';

/** Sweep bookkeeping: short Postgres reads and writes, retried through the outage budget. */
function sweepActivities(outageBudgetMs: number) {
  return proxyActivities<SweepActivities>(outageTolerantOptions(2 * 60_000, outageBudgetMs));
}

/** Discovery lists and headers every source: allow it time, with heartbeats while it runs. */
function discoveryActivities(outageBudgetMs: number) {
  return proxyActivities<SweepActivities>(
    outageTolerantOptions(2 * 3600_000, outageBudgetMs, { heartbeatTimeout: '2 minutes' }),
  );
}

const CURVATURE_COUNTER = {
  computed: 'curvatureComputed',
  reused: 'curvatureReused',
  skipped: 'curvatureSkipped',
  failed: 'curvatureFailed',
} as const;

export async function sweepWorkflow(input: SweepWorkflowInput): Promise<SweepWorkflowResult> {
  const tuning = { ...defaultSweepTuning, ...input.tuning };
  const activities = sweepActivities(tuning.outageBudgetMs);
  const discovery = discoveryActivities(tuning.outageBudgetMs);
  // Counters carried from a run of an older version may lack the curvature ones.
  const counts = { ...emptySweepCounts(), ...input.carried?.counts };
  const curvature = input.curvature === 'off' ? undefined : input.curvature;
  const runs = input.carried?.runs ?? 0;
  let cursor = input.carried?.cursor ?? null;
  let phase: SweepPhase = input.carried ? 'analyzing' : 'discovering';
  let sourceErrors: SourceError[] = input.carried?.sourceErrors ?? [];
  let needsContinue = false;
  let finalStatus: 'completed' | 'completed_with_failures' = 'completed';
  const inFlight = new Map<string, Promise<void>>();

  setHandler(progressQuery, () => ({ ...counts, phase, running: inFlight.size, runs }));

  try {
    if (!input.carried) {
      const discovered = await discovery.discoverSweep({
        sweepId: input.sweepId,
        sources: input.sources,
        completeness: input.completeness,
      });
      counts.total = discovered.total;
      sourceErrors = discovered.sourceErrors;
      phase = 'analyzing';
    }

    const runChild = async (item: SweepItem): Promise<void> => {
      const args = {
        sweepId: input.sweepId,
        checkpointId: item.checkpointId,
        uri: item.uri,
        config: input.config,
        configHash: input.configHash,
        maxParallelLayers: tuning.maxParallelLayers,
        layerBatchFlops: tuning.layerBatchFlops,
        outageBudgetMs: tuning.outageBudgetMs,
        gpuMinDim: tuning.gpuMinDim,
        ...(curvature ? { curvature } : {}),
      };
      const options = {
        args: [args] as [typeof args],
        taskQueue: TASK_QUEUES.cpu,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      };
      let outcome: CheckpointWorkflowResult;
      try {
        const baseId = checkpointWorkflowId(item.checkpointId, input.configHash);
        let handle: ChildWorkflowHandle<typeof checkpointWorkflow>;
        try {
          handle = await startChild(checkpointWorkflow, { ...options, workflowId: baseId });
        } catch (err) {
          // Another sweep is analysing the same checkpoint right now: run our own child (the
          // layer activities still dedupe through Postgres).
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          handle = await startChild(checkpointWorkflow, {
            ...options,
            workflowId: `${baseId}-${input.sweepId}`,
          });
        }
        outcome = await handle.result();
      } catch (err) {
        if (isCancellation(err)) throw err;
        const reason = failureReason(err);
        await activities.recordCheckpointFailure({
          sweepId: input.sweepId,
          checkpointId: item.checkpointId,
          reason,
        });
        counts.failed += 1;
        return;
      }
      if (outcome.status === 'succeeded') counts.succeeded += 1;
      else if (outcome.status === 'incomplete') counts.incomplete += 1;
      else counts.failed += 1;
      counts.layersComputed += outcome.layersComputed;
      counts.layersReused += outcome.layersReused;
      counts.layersFailed += outcome.layersFailed;
      counts.layersSkipped += outcome.layersSkipped;
      if (outcome.curvature) counts[CURVATURE_COUNTER[outcome.curvature]] += 1;
    };

    let buffer: SweepItem[] = [];
    let exhausted = false;
    let startedThisRun = 0;
    const runFull = () => startedThisRun >= tuning.childrenPerRun || workflowInfo().continueAsNewSuggested;
    for (;;) {
      if (buffer.length === 0 && !exhausted && !runFull()) {
        buffer = await activities.listSweepCheckpoints({
          sweepId: input.sweepId,
          after: cursor,
          limit: tuning.pageSize,
        });
        if (buffer.length < tuning.pageSize) exhausted = true;
      }
      while (inFlight.size < tuning.maxParallelCheckpoints && buffer.length > 0 && !runFull()) {
        const item = buffer.shift()!;
        cursor = item.checkpointId;
        startedThisRun += 1;
        counts.started += 1;
        const child = runChild(item).finally(() => inFlight.delete(item.checkpointId));
        // Only cancellation rejects; the race below sees it, the others must not go unhandled.
        child.catch(() => undefined);
        inFlight.set(item.checkpointId, child);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }

    if (!exhausted || buffer.length > 0) {
      needsContinue = true;
    } else {
      phase = 'finishing';
      if (counts.incomplete > 0) finalStatus = 'completed_with_failures';
      await activities.finishSweep({ sweepId: input.sweepId, status: finalStatus });
      phase = 'completed';
    }
  } catch (err) {
    if (!isCancellation(err)) {
      await activities.finishSweep({ sweepId: input.sweepId, status: 'failed', error: failureReason(err) });
      throw err;
    }
    // Cancelled: children were asked to cancel with us; record the sweep outside the cancelled scope.
    await CancellationScope.nonCancellable(() =>
      activities.finishSweep({ sweepId: input.sweepId, status: 'cancelled' }),
    );
    phase = 'cancelled';
    throw err;
  }
  if (needsContinue) {
    // Only the cursor and counters travel; unstarted buffered items are re-listed after the cursor.
    return await continueAsNew<typeof sweepWorkflow>({
      ...input,
      carried: { cursor, counts, runs: runs + 1, sourceErrors },
    });
  }
  return { ...counts, status: finalStatus, sourceErrors };
}
