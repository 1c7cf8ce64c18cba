/**
 * `weightlens plan --stack`: the plan computed by the plan workflow (workflows/plan.ts) over the
 * stored per-layer results, stored in Postgres (Plan, PlanLayer) and printed as the local mode
 * prints it. hawq reads the per-layer Hessian traces of a stored curvature run with the local
 * mode's settings (computed first when none is stored under their hash); zeroq measures its KL in
 * a gpu-queue activity; `--write` makes the worker write the planned checkpoint through storage.
 * As `sweep --wait`: the local stack starts when nothing is configured, and with a local Temporal
 * (no TEMPORAL_ADDRESS) an in-process cpu worker joins, plus a gpu-queue worker process for
 * hawq/zeroq (curvature's tfjs state is global).
 */
import { curvatureConfigHash } from '../../activities/curvature-config.ts';
import type { PlanCurvature } from '../../contracts/plan.ts';
import { createPrismaClient } from '../../db/client.ts';
import { resolveServices } from '../../infra/config.ts';
import type { DataSourceOptions } from '../../lib/curvature/batch.ts';
import { BadInputError } from '../../lib/errors.ts';
import { checkPlanOptions, type Plan, type PlanOptions } from '../../lib/plan/plan.ts';
import { hawqCurvatureSettings } from '../../lib/plan/stored.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { createWorker, type RunningWorker } from '../../workers/create.ts';
import { runPlan } from '../../workers/plan-client.ts';
import { connectClient, normalizeSource } from '../../workers/sweep-client.ts';
import { startWorkerChild, type WorkerChild } from '../../workers/worker-process.ts';
import { planDashboardUrl } from './dashboard.ts';

export interface StackPlanFlags {
  localWorker?: boolean;
  write?: string;
  maxBops?: number;
  latencyTable?: string;
  data?: string;
  distilled?: boolean;
  random?: boolean;
  samples?: number;
  seed?: number;
  probes?: number;
}

/** What the stack mode does not do: refused before any service starts. */
export function checkStackPlan(options: PlanOptions, flags: StackPlanFlags): void {
  checkPlanOptions(options);
  for (const [flag, given] of [
    ['--max-bops', flags.maxBops],
    ['--latency-table', flags.latencyTable],
  ] as const) {
    if (given !== undefined) throw new BadInputError(`${flag} is local-mode only (drop --stack)`);
  }
}

const DATASETS = /^(fashion-mnist|mnist)(:test)?$/;

/** hawq/zeroq: the data source and (hawq) curvature settings, as the local mode uses them. */
export function stackPlanCurvature(options: PlanOptions, flags: StackPlanFlags): PlanCurvature | undefined {
  if (options.method !== 'hawq' && options.method !== 'zeroq') return undefined;
  const chosen = [flags.data !== undefined, !!flags.distilled, !!flags.random].filter(Boolean).length;
  if (chosen !== 1) throw new BadInputError('choose exactly one of --data <uri>, --distilled, --random');
  const seed = flags.seed ?? 1;
  const data: DataSourceOptions = { samples: flags.samples ?? 256, seed, epsilon: 0 };
  if (flags.data !== undefined)
    data.data = DATASETS.test(flags.data) ? flags.data : normalizeSource(flags.data);
  else if (flags.distilled) data.distilled = true;
  else data.random = true;
  // zeroq reads no curvature settings; its hash only names the data in the plan's inputs.
  const settings = options.method === 'hawq' ? hawqCurvatureSettings(flags.probes ?? 30, seed) : {};
  return { data, settings, configHash: curvatureConfigHash(data, settings) };
}

export async function planInStack(
  uri: string,
  options: PlanOptions,
  flags: StackPlanFlags,
): Promise<{ checkpoint: string; inputs: string; plan: Plan; planId: string }> {
  checkStackPlan(options, flags);
  const curvature = stackPlanCurvature(options, flags);
  const services = await resolveServices({ start: true });
  const prisma = createPrismaClient(services.databaseUrl);
  const temporal = await connectClient(services);
  let worker: RunningWorker | undefined;
  let gpuWorker: WorkerChild | undefined;
  try {
    if (flags.localWorker ?? !process.env.TEMPORAL_ADDRESS) {
      worker = await createWorker({ queue: 'cpu', services, quiet: true });
      void worker.run();
      if (curvature) gpuWorker = await startWorkerChild('gpu', services);
    }
    const run = await runPlan(temporal.client, prisma, uri, options, defaultAnalysisConfig, {
      curvature,
      write: flags.write,
    });
    process.stderr.write(
      `plan ${run.planId} stored (workflow ${run.workflowId}); dashboard: ${planDashboardUrl(run.planId)}\n`,
    );
    return {
      checkpoint: run.stored.checkpoint.uri,
      inputs: run.stored.inputs ?? '',
      plan: run.stored.plan!,
      planId: run.planId,
    };
  } finally {
    await gpuWorker?.stop();
    await worker?.close();
    await temporal.close();
    await prisma.$disconnect();
  }
}
