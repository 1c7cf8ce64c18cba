/**
 * The plan workflow's activities: find the checkpoint and record the plan (preparePlan), solve it
 * from the stored per-layer results with the same library function the CLI's local mode calls
 * (computePlan: lib/plan planCheckpoint, then the budget sweep), and record failures. Thin: the
 * planning is lib/plan's, the rows db/plans.ts's.
 */
import { Context } from '@temporalio/activity';
import { type KlTable, type PlanActivities, planNeedsAlpha, planSweepId } from '../contracts/plan.ts';
import { sweepWorkflowId } from '../contracts/sweep.ts';
import { findCurvatureResult } from '../db/curvature.ts';
import { createPlanRecord, failPlanRecord, storePlanResult } from '../db/plans.ts';
import { checkpointLayerRows } from '../db/results.ts';
import { checkpointIdOf, createSweep, findSweep, recordCheckpoints } from '../db/sweeps.ts';
import { BadInputError, UnsupportedError } from '../lib/errors.ts';
import { discoverCheckpoints } from '../lib/formats/discover.ts';
import { basename } from '../lib/formats/uri.ts';
import { type PlanInputs, planCheckpoint, plannedTensors } from '../lib/plan/checkpoint.ts';
import { ALPHA_SOURCE, alphaFromLayerRows, budgetFrontier, tracesByTensor } from '../lib/plan/stored.ts';
import { plannedCheckpointBytes } from '../lib/plan/write.ts';
import { curvatureModelUri } from './curvature-config.ts';
import type { ActivityDeps } from './deps.ts';
import { mappingFailures } from './failures.ts';

/** A stored curvature result's per-layer traces by planned tensor; no succeeded row is bad input. */
async function storedTraces(
  deps: ActivityDeps,
  checkpointId: string,
  uri: string,
  curvatureHash: string | undefined,
) {
  const row = curvatureHash
    ? await findCurvatureResult(deps.prisma, { checkpointId, configHash: curvatureHash })
    : null;
  if (row?.status !== 'succeeded' || !Array.isArray(row.layers)) {
    throw new BadInputError(
      `hawq needs per-layer Hessian traces of the TF.js model: ${row ? `curvature ${row.status}: ${row.error ?? 'no per-layer results'}` : 'no curvature result stored'}`,
      { file: uri },
    );
  }
  const blocks = (row.layers as unknown as { name: string; trace: number; parameters: number }[]).map(
    (l) => ({ name: l.name, trace: l.trace, parameters: l.parameters }),
  );
  const { planned } = await plannedTensors(uri, deps.storage);
  const names = planned.map((p) => p.tensor.name);
  return {
    ...tracesByTensor(blocks, names, curvatureModelUri(uri)),
    source: `Hessian traces on ${row.dataSource}, stored curvature run ${curvatureHash!.slice(0, 12)}, backend ${row.backend}`,
  };
}

const klFromTable = (table: KlTable) =>
  new Map(
    Object.entries(table).map(([name, byBits]) => [
      name,
      new Map(Object.entries(byBits).map(([b, v]) => [Number(b), v])),
    ]),
  );

export function createPlanActivities(deps: ActivityDeps): PlanActivities {
  return {
    preparePlan: (input) =>
      mappingFailures(async () => {
        if (
          (input.options.method === 'hawq' || input.options.method === 'zeroq') &&
          input.curvatureHash === undefined
        ) {
          throw new UnsupportedError(`a ${input.options.method} plan needs its data source (curvature)`, {
            file: input.uri,
          });
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
          curvatureHash: input.options.method === 'hawq' ? (input.curvatureHash ?? null) : null,
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
          if (options.method === 'hawq') {
            const traced = await storedTraces(deps, input.checkpointId, input.uri, input.curvatureHash);
            inputs = { ...inputs, traces: traced.traces, missing: traced.missing };
            source = traced.source;
          }
          if (options.method === 'zeroq') {
            if (!input.kl) throw new BadInputError('a zeroq plan needs its KL table', { file: input.uri });
            inputs = { ...inputs, kl: klFromTable(input.kl.table) };
            source = `ZeroQ KL on ${input.kl.source}`;
          }
          const result = await planCheckpoint(input.uri, deps.storage, options, inputs);
          if (input.write) {
            await deps.storage.write(input.write, await plannedCheckpointBytes(result, input.uri));
          }
          const frontier = await budgetFrontier(result.layers, result.ratios, options);
          await storePlanResult(deps.prisma, input.planId, {
            plan: result.plan,
            inputs: source,
            frontier,
            alpha: inputs.alpha,
            traces: inputs.traces,
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
