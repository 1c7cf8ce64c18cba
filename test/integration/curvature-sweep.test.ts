/**
 * Curvature in the distributed pipeline, against the real stack: zoo/default TF.js checkpoints in
 * S3, one `weightlens worker --queue cpu` and one `--queue gpu` child process (CPU backends here),
 * a sweep started as the CLI starts it. Shows: CurvatureResult rows with finite top eigenvalues and
 * trace equal to what lib/curvature computes in this process for the same batch and settings; a
 * checkpoint without model.json is recorded skipped and one with an unsupported op failed (with
 * the reason) while the others complete; a rerun with the gpu worker stopped completes without
 * computing curvature; and `weightlens sweep --wait --curvature cpu` spawns its own gpu worker.
 */
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SweepCurvature } from '../../contracts/curvature.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { initCurvatureBackend } from '../../lib/curvature/backend.ts';
import { resolveBatch } from '../../lib/curvature/batch.ts';
import { analyzeCurvature } from '../../lib/curvature/index.ts';
import { loadLayersModelFromStorage } from '../../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../../lib/curvature/network.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { createStorage } from '../../storage/index.ts';
import { resolveSweepCurvature } from '../../workers/curvature-request.ts';
import { connectClient, type StartedSweep, startSweep } from '../../workers/sweep-client.ts';
import { runCli } from './cli-helpers.ts';
import type { SyntheticCheckpoint } from './sweep-fixtures.ts';
import {
  servicesEnv,
  startWorkerProcess,
  stopWorkerProcess,
  sweepResult,
  uploadZoo,
  type WorkerProcess,
} from './sweep-harness.ts';

const services = inject('services');
const runId = randomUUID().slice(0, 8);
const zooDir = fileURLToPath(new URL('../../zoo/default/', import.meta.url));

/** A zoo/default checkpoint directory as upload input, with files left out or replaced. */
async function zooCheckpoint(
  source: string,
  dir: string,
  change: { drop?: string[]; replace?: Record<string, (text: string) => string> } = {},
): Promise<SyntheticCheckpoint> {
  const names = ['model.safetensors', 'weightlens.json', 'model.json', 'weights.bin'];
  const files: SyntheticCheckpoint['files'] = [];
  for (const name of names.filter((n) => !change.drop?.includes(n))) {
    let bytes = new Uint8Array(await readFile(path.join(zooDir, source, name)));
    const edit = change.replace?.[name];
    if (edit) bytes = new TextEncoder().encode(edit(new TextDecoder().decode(bytes)));
    files.push({ name, bytes });
  }
  return { dir, step: 0, files, layerNames: [] };
}

/** What lib/curvature computes in this process for a zoo model under the sweep's settings. */
async function localCurvature(source: string, curvature: SweepCurvature) {
  await initCurvatureBackend('wasm', () => {}); // the backend the gpu worker uses in 'cpu' mode
  const storage = createStorage();
  const model = await loadLayersModelFromStorage(path.join(zooDir, source), storage);
  const network = buildCurvatureNetwork(model);
  const { batch, source: dataSource } = await resolveBatch(network, curvature.data, storage);
  network.dispose();
  const report = await analyzeCurvature(model, batch, curvature.settings);
  batch.x.dispose();
  model.dispose();
  return { ...report, dataSource };
}

let prisma: PrismaClient;
let temporal: { client: Client; close(): Promise<void> };
let cpuWorker: WorkerProcess;
let gpuWorker: WorkerProcess | undefined;

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  temporal = await connectClient(services);
  [cpuWorker, gpuWorker] = await Promise.all([
    startWorkerProcess(services, { concurrency: 2 }),
    startWorkerProcess(services, { queue: 'gpu', concurrency: 1 }),
  ]);
});

afterAll(async () => {
  await Promise.all([cpuWorker, gpuWorker].filter((w) => w !== undefined).map((w) => stopWorkerProcess(w)));
  await temporal?.close();
  await prisma?.$disconnect();
});

