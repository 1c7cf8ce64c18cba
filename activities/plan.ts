/**
 * The plan workflow's activities: find the checkpoint and record the plan (preparePlan), solve it
 * from the stored per-layer results with the same library function the CLI's local mode calls
 * (computePlan: lib/plan planCheckpoint, then the budget sweep), and record failures. Thin: the
 * planning is lib/plan's, the rows db/plans.ts's.
 */
import { Context } from '@temporalio/activity';
import { type PlanActivities, planNeedsAlpha, planSweepId } from '../contracts/plan.ts';
import { sweepWorkflowId } from '../contracts/sweep.ts';
import { createPlanRecord, failPlanRecord, storePlanResult } from '../db/plans.ts';
import { checkpointLayerRows } from '../db/results.ts';
import { checkpointIdOf, createSweep, findSweep, recordCheckpoints } from '../db/sweeps.ts';
import { BadInputError, UnsupportedError } from '../lib/errors.ts';
import { discoverCheckpoints } from '../lib/formats/discover.ts';
import { basename } from '../lib/formats/uri.ts';
import { type PlanInputs, planCheckpoint } from '../lib/plan/checkpoint.ts';
import { ALPHA_SOURCE, alphaFromLayerRows, budgetFrontier } from '../lib/plan/stored.ts';
import type { ActivityDeps } from './deps.ts';
import { mappingFailures } from './failures.ts';

export function createPlanActivities(deps: ActivityDeps): PlanActivities {
  return {
    preparePlan: (input) =>
      mappingFailures(async () => {
        if (input.options.method === 'hawq' || input.options.method === 'zeroq') {
          throw new UnsupportedError(
            `${input.options.method} plans run on the TF.js model locally (weightlens plan without --stack)`,
            { file: input.uri },
          );
        }
        const found = await discoverCheckpoints(input.uri, deps.storage);
        if (found.length !== 1) {
          throw new BadInputError(`expected one checkpoint, found ${found.length}`, { file: input.uri });
        }
        const checkpoint = found[0]!;
        const checkpointId = checkpointIdOf(checkpoint.uri, checkpoint.contentHash);
        const needsAlpha = planNeedsAlpha(input.options);
        const summary = needsAlpha
          ? await deps.prisma.checkpointSummary.findUnique({
              where: { checkpointId_configHash: { checkpointId, configHash: input.configHash } },
              select: { id: true },
            })
          : null;
        // Summaries are written only for complete checkpoints: without one, the plan sweeps it first.
        const missing = needsAlpha && summary === null;
        const sweepId = planSweepId(input.planId);
        if (missing) {
          const sweep = {
            id: sweepId,
            name: `plan-${input.planId}-${basename(checkpoint.uri)}`,
            workflowId: sweepWorkflowId(sweepId),
            sources: [checkpoint.uri],
            config: JSON.parse(JSON.stringify(input.config)),
            configHash: input.configHash,
          };
          // A retried activity finds its sweep row already there.
          if (!(await findSweep(deps.prisma, sweepId))) await createSweep(deps.prisma, sweep);
        }
        await recordCheckpoints(deps.prisma, [checkpoint]);
        await createPlanRecord(deps.prisma, {
          id: input.planId,
          checkpointId,
          workflowId: input.workflowId,
          options: input.options,
          configHash: needsAlpha ? input.configHash : null,
        });
        return {
          checkpointId,
          uri: checkpoint.uri,
          spectral: missing ? { action: 'missing', sweepId } : { action: 'stored' },
        };
      }),
    computePlan: (input) =>
      mappingFailures(async () => {
        const context = Context.current();
        const timer = setInterval(() => context.heartbeat(), 5_000);
        try {
          const { options } = input;
          let inputs: PlanInputs = {};
          let source = '';
          if (planNeedsAlpha(options)) {
            const rows = await checkpointLayerRows(deps.prisma, input.checkpointId, input.configHash);
            const stored = alphaFromLayerRows(
              rows.map((r) => ({ name: r.layerName, status: r.status, alpha: r.alpha, error: r.error })),
            );
            // As the local mode: an alpha plan names layers without α; α-guided pruning only reads α.
            inputs = options.method === 'alpha' ? stored : { alpha: stored.alpha };
            if (options.method === 'alpha') source = ALPHA_SOURCE;
          }
          const result = await planCheckpoint(input.uri, deps.storage, options, inputs);
          const frontier = await budgetFrontier(result.layers, result.ratios, options);
          await storePlanResult(deps.prisma, input.planId, {
            plan: result.plan,
            inputs: source,
            frontier,
            alpha: inputs.alpha,
          });
          return { layers: result.plan.layers.length };
        } finally {
          clearInterval(timer);
        }
      }),
    recordPlanFailure: (input) =>
      mappingFailures(() => failPlanRecord(deps.prisma, input.planId, input.reason)),
  };
}
