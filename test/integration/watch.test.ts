/**
 * `weightlens watch` over an S3 prefix while a "trainer" uploads a sharded checkpoint shard by
 * shard: no run takes the checkpoint before its last shard is there, it is analyzed exactly once,
 * and its per-layer results equal the local library's (`weightlens analyze`) on the same files.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient } from '../../db/client.ts';
import { runCli } from './cli-helpers.ts';
import { safetensorsBytes, syntheticMatrix } from './sweep-fixtures.ts';
import {
  servicesEnv,
  startWorkerProcess,
  stopWorkerProcess,
  testS3Client,
  type WorkerProcess,
} from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SHARDS = 3;
const shardName = (i: number) => `model-0000${i + 1}-of-0000${SHARDS}.safetensors`;

/** A 3-shard checkpoint: one 96×48 layer per shard, and its index. */
function shardedCheckpoint(): { name: string; bytes: Uint8Array }[] {
  const files = [];
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < SHARDS; i++) {
    const name = `model.layers.${i}.mlp.weight`;
    weightMap[name] = shardName(i);
    files.push({
      name: shardName(i),
      bytes: safetensorsBytes([{ name, shape: [96, 48], data: syntheticMatrix(96, 48, 700 + i, 2 + i) }]),
    });
  }
  const index = { metadata: { total_size: SHARDS * 96 * 48 * 4 }, weight_map: weightMap };
  return [
    { name: 'model.safetensors.index.json', bytes: new TextEncoder().encode(JSON.stringify(index)) },
    ...files,
  ];
}

describe('weightlens watch (a training run writing a sharded checkpoint)', () => {
  const prisma = createPrismaClient(services.databaseUrl);
  const s3 = testS3Client(services);
  const runId = `${process.pid}-${Date.now() % 100000}`;
  const prefixKey = `watch-test-${runId}`;
  const prefix = `s3://${services.s3.bucket}/${prefixKey}`;
  const name = `watch-${runId}`;
  let worker: WorkerProcess;
  let local: string;

  beforeAll(async () => {
    worker = await startWorkerProcess(services, { concurrency: 1 });
    local = await mkdtemp(path.join(os.tmpdir(), 'weightlens-watch-'));
  });
  afterAll(async () => {
    await runCli(['schedule', 'delete', name], env);
    await stopWorkerProcess(worker);
    s3.destroy();
    await prisma.$disconnect();
    await rm(local, { recursive: true, force: true });
  });

  const runs = () =>
    prisma.sweep.findMany({
      where: { scheduleName: name, status: 'completed' },
      orderBy: { createdAt: 'asc' },
    });

  async function waitForRuns(count: number, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = await runs();
      if (done.length >= count) return done;
      if (Date.now() > deadline)
        throw new Error(`only ${done.length} runs completed\n${worker.output().slice(-2000)}`);
      await sleep(500);
    }
  }

  it('analyzes the checkpoint once, after its last shard, as a one-shot analysis would', async () => {
    const files = shardedCheckpoint();
    const bad = await runCli(['watch', prefix, '--name', name, '--complete-when', 'eventually'], env);
    expect(bad.stderr.trim()).toBe(
      "weightlens: --complete-when 'eventually': expected 'readable' or 'marker:<file name>' (e.g. marker:trainer_state.json)",
    );
    const created = await runCli(['watch', prefix, '--name', name, '--every', '2s'], env);
    expect(created.code, created.stderr).toBe(0);

    // The index first, then one shard at a time, each seen by at least one completed run.
    let seen = 0;
    for (const file of files) {
      await s3.send(
        new PutObjectCommand({
          Bucket: services.s3.bucket,
          Key: `${prefixKey}/checkpoint-1500/${file.name}`,
          Body: file.bytes,
        }),
      );
      const before = (await runs()).length;
      const after = await waitForRuns(before + 1);
      seen = after.length;
      const isLast = file === files.at(-1);
      // Runs that started before the last shard was uploaded never take the checkpoint.
      if (!isLast) for (const run of after) expect(run.checkpointsTotal, `after ${file.name}`).toBe(0);
    }
    const all = await waitForRuns(seen + 1);
    const taken = all.filter((r) => r.checkpointsTotal > 0);
    expect(taken.length).toBeGreaterThanOrEqual(1);

    const checkpoints = await prisma.checkpoint.findMany({ where: { uri: { startsWith: `${prefix}/` } } });
    expect(checkpoints.map((c) => [c.uri.slice(prefix.length), c.step])).toEqual([
      ['/checkpoint-1500/model.safetensors.index.json', 1500],
    ]);
    const layers = await prisma.layerResult.findMany({
      where: { checkpointId: checkpoints[0]!.id },
      orderBy: { layerName: 'asc' },
    });
    // One row per layer, all computed by one run (reruns reuse rows, never write a second one).
    expect(layers.map((l) => [l.layerName, l.status])).toEqual(
      [0, 1, 2].map((i) => [`model.layers.${i}.mlp.weight`, 'succeeded']),
    );

    // The same files analyzed locally, in-process.
    const dir = path.join(local, 'checkpoint-1500');
    await mkdir(dir, { recursive: true });
    for (const file of files) await writeFile(path.join(dir, file.name), file.bytes);
    const analyzed = await runCli(
      ['analyze', path.join(dir, 'model.safetensors.index.json'), '--format', 'json'],
      env,
    );
    expect(analyzed.code, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout) as {
      layers: { name: string; alpha: number; log_norm: number }[];
    };
    const byName = new Map(report.layers.map((l) => [l.name, l]));
    for (const layer of layers) {
      const expected = byName.get(layer.layerName);
      expect(expected, layer.layerName).toBeDefined();
      expect(layer.alpha).toBeCloseTo(expected!.alpha, 9);
      expect(layer.logNorm).toBeCloseTo(expected!.log_norm, 9);
    }

    const described = JSON.parse(
      (await runCli(['schedule', 'describe', name, '--format', 'json'], env)).stdout,
    );
    expect(described).toMatchObject({ name, watch: 'readable', timing: 'every 2s' });
  });
});
