/**
 * Layer batching against the real stack (workflows/layer-batches.ts, activities/layer.ts): small
 * layers of a checkpoint run in one activity, a layer with bad input inside a batch is recorded
 * failed with its reason while the others of the batch are stored (rows and ESD objects), and the
 * results equal those of one activity per layer (`layerBatchFlops: 0`).
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkpointWorkflowId } from '../../contracts/checkpoint.ts';
import type { SweepTuning } from '../../contracts/sweep.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { decodeEsd } from '../../lib/esd-artifact.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { parseS3Uri } from '../../storage/index.ts';
import { connectClient, type StartedSweep, startSweep } from '../../workers/sweep-client.ts';
import { type SyntheticCheckpoint, safetensorsBytes, syntheticMatrix } from './sweep-fixtures.ts';
import {
  startWorkerProcess,
  stopWorkerProcess,
  sweepResult,
  testS3Client,
  uploadZoo,
  type WorkerProcess,
} from './sweep-harness.ts';

const services = inject('services');
const runId = randomUUID().slice(0, 8);

let prisma: PrismaClient;
let temporal: { client: Client; close(): Promise<void> };
let worker: WorkerProcess;

/** Five small dense layers; the third is all NaN (bad input the analysis must name). */
function checkpointWithBadLayer(): SyntheticCheckpoint {
  const shapes: [number, number][] = [
    [64, 32],
    [96, 48],
    [80, 40],
    [72, 36],
    [56, 28],
  ];
  const tensors = shapes.map(([rows, cols], i) => ({
    name: `layers.${i}.weight`,
    shape: [rows, cols],
    data: i === 2 ? new Float32Array(rows * cols).fill(Number.NaN) : syntheticMatrix(rows, cols, 40 + i, 1.5),
  }));
  return {
    dir: 'step-0000',
    step: 0,
    layerNames: tensors.map((t) => t.name),
    files: [{ name: 'model.safetensors', bytes: safetensorsBytes(tensors) }],
  };
}

async function sweep(prefix: string, tuning?: Partial<SweepTuning>): Promise<StartedSweep> {
  return startSweep(temporal.client, prisma, { sources: [prefix], config: defaultAnalysisConfig, tuning });
}

/** Activity types the checkpoint workflow scheduled for its layers, from its Temporal history. */
async function layerActivityTypes(started: StartedSweep, checkpointId: string) {
  const handle = temporal.client.workflow.getHandle(checkpointWorkflowId(checkpointId, started.configHash));
  const history = await handle.fetchHistory();
  const types: string[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) types.push(scheduled.activityType?.name ?? '');
  }
  return types.filter((t) => t.startsWith('analyzeLayer'));
}

async function layerRows(started: StartedSweep) {
  const rows = await prisma.layerResult.findMany({
    where: { configHash: started.configHash, checkpoint: { sweeps: { some: { sweepId: started.sweepId } } } },
    orderBy: { layerId: 'asc' },
  });
  return rows;
}

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  temporal = await connectClient(services);
  worker = await startWorkerProcess(services);
});

afterAll(async () => {
  if (worker) await stopWorkerProcess(worker);
  await temporal?.close();
  await prisma?.$disconnect();
});

describe('layer batches', () => {
  const ckpt = checkpointWithBadLayer();

  it('runs small layers in one activity; a bad layer fails alone; results equal one activity per layer', async () => {
    const batchedPrefix = await uploadZoo(services, `sweep-batches-${runId}/batched`, [ckpt]);
    const singlePrefix = await uploadZoo(services, `sweep-batches-${runId}/single`, [ckpt]);
    const batched = await sweep(batchedPrefix);
    const single = await sweep(singlePrefix, { layerBatchFlops: 0 });
    const [batchedResult, singleResult] = await Promise.all([
      sweepResult(batched.handle),
      sweepResult(single.handle),
    ]);

    for (const result of [batchedResult, singleResult]) {
      expect(result.succeeded).toBe(1);
      expect(result.layersComputed).toBe(4);
      expect(result.layersFailed).toBe(1);
    }

    const batchedRows = await layerRows(batched);
    const singleRows = await layerRows(single);
    expect(batchedRows.map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
    ]);
    expect(singleRows.map((r) => r.status)).toEqual(batchedRows.map((r) => r.status));
    const bad = batchedRows[2]!;
    expect(bad.layerName).toBe('layers.2.weight');
    expect(bad.error).toMatch(/^BadInput: /);
    expect(bad.error).toContain('layers.2.weight');
    // Same layers, same numbers, whichever way they were scheduled.
    for (const [i, row] of batchedRows.entries()) {
      expect(row.alpha, row.layerName).toBe(singleRows[i]!.alpha);
      expect(row.alphaWeighted, row.layerName).toBe(singleRows[i]!.alphaWeighted);
    }

    // Every succeeded layer's ESD is in S3: M float64 eigenvalues, the largest = lambda_max.
    const s3 = testS3Client(services);
    try {
      for (const row of batchedRows.filter((r) => r.status === 'succeeded')) {
        const { bucket, key } = parseS3Uri(row.esdUri!);
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await object.Body!.transformToByteArray();
        const values = decodeEsd(bytes, row.esdUri!);
        expect(values.length, row.layerName).toBe(row.M!);
        expect(Math.max(...values)).toBeCloseTo(row.lambdaMax!, 6);
      }
    } finally {
      s3.destroy();
    }

    // Scheduling: one batch activity for the five small layers, against five single-layer ones.
    const batchedId = batchedRows[0]!.checkpointId;
    const singleId = singleRows[0]!.checkpointId;
    expect(await layerActivityTypes(batched, batchedId)).toEqual(['analyzeLayerBatch']);
    expect(await layerActivityTypes(single, singleId)).toEqual(Array(5).fill('analyzeLayerBatch'));
  });
});
