/**
 * Whether the sweep may route large layers to the gpu queue: counts the workers polling it for
 * activities (Temporal's DescribeTaskQueue, through the worker's own client). Every gpu worker of
 * this version serves spectral layer batches beside curvature (workers/create.ts).
 */
import { Context } from '@temporalio/activity';
import type { CheckpointActivities } from '../contracts/checkpoint.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import { mappingFailures } from './failures.ts';

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY (the proto package is not a direct dependency). */
const ACTIVITY_TASK_QUEUE_TYPE = 2;

/**
 * A polling worker renews its poll at least about once a minute (the server ends a long poll after
 * ~60 s); Temporal keeps listing a stopped worker's poller for minutes, so only pollers seen within
 * this window count.
 */
export const LIVE_POLLER_WINDOW_MS = 75_000;

/** Milliseconds since the epoch of a protobuf Timestamp (seconds as Long or number). */
function timestampMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return Number.NaN;
  const seconds = Number(t.seconds ?? 0);
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

export function createGpuRoutingActivities(): Pick<CheckpointActivities, 'countGpuWorkers'> {
  return {
    countGpuWorkers: () =>
      mappingFailures(async () => {
        const { client, info } = Context.current();
        const response = await client.workflowService.describeTaskQueue({
          namespace: info.activityNamespace,
          taskQueue: { name: TASK_QUEUES.gpu },
          taskQueueType: ACTIVITY_TASK_QUEUE_TYPE,
        });
        const now = Date.now();
        const live = (response.pollers ?? []).filter(
          (poller) => now - timestampMs(poller.lastAccessTime) <= LIVE_POLLER_WINDOW_MS,
        );
        return { workers: live.length };
      }),
  };
}
