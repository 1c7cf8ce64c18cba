/**
 * The cpu-queue side of curvature in sweeps: before anything is scheduled on the `gpu` queue,
 * `planCurvature` decides from storage and Postgres alone whether there is work. A checkpoint
 * without a TF.js layers model.json beside it is recorded as skipped (with the reason), a final
 * stored row under the same configHash is reused — so a rerun schedules no curvature activity at
 * all and needs no gpu worker. `recordCurvatureFailure` stores failures the gpu activity could not
 * record itself (timeouts, a worker that died, retries exhausted).
 */

import type { SweepActivities } from '../contracts/sweep.ts';
import { Prisma, type PrismaClient } from '../db/client.ts';
import { curvatureResultStatus, storeCurvatureResult } from '../db/curvature.ts';
import type { ObjectOpener } from '../lib/formats/types.ts';
import { curvatureModelUri, describeCurvatureData, modelJsonSize } from './curvature-config.ts';
import { failureColumns, mappingFailures, recordedFailure } from './failures.ts';

/** model.json files larger than this are not read for sizing (the timeout falls back to its cap). */
const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024;

export function createCurvaturePlanActivities(deps: {
  prisma: PrismaClient;
  storage: ObjectOpener;
}): Pick<SweepActivities, 'planCurvature' | 'recordCurvatureFailure'> {
  const upsertRow = (
    checkpointId: string,
    configHash: string,
    row: {
      status: 'skipped' | 'failed';
      error: string;
      errorKind: string | null;
      errorFinal: boolean;
      dataSource: string;
    },
  ) =>
    // Every result column is set: a skip or failure replaces an earlier row's values.
    storeCurvatureResult(
      deps.prisma,
      { checkpointId, configHash },
      { ...row, topEigenvalues: [], trace: null, density: Prisma.DbNull, layers: Prisma.DbNull },
    );

  return {
    planCurvature: (input) =>
      mappingFailures(async () => {
        const { checkpointId, configHash } = input;
        const modelUri = curvatureModelUri(input.uri);
        // Existence first: a model.json added since a recorded skip is picked up by the next sweep.
        if (!(await deps.storage.exists(modelUri))) {
          const reason = `no TF.js layers model.json beside the checkpoint (looked for ${modelUri}); curvature needs a differentiable model`;
          await upsertRow(checkpointId, configHash, {
            status: 'skipped',
            error: reason,
            errorKind: null,
            errorFinal: false,
            dataSource: describeCurvatureData(input.data),
          });
          return { action: 'skip', reason };
        }
        const stored = await curvatureResultStatus(deps.prisma, { checkpointId, configHash });
        if (stored?.status === 'succeeded') return { action: 'reuse', status: 'succeeded' };
        if (stored?.status === 'failed' && stored.errorFinal) {
          return { action: 'reuse', status: 'failed' };
        }
        const reader = await deps.storage.open(modelUri);
        const size =
          reader.size <= MAX_MODEL_JSON_BYTES
            ? modelJsonSize(new TextDecoder().decode(await reader.read(0, reader.size)))
            : { parameters: null, weightTensors: null };
        return { action: 'compute', modelUri, ...size };
      }),

    recordCurvatureFailure: (input) =>
      mappingFailures(async () => {
        await upsertRow(input.checkpointId, input.configHash, {
          status: 'failed',
          error: input.reason,
          ...failureColumns(recordedFailure(input)),
          dataSource: describeCurvatureData(input.data),
        });
      }),
  };
}
