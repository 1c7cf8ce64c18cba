/**
 * The plan workflow's ZeroQ activity on the `gpu` queue: KL(model ‖ model with one planned tensor
 * at b bits) for every planned tensor and candidate width, measured on the TF.js layers model
 * beside the checkpoint over the plan's inputs (ZeroQ-distilled, random or real), with the same
 * library function as `weightlens plan --method zeroq` in local mode. Loaded only by gpu-queue
 * workers (tfjs). Returns the numbers; the cpu-queue computePlan solves and stores the plan.
 */
import { Context } from '@temporalio/activity';
import type { KlTable, PlanGpuActivities } from '../contracts/plan.ts';
import { BadInputError } from '../lib/errors.ts';
import type { ObjectOpener } from '../lib/formats/types.ts';
import { plannedPruneCounts, plannedTensors } from '../lib/plan/checkpoint.ts';
import { klInputs } from '../lib/plan/inputs.ts';
import { curvatureModelUri } from './curvature-config.ts';
import { mappingFailures } from './failures.ts';

function heartbeat(details: string): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (tests calling it directly): nothing to report to.
  }
}

export function createPlanGpuActivities(deps: { storage: ObjectOpener }): PlanGpuActivities {
  return {
    zeroqActivity: (input) =>
      mappingFailures(async () => {
        const modelUri = curvatureModelUri(input.uri);
        if (!(await deps.storage.exists(modelUri))) {
          throw new BadInputError('zeroq needs a TF.js layers model.json beside the checkpoint', {
            file: input.uri,
          });
        }
        const { ckpt, planned } = await plannedTensors(input.uri, deps.storage);
        const measured = await klInputs(modelUri, ckpt, planned, deps.storage, {
          data: input.data,
          probes: 0,
          bits: input.options.bits,
          scheme: input.options.scheme,
          pruneCounts: await plannedPruneCounts(ckpt, planned, input.options),
          onProgress: heartbeat,
        });
        const table: KlTable = {};
        for (const [name, byBits] of measured.kl ?? []) {
          table[name] = Object.fromEntries([...byBits].map(([b, v]) => [String(b), v]));
        }
        return { table, source: `${measured.source}, backend ${measured.backend}` };
      }),
  };
}