describe('sweep with curvature over TF.js checkpoints in S3', () => {
  // Small batch, fixed probe count: cheap on two shared cores, still every method of a sweep.
  const curvature = resolveSweepCurvature({
    mode: 'cpu',
    samples: 16,
    seed: 3,
    settings: { topK: 2, trace: true, traceRule: 'fixed', traceMaxProbes: 6 },
  })!;
  const good = { 'mlp-a': 'fmnist-mlp-base-ep00', 'cnn-b': 'fmnist-cnn-base-ep01' } as const;
  let prefix: string;
  let first: StartedSweep;

  const rowsByDir = async () => {
    const rows = await prisma.curvatureResult.findMany({
      where: { configHash: curvature.configHash, checkpoint: { uri: { startsWith: prefix } } },
      include: { checkpoint: { select: { uri: true } } },
    });
    return new Map(rows.map((row) => [row.checkpoint.uri.slice(prefix.length + 1).split('/')[0]!, row]));
  };

  beforeAll(async () => {
    const checkpoints = [
      await zooCheckpoint(good['mlp-a'], 'mlp-a'),
      await zooCheckpoint(good['cnn-b'], 'cnn-b'),
      // Spectral analysis has its safetensors; curvature has no differentiable model.
      await zooCheckpoint('fmnist-mlp-base-ep01', 'no-model', { drop: ['model.json', 'weights.bin'] }),
      // A model.json that loads but uses an activation the exact Hessian engine does not cover.
      await zooCheckpoint('fmnist-mlp-base-ep03', 'bad-model', {
        replace: { 'model.json': (text) => text.replace('"activation":"relu"', '"activation":"elu"') },
      }),
    ];
    expect(
      new TextDecoder().decode(checkpoints[3]!.files.find((f) => f.name === 'model.json')!.bytes),
    ).toContain('"activation":"elu"');
    prefix = await uploadZoo(services, `curvature-test-${runId}/zoo`, checkpoints);
  });

  it('stores curvature per checkpoint, equal to the local library; skips and failures are recorded', async () => {
    first = await startSweep(temporal.client, prisma, {
      sources: [prefix],
      config: defaultAnalysisConfig,
      curvature,
    });
    const result = await sweepResult(first.handle);
    expect(result.status, gpuWorker!.output()).toBe('completed');
    expect(result.succeeded).toBe(4); // spectral analysis of every checkpoint, whatever curvature did
    expect(result.failed).toBe(0);
    expect({
      computed: result.curvatureComputed,
      reused: result.curvatureReused,
      skipped: result.curvatureSkipped,
      failed: result.curvatureFailed,
    }).toEqual({ computed: 2, reused: 0, skipped: 1, failed: 1 });

    const rows = await rowsByDir();
    for (const [dir, source] of Object.entries(good)) {
      const row = rows.get(dir);
      expect(row, dir).toBeDefined();
      expect(row!.status, `${dir}: ${row!.error}`).toBe('succeeded');
      expect(row!.topEigenvalues).toHaveLength(2);
      expect(row!.topEigenvalues.every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(row!.trace)).toBe(true);
      expect(row!.backend).toMatch(/^wasm/);
      const local = await localCurvature(source, curvature);
      expect(row!.dataSource).toBe(local.dataSource);
      // Same code, backend, batch and seeds: the same numbers, to float64 printing precision.
      for (let i = 0; i < 2; i++) {
        expect(row!.topEigenvalues[i]).toBeCloseTo(local.topEigenvalues[i]!, 9);
      }
      expect(row!.trace).toBeCloseTo(local.trace!, 9);
    }

    const skipped = rows.get('no-model');
    expect(skipped?.status).toBe('skipped');
    expect(skipped?.error).toMatch(/no TF\.js layers model\.json/);
    expect(skipped?.error).toContain(`${prefix}/no-model/model.json`);

    const failed = rows.get('bad-model');
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatch(/^Unsupported: .*activation 'elu'/);

    const spectral = await prisma.sweepCheckpoint.count({
      where: { sweepId: first.sweepId, status: 'succeeded' },
    });
    expect(spectral).toBe(4);
  });

  it('a rerun computes no curvature: it completes with the gpu worker stopped, rows unchanged', async () => {
    expect(first, 'the first sweep ran').toBeDefined();
    const before = await rowsByDir();
    await stopWorkerProcess(gpuWorker!);
    gpuWorker = undefined;
    const rerun = await startSweep(temporal.client, prisma, {
      sources: [prefix],
      config: defaultAnalysisConfig,
      curvature,
    });
    const result = await sweepResult(rerun.handle, 120_000);
    expect(result.status).toBe('completed');
    expect({
      computed: result.curvatureComputed,
      reused: result.curvatureReused,
      skipped: result.curvatureSkipped,
      failed: result.curvatureFailed,
    }).toEqual({ computed: 0, reused: 2, skipped: 1, failed: 1 });
    expect(result.layersComputed).toBe(0);
    const after = await rowsByDir();
    for (const dir of Object.keys(good)) {
      expect(after.get(dir)!.topEigenvalues).toEqual(before.get(dir)!.topEigenvalues);
      expect(after.get(dir)!.durationMs).toBe(before.get(dir)!.durationMs);
      expect(after.get(dir)!.id).toBe(before.get(dir)!.id);
    }
  });
});

describe('weightlens sweep --wait --curvature cpu (embedded workers)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'weightlens-curvature-cli-'));
    await cp(path.join(zooDir, 'fmnist-mlp-base-ep01'), path.join(dir, 'mlp'), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('spawns a gpu-queue worker and prints the curvature of each checkpoint', async () => {
    const swept = await runCli(
      [
        'sweep',
        dir,
        '--wait',
        '--local-worker',
        '--curvature',
        'cpu',
        '--curvature-random',
        '--curvature-samples',
        '8',
        '--no-curvature-trace',
      ],
      servicesEnv(services),
    );
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stderr).toMatch(/curvature: 1 computed, 0 reused, 0 skipped, 0 failed/);
    const line = swept.stdout.split('\n').find((l) => l.includes('/mlp/model.safetensors'));
    expect(line, swept.stdout).toMatch(/^\s*[0-9.e+-]+\s+—\s+succeeded\s/);
    const lambda = Number(line!.trim().split(/\s+/)[0]);
    expect(lambda).toBeGreaterThan(0);
  });
});
