/**
 * Client side of a plan (`weightlens plan --stack`, tests): start the plan workflow on one
 * checkpoint and read the stored plan back once it ended.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { type PlanCurvature, type PlanWorkflowResult, planWorkflowId } from '../contracts/plan.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import type { PrismaClient } from '../db/client.ts';
import { readPlan, type StoredPlan } from '../db/plans.ts';
import { BadInputError } from '../lib/errors.ts';
import { checkPlanOptions, type PlanOptions } from '../lib/plan/plan.ts';
import { hashAnalysisConfig } from '../lib/spectral/index.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { planWorkflow } from '../workflows/plan.ts';
import { normalizeSource } from './sweep-client.ts';

export interface PlanRun {
  planId: string;
  workflowId: string;
  result: PlanWorkflowResult;
  stored: StoredPlan;
}

/** Run the plan workflow to its end; a failed plan throws its reason (a bad budget, say). */
export async function runPlan(
  client: Client,
  prisma: PrismaClient,
  uri: string,
  options: PlanOptions,
  config: AnalysisConfig,
  extras: { curvature?: PlanCurvature; write?: string } = {},
): Promise<PlanRun> {
  checkPlanOptions(options);
  const planId = randomUUID().slice(0, 8);
  const workflowId = planWorkflowId(planId);
  const handle = await client.workflow.start<typeof planWorkflow>('planWorkflow', {
    workflowId,
    taskQueue: TASK_QUEUES.cpu,
    args: [
      {
        planId,
        uri: normalizeSource(uri),
        options,
        config,
        configHash: hashAnalysisConfig(config),
        ...(extras.curvature ? { curvature: extras.curvature } : {}),
        ...(extras.write ? { write: normalizeSource(extras.write) } : {}),
      },
    ],
  });
  const result = await handle.result();
  if (result.status === 'failed') {
    // "BadInput: budget below the minimum: …" → the message alone, as the local mode prints it.
    throw new BadInputError(`plan ${planId}: ${(result.reason ?? 'failed').replace(/^[A-Za-z]+: /, '')}`, {
      file: uri,
    });
  }
  const stored = await readPlan(prisma, planId);
  if (!stored?.plan) throw new BadInputError(`plan ${planId} succeeded but its rows are missing`);
  return { planId, workflowId, result, stored };
}
