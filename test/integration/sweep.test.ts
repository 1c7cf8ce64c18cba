/**
 * The distributed sweep against the real stack: synthetic safetensors checkpoints in S3, two
 * `weightlens worker` child processes, the sweep started as the CLI starts it. Shows: ≥20
 * checkpoints complete with every layer result exactly once; a corrupted checkpoint is recorded
 * failed with its reason while the others complete; a rerun computes nothing; a SIGKILLed worker
 * and a restarted Temporal server do not stop a sweep.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkpointWorkflowId } from '../../contracts/checkpoint.ts';
import type { SweepTuning } from '../../contracts/sweep.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { startTemporal, stopTemporal } from '../../infra/temporal.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { connectClient, type StartedSweep, startSweep } from '../../workers/sweep-client.ts';
import { type SyntheticCheckpoint, syntheticZoo } from './sweep-fixtures.ts';
import {
  startWorkerProcess,
  stopWorkerProcess,
  sweepResult,
  uploadZoo,
  type WorkerProcess,
  waitFor,
} from './sweep-harness.ts';

const services = inject('services');
const stackState = inject('stackState');
const runId = randomUUID().slice(0, 8);

let prisma: PrismaClient;
let temporal: { client: Client; close(): Promise<void> };
const workers: WorkerProcess[] = [];

async function sweep(sources: string[], tuning?: Partial<SweepTuning>): Promise<StartedSweep> {
  return startSweep(temporal.client, prisma, { sources, config: defaultAnalysisConfig, tuning });
}

/** Layer rows of the sweep's checkpoints, by checkpoint URI. */
async function layerRowsByCheckpoint(started: StartedSweep) {
  const rows = await prisma.layerResult.findMany({
    where: { configHash: started.configHash, checkpoint: { sweeps: { some: { sweepId: started.sweepId } } } },
    select: { layerName: true, status: true, worker: true, checkpoint: { select: { uri: true } } },
  });
  const byUri = new Map<string, typeof rows>();
  for (const row of rows) byUri.set(row.checkpoint.uri, [...(byUri.get(row.checkpoint.uri) ?? []), row]);
  return { rows, byUri };
}

/** Every expected layer of every good checkpoint has exactly one succeeded row. */
async function expectEveryLayerOnce(started: StartedSweep, prefix: string, zoo: SyntheticCheckpoint[]) {
  const { rows, byUri } = await layerRowsByCheckpoint(started);
  for (const ckpt of zoo) {
    const uri = `${prefix}/${ckpt.dir}/model.safetensors`;
    const names = (byUri.get(uri) ?? []).map((r) => r.layerName).sort();
    expect(names, uri).toEqual([...ckpt.layerNames].sort());
    expect(
      byUri.get(uri)!.every((r) => r.status === 'succeeded'),
      uri,
    ).toBe(true);
  }
  return rows;
}

async function succeededCount(sweepId: string): Promise<number> {
  return prisma.sweepCheckpoint.count({ where: { sweepId, status: 'succeeded' } });
}

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  temporal = await connectClient(services);
  // Two worker processes, like two machines.
  workers.push(...(await Promise.all([startWorkerProcess(services), startWorkerProcess(services)])));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  await temporal?.close();
  await prisma?.$disconnect();
});

describe('distributed sweep over two worker processes', () => {
  const zoo = syntheticZoo(24, { seed: 7 });
  // A checkpoint cut short in the middle of its tensor data (an interrupted upload).
  const good = syntheticZoo(1, { seed: 99 })[0]!;
  const truncated = good.files[0]!.bytes.subarray(0, Math.floor(good.files[0]!.bytes.length / 2));
  const corrupted: SyntheticCheckpoint = {
    ...good,
    dir: 'corrupt-0000',
    files: [{ name: 'model.safetensors', bytes: truncated }, good.files[1]!],
  };
  let prefix: string;
  let first: StartedSweep;

  beforeAll(async () => {
    prefix = await uploadZoo(services, `sweep-test-${runId}/zoo`, [...zoo, corrupted]);
  });

  it('analyzes ≥20 checkpoints once each; the corrupted one is recorded failed with its reason', async () => {
    first = await sweep([prefix]);
    const result = await sweepResult(first.handle);
    expect(result.status).toBe('completed');
    expect(result.total).toBe(zoo.length + 1);
    expect(result.succeeded).toBe(zoo.length);
    expect(result.failed).toBe(1);
    const layerCount = zoo.reduce((n, c) => n + c.layerNames.length, 0);
    expect(result.layersComputed).toBe(layerCount);
    expect(result.layersReused).toBe(0);

    const rows = await expectEveryLayerOnce(first, prefix, zoo);
    const good = rows.filter((r) => !r.checkpoint.uri.includes('corrupt-'));
    expect(good).toHaveLength(layerCount);
    // Both worker processes took part.
    expect(new Set(good.map((r) => r.worker)).size).toBe(2);

    const failed = await prisma.sweepCheckpoint.findMany({
      where: { sweepId: first.sweepId, status: 'failed' },
      include: { checkpoint: true },
    });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.checkpoint.uri).toBe(`${prefix}/corrupt-0000/model.safetensors`);
    expect(failed[0]!.error).toMatch(/BadInput/);
    expect(failed[0]!.error).toMatch(/corrupt-0000\/model\.safetensors/);

    const record = await prisma.sweep.findUniqueOrThrow({ where: { id: first.sweepId } });
    expect(record.status).toBe('completed');
    expect(record.checkpointsDone).toBe(zoo.length);
    expect(record.checkpointsFailed).toBe(1);
    const summaries = await prisma.checkpointSummary.count({
      where: { configHash: first.configHash, checkpoint: { uri: { startsWith: prefix } } },
    });
    expect(summaries).toBe(zoo.length);
  });

  it('re-running the same sweep computes no layer', async () => {
    expect(first, 'the first sweep ran').toBeDefined();
    const before = await prisma.layerResult.count({ where: { checkpoint: { uri: { startsWith: prefix } } } });
    // Small pages and continue-as-new every 10 children: the counters must survive both.
    const rerun = await sweep([prefix], { childrenPerRun: 10, pageSize: 7 });
    const result = await sweepResult(rerun.handle);
    const layerCount = zoo.reduce((n, c) => n + c.layerNames.length, 0);
    expect(result.succeeded).toBe(zoo.length);
    expect(result.failed).toBe(1);
    expect(result.layersComputed).toBe(0);
    expect(result.layersReused).toBe(layerCount);
    const after = await prisma.layerResult.count({ where: { checkpoint: { uri: { startsWith: prefix } } } });
    expect(after).toBe(before);
  });
});

