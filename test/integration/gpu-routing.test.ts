/**
 * Routing spectral layers to the gpu queue, against the real stack: `weightlens worker --queue cpu`
 * and `--queue gpu` child processes (no GPU here: the gpu worker runs the CPU backends, which is
 * what makes the rows comparable). With the routing threshold lowered to 64 for small test
 * matrices: without a gpu worker every layer is computed by the cpu worker; with one, each layer
 * from the threshold on is computed by the gpu worker and the rest by the cpu worker; the metrics
 * equal the local library's (lib/analyze.ts) in both cases.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TASK_QUEUES } from '../../contracts/queues.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { analyzeCheckpoint } from '../../lib/analyze.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { createStorage } from '../../storage/index.ts';
import { connectClient, type StartedSweep, startSweep } from '../../workers/sweep-client.ts';
import { type SyntheticCheckpoint, syntheticZoo, writeZoo } from './sweep-fixtures.ts';
import {
  startWorkerProcess,
  stopWorkerProcess,
  sweepResult,
  uploadZoo,
  type WorkerProcess,
  waitFor,
} from './sweep-harness.ts';

const services = inject('services');
const runId = randomUUID().slice(0, 8);
/** layers.0 (128×96) and layers.2 (96×80) are at or above it; layers.1 (48×24) is not. */
const GPU_MIN_DIM = 64;
const SHAPES: [number, number][] = [
  [128, 96],
  [48, 24],
  [96, 80],
];

let prisma: PrismaClient;
let temporal: { client: Client; close(): Promise<void> };
let cpuWorker: WorkerProcess;
let gpuWorker: WorkerProcess | undefined;
let localDir: string;

const workerName = (worker: WorkerProcess) => `${os.hostname()}:${worker.pid}`;

async function gpuPollers(): Promise<number> {
  const response = await temporal.client.workflowService.describeTaskQueue({
    namespace: services.namespace,
    taskQueue: { name: TASK_QUEUES.gpu },
    taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
  });
  return response.pollers?.length ?? 0;
}

/** The sweep's layer rows, with what lib/analyze.ts computes locally for the same checkpoint. */
async function rowsWithLocal(started: StartedSweep, zoo: SyntheticCheckpoint[], root: string) {
  const rows = await prisma.layerResult.findMany({
    where: { configHash: started.configHash, checkpoint: { sweeps: { some: { sweepId: started.sweepId } } } },
    select: {
      layerName: true,
      status: true,
      worker: true,
      alpha: true,
      alphaWeighted: true,
      checkpoint: { select: { uri: true } },
    },
  });
  const local = new Map<string, { alpha: number; alpha_weighted: number }>();
  for (const ckpt of zoo) {
    const report = await analyzeCheckpoint(
      path.join(root, ckpt.dir, 'model.safetensors'),
      createStorage(),
      defaultAnalysisConfig,
    );
    for (const layer of report.layers) local.set(`${ckpt.dir}/${layer.name}`, layer);
  }
  return rows.map((row) => {
    const dir = row.checkpoint.uri.split('/').slice(-2, -1)[0]!;
    return { ...row, dir, local: local.get(`${dir}/${row.layerName}`) };
  });
}

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  temporal = await connectClient(services);
  cpuWorker = await startWorkerProcess(services, { concurrency: 2 });
  localDir = await mkdtemp(path.join(os.tmpdir(), 'wl-gpu-routing-'));
});

afterAll(async () => {
  await Promise.all([cpuWorker, gpuWorker].filter((w) => w !== undefined).map((w) => stopWorkerProcess(w)));
  await temporal?.close();
  await prisma?.$disconnect();
  if (localDir) await rm(localDir, { recursive: true, force: true });
});

describe('spectral layers routed by size to gpu workers', () => {
  const sweepZoo = async (name: string, seed: number) => {
    const zoo = syntheticZoo(2, { shapes: SHAPES, seed, family: `gpu-routing-${runId}` });
    await writeZoo(path.join(localDir, name), zoo);
    const prefix = await uploadZoo(services, `gpu-routing-${runId}/${name}`, zoo);
    const started = await startSweep(temporal.client, prisma, {
      sources: [prefix],
      config: defaultAnalysisConfig,
      tuning: { gpuMinDim: GPU_MIN_DIM },
    });
    const result = await sweepResult(started.handle);
    expect(result.status).toBe('completed');
    expect(result.succeeded).toBe(2);
    return rowsWithLocal(started, zoo, path.join(localDir, name));
  };

  const expectLocalMetrics = (rows: Awaited<ReturnType<typeof sweepZoo>>) => {
    expect(rows).toHaveLength(2 * SHAPES.length);
    for (const row of rows) {
      expect(row.status).toBe('succeeded');
      expect(row.local, row.layerName).toBeDefined();
      expect(row.alpha).toBeCloseTo(row.local!.alpha, 9);
      expect(row.alphaWeighted).toBeCloseTo(row.local!.alpha_weighted, 9);
    }
  };

  it('without a gpu worker every layer runs on the cpu worker', async () => {
    // A gpu worker of an earlier test file may still be listed for a few minutes: its batches
    // then wait out the schedule-to-start timeout and run on cpu, so this holds either way.
    const rows = await sweepZoo('no-gpu', 11);
    expectLocalMetrics(rows);
    for (const row of rows) expect(row.worker, row.layerName).toBe(workerName(cpuWorker));
  }, 300_000);

  it('with a gpu worker, layers from the threshold on run there and the rest on cpu', async () => {
    gpuWorker = await startWorkerProcess(services, { queue: 'gpu', concurrency: 1 });
    await waitFor('the gpu worker to poll its queue', async () => (await gpuPollers()) > 0, 60_000);
    const rows = await sweepZoo('with-gpu', 12);
    expectLocalMetrics(rows);
    for (const row of rows) {
      const large = row.layerName !== 'layers.1.weight';
      expect(row.worker, `${row.dir}/${row.layerName}\n${gpuWorker.output()}`).toBe(
        workerName(large ? gpuWorker : cpuWorker),
      );
    }
  }, 300_000);
});
