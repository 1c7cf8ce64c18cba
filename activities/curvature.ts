/**
 * The curvature activity of the `gpu` task queue: load a TF.js layers checkpoint through storage,
 * build its labelled batch, run lib/curvature and store one CurvatureResult row per
 * (checkpoint, configuration). Served by GPU workers when @tensorflow/tfjs-node-gpu loads and by
 * CPU (wasm) workers otherwise; the backend that ran is stored with the result.
 *
 * Wiring (pipeline engineer): add `...createCurvatureActivities(deps)` to the worker of the 'gpu'
 * queue (TASK_QUEUES.gpu) and have the checkpoint workflow call `curvatureActivity` through
 * proxyActivities({ taskQueue: TASK_QUEUES.gpu, startToCloseTimeout: '2h', heartbeatTimeout: '5m' })
 * when the sweep's curvature option is not 'off'. Curvature re-registers tfjs gradients globally,
 * so give it its own worker process.
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Prisma, PrismaClient } from '../db/client.ts';
import { type BackendPreference, initCurvatureBackend } from '../lib/curvature/backend.ts';
import { type DataSourceOptions, resolveBatch } from '../lib/curvature/batch.ts';
import { analyzeCurvature, type CurvatureOptions, curvatureJson } from '../lib/curvature/index.ts';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../lib/curvature/network.ts';
import type { ObjectOpener } from '../lib/formats/types.ts';
import { failureText, toActivityFailure } from './failures.ts';

/** The options that change a result (and so its configHash); progress callbacks excluded. */
export type CurvatureSettings = Omit<CurvatureOptions, 'onProgress'>;

export interface CurvatureActivityInput {
  checkpointId: string;
  /** The model.json, or the directory/prefix holding it. */
  uri: string;
  data: DataSourceOptions;
  settings: CurvatureSettings;
  backend?: BackendPreference;
}

export interface CurvatureActivityOutcome {
  status: 'succeeded' | 'cached' | 'failed';
  configHash: string;
  topEigenvalues: number[];
  trace: number | null;
  error?: string;
}

/** Stable hex hash of the data source and settings (key order independent). */
export function curvatureConfigHash(data: DataSourceOptions, settings: CurvatureSettings): string {
  const canonical = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical({ data, settings })))
    .digest('hex');
}

function heartbeat(line: string): void {
  try {
    Context.current().heartbeat(line);
  } catch {
    // Not inside an activity (tests, local runs): nothing to report to.
  }
}

export function createCurvatureActivities(deps: { prisma: PrismaClient; storage: ObjectOpener }) {
  return {
    async curvatureActivity(input: CurvatureActivityInput): Promise<CurvatureActivityOutcome> {
      const configHash = curvatureConfigHash(input.data, input.settings);
      const key = { checkpointId_configHash: { checkpointId: input.checkpointId, configHash } };
      const existing = await deps.prisma.curvatureResult.findUnique({ where: key });
      if (existing?.status === 'succeeded') {
        return {
          status: 'cached',
          configHash,
          topEigenvalues: existing.topEigenvalues,
          trace: existing.trace,
        };
      }
      const started = Date.now();
      const backend = await initCurvatureBackend(input.backend ?? 'auto', heartbeat);
      let dataSource = input.data.data ?? (input.data.distilled ? 'distilled' : 'random');
      try {
        const model = await loadLayersModelFromStorage(input.uri, deps.storage);
        const network = buildCurvatureNetwork(model);
        const resolved = await resolveBatch(network, input.data, deps.storage);
        network.dispose();
        dataSource = resolved.source;
        const report = await analyzeCurvature(model, resolved.batch, {
          ...input.settings,
          onProgress: heartbeat,
        });
        resolved.batch.x.dispose();
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
        await deps.prisma.curvatureResult.upsert({
          where: key,
          create: { checkpointId: input.checkpointId, configHash, ...row },
          update: row,
        });
        return {
          status: 'succeeded',
          configHash,
          topEigenvalues: report.topEigenvalues,
          trace: report.trace,
        };
      } catch (err) {
        const error = failureText(err);
        const failed = {
          status: 'failed' as const,
          error,
          dataSource,
          topEigenvalues: [],
          backend: backend.note,
        };
        await deps.prisma.curvatureResult.upsert({
          where: key,
          create: { checkpointId: input.checkpointId, configHash, ...failed },
          update: failed,
        });
        return toActivityFailure(err);
      }
    },
  };
}

export type CurvatureActivities = ReturnType<typeof createCurvatureActivities>;