describe('sweeps survive failures of their infrastructure', () => {
  // Bigger layers and two checkpoints at a time, so the sweep is still running when we strike.
  const shapes: [number, number][] = [
    [256, 128],
    [192, 96],
    [160, 80],
  ];
  const tuning = { maxParallelCheckpoints: 2 };

  it('completes with every layer exactly once after one worker is SIGKILLed mid-sweep', async () => {
    const zoo = syntheticZoo(12, { seed: 11, shapes });
    const prefix = await uploadZoo(services, `sweep-test-${runId}/kill`, zoo);
    const started = await sweep([prefix], tuning);
    await waitFor('two checkpoints done', async () => (await succeededCount(started.sweepId)) >= 2);
    expect(await succeededCount(started.sweepId), 'still running when the worker dies').toBeLessThan(
      zoo.length,
    );
    const victim = workers.shift()!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');

    const result = await sweepResult(started.handle);
    expect(result.succeeded).toBe(zoo.length);
    expect(result.failed).toBe(0);
    expect(result.layersFailed).toBe(0);
    const layerCount = zoo.length * shapes.length;
    // A layer whose row was written just before the kill is found by the retry, not recomputed.
    expect(result.layersComputed + result.layersReused).toBe(layerCount);
    const rows = await expectEveryLayerOnce(started, prefix, zoo);
    expect(rows).toHaveLength(layerCount);

    workers.push(await startWorkerProcess(services)); // back to two for the next test
  });

  it('completes after the Temporal server restarts mid-sweep', async () => {
    const zoo = syntheticZoo(12, { seed: 13, shapes });
    const prefix = await uploadZoo(services, `sweep-test-${runId}/restart`, zoo);
    const started = await sweep([prefix], tuning);
    await waitFor('two checkpoints done', async () => (await succeededCount(started.sweepId)) >= 2);
    expect(await succeededCount(started.sweepId), 'still running at the restart').toBeLessThan(zoo.length);
    await stopTemporal(stackState);
    await startTemporal(stackState);

    const result = await sweepResult(started.handle);
    expect(result.status).toBe('completed');
    expect(result.succeeded).toBe(zoo.length);
    expect(result.failed).toBe(0);
    const rows = await expectEveryLayerOnce(started, prefix, zoo);
    expect(rows).toHaveLength(zoo.length * shapes.length);
    for (const worker of workers) expect(worker.child.exitCode, worker.output()).toBeNull();
  });

  it('a cancelled sweep cancels its running children and is recorded as cancelled', async () => {
    const zoo = syntheticZoo(12, { seed: 17, shapes });
    const prefix = await uploadZoo(services, `sweep-test-${runId}/cancel`, zoo);
    const started = await sweep([prefix], { maxParallelCheckpoints: 1 });
    await waitFor('one checkpoint done', async () => (await succeededCount(started.sweepId)) >= 1);
    await started.handle.cancel();
    await expect(started.handle.result()).rejects.toThrow(/cancel/i);

    const record = await prisma.sweep.findUniqueOrThrow({ where: { id: started.sweepId } });
    expect(record.status).toBe('cancelled');
    expect(record.checkpointsDone).toBeLessThan(zoo.length);
    // No child workflow of the sweep is left running.
    const members = await prisma.sweepCheckpoint.findMany({ where: { sweepId: started.sweepId } });
    for (const member of members) {
      const id = checkpointWorkflowId(member.checkpointId, started.configHash);
      const described = await temporal.client.workflow
        .getHandle(id)
        .describe()
        .catch(() => undefined); // never started
      expect(described?.status.name ?? 'NOT_STARTED', id).not.toBe('RUNNING');
    }
  });
});
