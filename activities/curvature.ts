/**
 * The curvature activity of the `gpu` task queue: load a TF.js layers checkpoint (model.json +
 * weight shards) through storage, build its labelled batch, run lib/curvature and store one
 * CurvatureResult row per (checkpoint, configuration). Served by `weightlens worker --queue gpu`
 * processes (workers/create.ts): tfjs-node-gpu when it loads, wasm/cpu backends otherwise; the
 * backend that ran is stored with the result. Curvature re-registers tfjs gradients globally, so
 * only gpu-queue worker processes load this module.
 *
 * Sweeps reach it from workflows/curvature.ts, after the cpu-queue `planCurvature`
 * (activities/curvature-plan.ts) found a model.json and no final row under the configHash. It
 * heartbeats after every Hessian-vector product (the workflow's heartbeat timeout notices a dead
 * worker), stops on cancellation, and records bad input (unsupported ops, malformed models) as a
 * failed row before failing non-retryably.
 */
import { Context } from '@temporalio/activity';
import type {
  CurvatureActivityInput,
  CurvatureActivityOutcome,
  GpuActivities,
} from '../contracts/curvature.ts';
import type { Prisma, PrismaClient } from '../db/client.ts';
import { findCurvatureResult, storeCurvatureResult } from '../db/curvature.ts';
import { initCurvatureBackend } from '../lib/curvature/backend.ts';
import { resolveBatch } from '../lib/curvature/batch.ts';
import type { LabelledBatch } from '../lib/curvature/hvp.ts';
import { analyzeCurvature, curvatureJson } from '../lib/curvature/index.ts';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../lib/curvature/network.ts';
import { failureKindOf } from '../lib/errors.ts';
import type { ObjectOpener } from '../lib/formats/types.ts';
import { curvatureConfigHash, describeCurvatureData } from './curvature-config.ts';
import { failureColumns, failureText, toActivityFailure } from './failures.ts';

export type {
  CurvatureActivityInput,
  CurvatureActivityOutcome,
  CurvatureSettings,
} from '../contracts/curvature.ts';
export { curvatureConfigHash } from './curvature-config.ts';

/** The running activity's context, or undefined outside Temporal (tests, local runs). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function createCurvatureActivities(deps: {
  prisma: PrismaClient;
  storage: ObjectOpener;
}): GpuActivities {
  return {
    async curvatureActivity(input: CurvatureActivityInput): Promise<CurvatureActivityOutcome> {
      const configHash = curvatureConfigHash(input.data, input.settings);
      const key = { checkpointId: input.checkpointId, configHash };
      const existing = await findCurvatureResult(deps.prisma, key);
      if (existing?.status === 'succeeded') {
        return {
          status: 'cached',
          configHash,
          topEigenvalues: existing.topEigenvalues,
          trace: existing.trace,
        };
      }
      const context = activityContext();
      const heartbeat = (details: string) => context?.heartbeat(details);
      const signal = context?.cancellationSignal;
      const started = Date.now();
      // Unset backend: WEIGHTLENS_TF_BACKEND, else tfjs-node-gpu when it loads, else wasm/cpu.
      const backend = await initCurvatureBackend(input.backend, heartbeat);
      let dataSource = describeCurvatureData(input.data);
      let model: Awaited<ReturnType<typeof loadLayersModelFromStorage>> | undefined;
      let batch: LabelledBatch | undefined;
      try {
        model = await loadLayersModelFromStorage(input.uri, deps.storage);
        const network = buildCurvatureNetwork(model); // refuses unsupported layers/ops (BadInput)
        try {
          const resolved = await resolveBatch(network, input.data, deps.storage, heartbeat);
          batch = resolved.batch;
          dataSource = resolved.source;
        } finally {
          network.dispose();
        }
        heartbeat(`batch ${dataSource}`);
        const report = await analyzeCurvature(model, batch, {
          ...input.settings,
          onProgress: heartbeat,
          onProduct: (count) => {
            heartbeat(`${count} Hessian-vector products`);
            // Heartbeats deliver cancellation; stop between products rather than run to the end.
            if (signal?.aborted) throw signal.reason ?? new Error('curvature activity cancelled');
          },
        });
        const json = curvatureJson(report);
        const row = {
          status: 'succeeded' as const,
          error: null,
          dataSource,
          topEigenvalues: report.topEigenvalues,
          trace: report.trace,
          // Plain numbers and strings only; the casts widen our interfaces to Prisma's JSON type.
          density: report.density
            ? ({
                grid: json.density!.grid,
                values: json.density!.values,
                quadrature: report.density.quadrature,
              } as unknown as Prisma.InputJsonValue)
            : undefined,
          layers: json.layers as unknown as Prisma.InputJsonValue,
          backend: backend.note,
          durationMs: Date.now() - started,
        };
        await storeCurvatureResult(deps.prisma, key, row);
        return {
          status: 'succeeded',
          configHash,
          topEigenvalues: report.topEigenvalues,
          trace: report.trace,
        };
      } catch (err) {
        if (signal?.aborted) throw err; // cancelled: nothing to record
        const failed = {
          status: 'failed' as const,
          error: failureText(err),
          ...failureColumns(failureKindOf(err)),
          dataSource,
          topEigenvalues: [],
          backend: backend.note,
          durationMs: Date.now() - started,
        };
        await storeCurvatureResult(deps.prisma, key, failed);
        return toActivityFailure(err);
      } finally {
        batch?.x.dispose();
        model?.dispose();
      }
    },
  };
}

export type CurvatureActivities = ReturnType<typeof createCurvatureActivities>;
