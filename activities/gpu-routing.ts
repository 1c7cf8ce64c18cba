/**
 * Whether the sweep may route large layers to the gpu queue: counts the workers polling it for
 * activities (Temporal's DescribeTaskQueue, through the worker's own client). Every gpu worker of
 * this version serves spectral layer batches beside curvature (workers/create.ts).
 */
import { Context } from '@temporalio/activity';
import { TASK_QUEUES } from '../contracts/queues.ts';
import type { ActivityDeps } from './deps.ts';
import { mappingFailures } from './failures.ts';

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY (the proto package is not a direct dependency). */
const ACTIVITY_TASK_QUEUE_TYPE = 2;

export interface GpuRoutingActivities {
  /** Workers polling the gpu queue for activities right now (Temporal forgets a poller ~minutes after it stops). */
  countGpuWorkers(): Promise<{ workers: number }>;
}

export function createGpuRoutingActivities(_deps: ActivityDeps): GpuRoutingActivities {
  return {
    countGpuWorkers: () =>
      mappingFailures(async () => {
        const { client, info } = Context.current();
        const response = await client.workflowService.describeTaskQueue({
          namespace: info.activityNamespace,
          taskQueue: { name: TASK_QUEUES.gpu },
          taskQueueType: ACTIVITY_TASK_QUEUE_TYPE,
        });
        return { workers: response.pollers?.length ?? 0 };
      }),
  };
}
