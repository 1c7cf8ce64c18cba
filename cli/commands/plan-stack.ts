/**
 * `weightlens plan --stack`: the plan computed by the plan workflow (workflows/plan.ts) over the
 * stored per-layer results, stored in Postgres (Plan, PlanLayer) and printed as the local mode
 * prints it. As `sweep --wait`: the local stack starts when nothing is configured, and with a local
 * Temporal (no TEMPORAL_ADDRESS) an in-process worker joins.
 */
import { createPrismaClient } from '../../db/client.ts';
import { resolveServices } from '../../infra/config.ts';
import { BadInputError } from '../../lib/errors.ts';
import { checkPlanOptions, type Plan, type PlanOptions } from '../../lib/plan/plan.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { createWorker, type RunningWorker } from '../../workers/create.ts';
import { runPlan } from '../../workers/plan-client.ts';
import { connectClient } from '../../workers/sweep-client.ts';
import { planDashboardUrl } from './dashboard.ts';

export interface StackPlanFlags {
  localWorker?: boolean;
  write?: string;
  maxBops?: number;
  latencyTable?: string;
}

/** What the stack mode does not do (yet): refused before any service starts. */
export function checkStackPlan(options: PlanOptions, flags: StackPlanFlags): void {
  checkPlanOptions(options);
  if (options.method === 'hawq' || options.method === 'zeroq') {
    throw new BadInputError(
      `--stack plans read stored spectral results (alpha, uniform); ${options.method} runs locally (drop --stack)`,
    );
  }
  for (const [flag, given] of [
    ['--write', flags.write],
    ['--max-bops', flags.maxBops],
    ['--latency-table', flags.latencyTable],
  ] as const) {
    if (given !== undefined) throw new BadInputError(`${flag} is local-mode only (drop --stack)`);
  }
}

export async function planInStack(
  uri: string,
  options: PlanOptions,
  flags: StackPlanFlags,
): Promise<{ checkpoint: string; inputs: string; plan: Plan; planId: string }> {
  checkStackPlan(options, flags);
  const services = await resolveServices({ start: true });
  const prisma = createPrismaClient(services.databaseUrl);
  const temporal = await connectClient(services);
  let worker: RunningWorker | undefined;
  try {
    if (flags.localWorker ?? !process.env.TEMPORAL_ADDRESS) {
      worker = await createWorker({ queue: 'cpu', services, quiet: true });
      void worker.run();
    }
    const run = await runPlan(temporal.client, prisma, uri, options, defaultAnalysisConfig);
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
    await worker?.close();
    await temporal.close();
    await prisma.$disconnect();
  }
}
