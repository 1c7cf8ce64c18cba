/**
 * `npm run bench:sweep`: throughput of a CPU-bound sweep with one and with two worker processes
 * (one analysis slot each), against the pure compute of the same layers in this process, all
 * measured in the same run. Prints layers/s, the 2-vs-1 speedup and the orchestration overhead
 * (Temporal + Postgres + S3 ESD writes) as a fraction of pure compute.
 *
 * Options (env): BENCH_SWEEP_CHECKPOINTS (default 8), BENCH_SWEEP_ROWS (default 1024; layers are
 * rows×rows/2, three per checkpoint). Uses the local stack (started if needed) or the configured one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPrismaClient } from '../db/client.ts';
import { resolveServices } from '../infra/config.ts';
import { openCheckpoint } from '../lib/formats/index.ts';
import { mapTensors, readLayerWeights } from '../lib/formats/layers.ts';
import { analyzeLayer, defaultAnalysisConfig } from '../lib/spectral/index.ts';
import { createStorage } from '../storage/index.ts';
import { syntheticZoo, writeZoo } from '../test/integration/sweep-fixtures.ts';
import {
  startWorkerProcess,
  stopWorkerProcess,
  type WorkerProcess,
} from '../test/integration/sweep-harness.ts';
import { connectClient, startSweep } from '../workers/sweep-client.ts';

const checkpoints = Number(process.env.BENCH_SWEEP_CHECKPOINTS ?? 8);
const rows = Number(process.env.BENCH_SWEEP_ROWS ?? 1024);
const shapes: [number, number][] = [
  [rows, rows / 2],
  [rows, rows / 2],
  [rows, rows / 2],
];
const layerCount = checkpoints * shapes.length;

const services = await resolveServices({ start: true });
const prisma = createPrismaClient(services.databaseUrl);
const temporal = await connectClient(services);
const root = await mkdtemp(path.join(os.tmpdir(), 'weightlens-bench-sweep-'));

/** A fresh copy of the zoo per measurement, so nothing is reused from an earlier run. */
async function freshZoo(name: string): Promise<string> {
  const dir = path.join(root, name);
  await writeZoo(dir, syntheticZoo(checkpoints, { seed: 5, shapes }));
  return dir;
}

/** Pure compute: every layer read and analyzed sequentially in this process. */
async function pureCompute(dir: string): Promise<number> {
  const storage = createStorage();
  const started = performance.now();
  for (let i = 0; i < checkpoints; i++) {
    const uri = pathToFileURL(path.join(dir, `step-${String(i).padStart(4, '0')}`, 'model.safetensors')).href;
    const ckpt = await openCheckpoint(uri, storage);
    for (const [layerId, mapped] of mapTensors(ckpt).entries()) {
      await analyzeLayer(await readLayerWeights(ckpt, mapped), defaultAnalysisConfig, layerId);
    }
  }
  return (performance.now() - started) / 1000;
}

/** Wall time of a whole sweep over `dir` with `workerCount` single-slot worker processes. */
async function sweepSeconds(
  dir: string,
  workerCount: number,
): Promise<{ seconds: number; computed: number }> {
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workerCount; i++)
      workers.push(await startWorkerProcess(services, { concurrency: 1 }));
    const started = performance.now();
    const sweep = await startSweep(temporal.client, prisma, {
      sources: [dir],
      config: defaultAnalysisConfig,
    });
    const result = await sweep.handle.result();
    const seconds = (performance.now() - started) / 1000;
    if (result.succeeded !== checkpoints)
      throw new Error(`sweep analyzed ${result.succeeded}/${checkpoints}`);
    return { seconds, computed: result.layersComputed };
  } finally {
    await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  }
}

try {
  const cores = os.availableParallelism();
  console.log(
    `bench:sweep — ${checkpoints} checkpoints × ${shapes.length} layers of ${rows}×${rows / 2} (float32), ` +
      `${cores} cores, load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const reference = await pureCompute(await freshZoo('reference'));
  const one = await sweepSeconds(await freshZoo('one-worker'), 1);
  const two = await sweepSeconds(await freshZoo('two-workers'), 2);
  const rate = (seconds: number) => (layerCount / seconds).toFixed(2);
  console.log(`pure compute (1 thread, in-process): ${reference.toFixed(2)} s  ${rate(reference)} layers/s`);
  console.log(
    `sweep, 1 worker:  ${one.seconds.toFixed(2)} s  ${rate(one.seconds)} layers/s  (${one.computed} computed)`,
  );
  console.log(
    `sweep, 2 workers: ${two.seconds.toFixed(2)} s  ${rate(two.seconds)} layers/s  (${two.computed} computed)`,
  );
  console.log(`speedup 2 workers / 1 worker: ${(one.seconds / two.seconds).toFixed(2)}×`);
  console.log(
    `orchestration overhead (1 worker vs pure compute): ${((one.seconds / reference - 1) * 100).toFixed(0)}% ` +
      `of pure compute (${((one.seconds - reference) / layerCount).toFixed(3)} s per layer)`,
  );
  if (cores < 2) console.log('note: fewer than 2 cores, so 2 workers cannot be faster than 1 here');
} finally {
  await temporal.close();
  await prisma.$disconnect();
  await rm(root, { recursive: true, force: true });
}
