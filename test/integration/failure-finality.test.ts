/**
 * Failure finality is a stored field (LayerResult.errorKind / errorFinal), written from the
 * failure's type, and every reader uses it, never the error text: a sweep records a bad layer as
 * final (kind BadInput); a row whose text reads like bad input but whose stored kind is retryable
 * is recomputed by a rerun, and a final row whose text carries no code is reused and counted done.
 * Reading finality from the text ("BadInput: …" prefix) fails both halves.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { sweepLayerProgress } from '../../db/layer-progress.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { connectClient, type StartedSweep, startSweep } from '../../workers/sweep-client.ts';
import { type SyntheticCheckpoint, safetensorsBytes, syntheticMatrix } from './sweep-fixtures.ts';
import {
  startWorkerProcess,
  stopWorkerProcess,
  sweepResult,
  uploadZoo,
  type WorkerProcess,
} from './sweep-harness.ts';

const services = inject('services');
const runId = randomUUID().slice(0, 8);

let prisma: PrismaClient;
let temporal: { client: Client; close(): Promise<void> };
let worker: WorkerProcess;

/** Four small dense layers; the third is all NaN (bad input, a final failure). */
function checkpointWithBadLayer(): SyntheticCheckpoint {
  const shapes: [number, number][] = [
    [64, 32],
    [96, 48],
    [80, 40],
    [72, 36],
  ];
  const tensors = shapes.map(([rows, cols], i) => ({
    name: `layers.${i}.weight`,
    shape: [rows, cols],
    data: i === 2 ? new Float32Array(rows * cols).fill(Number.NaN) : syntheticMatrix(rows, cols, 70 + i, 1.5),
  }));
  return {
    dir: 'step-0000',
    step: 0,
    layerNames: tensors.map((t) => t.name),
    files: [{ name: 'model.safetensors', bytes: safetensorsBytes(tensors) }],
  };
}

async function sweep(prefix: string): Promise<StartedSweep> {
  return startSweep(temporal.client, prisma, { sources: [prefix], config: defaultAnalysisConfig });
}

async function layerRows(started: StartedSweep) {
  return prisma.layerResult.findMany({
    where: { configHash: started.configHash, checkpoint: { sweeps: { some: { sweepId: started.sweepId } } } },
    orderBy: { layerId: 'asc' },
  });
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

describe('failure finality', () => {
  it('is stored from the failure type; reruns and progress read the field, not the text', async () => {
    const prefix = await uploadZoo(services, `failure-finality-${runId}`, [checkpointWithBadLayer()]);
    const first = await sweep(prefix);
    const firstResult = await sweepResult(first.handle);
    expect(firstResult.succeeded).toBe(1);
    expect(firstResult.layersComputed).toBe(3);
    expect(firstResult.layersFailed).toBe(1);

    const rows = await layerRows(first);
    expect(rows.map((r) => [r.status, r.errorKind, r.errorFinal])).toEqual([
      ['succeeded', null, false],
      ['succeeded', null, false],
      ['failed', 'BadInput', true],
      ['succeeded', null, false],
    ]);
    const [good, , bad] = rows;
    expect(bad!.error).toMatch(/^BadInput: .*layers\.2\.weight/);

    // A final failure whose text names no code (nothing parses the text): still done.
    const plainText = 'layers.2.weight: every value is NaN';
    await prisma.layerResult.update({ where: { id: bad!.id }, data: { error: plainText } });
    const finalOnly = await sweepLayerProgress(prisma, first.sweepId);
    expect(finalOnly.layersTotal).toBe(4);
    expect(finalOnly.layersDone).toBe(4);

    // An outage's leftover (retryable kind) whose text happens to read like bad input.
    await prisma.layerResult.update({
      where: { id: good!.id },
      data: {
        status: 'failed',
        error: 'BadInput: the object store proxy rejected the request (HTTP 503)',
        errorKind: 'Transient',
        errorFinal: false,
      },
    });
    const withOutage = await sweepLayerProgress(prisma, first.sweepId);
    expect(withOutage.layersDone).toBe(3);

    // The rerun recomputes the retryable row and reuses the final one as it is.
    const rerun = await sweep(prefix);
    const rerunResult = await sweepResult(rerun.handle);
    expect(rerunResult.succeeded).toBe(1);
    expect(rerunResult.layersComputed).toBe(1);
    expect(rerunResult.layersReused).toBe(2);
    expect(rerunResult.layersFailed).toBe(1);
    const after = await layerRows(rerun);
    expect(after.map((r) => [r.status, r.errorKind, r.errorFinal])).toEqual([
      ['succeeded', null, false],
      ['succeeded', null, false],
      ['failed', 'BadInput', true],
      ['succeeded', null, false],
    ]);
    expect(after[0]!.error).toBeNull();
    expect(after[0]!.alpha).toBe(good!.alpha);
    expect(after[2]!.error).toBe(plainText);
    const summary = await prisma.checkpointSummary.findUnique({
      where: { checkpointId_configHash: { checkpointId: good!.checkpointId, configHash: rerun.configHash } },
    });
    expect(summary?.layersAnalyzed).toBe(3);
    expect(summary?.layersFailed).toBe(1);
  });
});
