/**
 * `npm run bench:sweep`: throughput of a CPU-bound sweep with one and with two worker processes
 * (one analysis slot each), against the pure compute of the same layers in this process, all
 * measured in the same run. Prints layers/s, the 2-vs-1 speedup and the orchestration overhead
 * (Temporal + Postgres + S3 ESD writes) as a fraction of pure compute.
 *
 * Each worker set runs two sweeps of fresh zoo copies: the first ("cold") also pays the worker
 * processes' one-time start-up (workflow sandbox, first Postgres queries), the second ("warm") is
 * what long-lived workers pay per sweep.
 * Each configuration runs BENCH_SWEEP_ROUNDS times (default 2), interleaved, and the best time
 * counts: on a shared machine the load changes under a long run. OpenBLAS is held to one thread
 * (OPENBLAS_NUM_THREADS=1, inherited by the workers) so one worker means one core of compute.
 * Options (env): BENCH_SWEEP_CHECKPOINTS (default 8), BENCH_SWEEP_ROWS (default 768; layers are
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

// Before the native addon (and OpenBLAS) is loaded, which happens on the first analysis.
process.env.OPENBLAS_NUM_THREADS ??= '1';

const checkpoints = Number(process.env.BENCH_SWEEP_CHECKPOINTS ?? 8);
const rows = Number(process.env.BENCH_SWEEP_ROWS ?? 768);
const rounds = Number(process.env.BENCH_SWEEP_ROUNDS ?? 2);
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

interface SweepRun {
  seconds: number;
  computed: number;
  /** Sum of the analysis time the activities measured (LayerResult.durationMs). */
  computeSeconds: number;
}

interface WorkerSetRuns {
  /** The first sweep of freshly started worker processes (pays their one-time start-up costs). */
  cold: SweepRun;
  /** A second sweep, of another fresh zoo copy, on the same processes: what long-lived workers pay. */
  warm: SweepRun;
}

/** Two sweeps (cold, then warm) with `workerCount` single-slot worker processes. */
async function workerSetRuns(name: string, workerCount: number): Promise<WorkerSetRuns> {
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workerCount; i++)
      workers.push(await startWorkerProcess(services, { concurrency: 1 }));
    const cold = await sweepSeconds(await freshZoo(`${name}-cold`));
    const warm = await sweepSeconds(await freshZoo(`${name}-warm`));
    return { cold, warm };
  } finally {
    await Promise.all(workers.map((w) => stopWorkerProcess(w)));
  }
}

/** Wall time of a whole sweep over `dir` on the running workers. */
async function sweepSeconds(dir: string): Promise<SweepRun> {
  {
    const started = performance.now();
    const sweep = await startSweep(temporal.client, prisma, {
      sources: [dir],
      config: defaultAnalysisConfig,
    });
    const result = await sweep.handle.result();
    const seconds = (performance.now() - started) / 1000;
    if (result.succeeded !== checkpoints)
      throw new Error(`sweep analyzed ${result.succeeded}/${checkpoints}`);
    const durations = await prisma.layerResult.aggregate({
      _sum: { durationMs: true },
      where: { configHash: sweep.configHash, checkpoint: { sweeps: { some: { sweepId: sweep.sweepId } } } },
    });
    return {
      seconds,
      computed: result.layersComputed,
      computeSeconds: (durations._sum.durationMs ?? 0) / 1000,
    };
  }
}

try {
  const cores = os.availableParallelism();
  console.log(
    `bench:sweep — ${checkpoints} checkpoints × ${shapes.length} layers of ${rows}×${rows / 2} (float32), ` +
      `${cores} cores, load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  let reference = Number.POSITIVE_INFINITY;
  let one: WorkerSetRuns | undefined;
  let two: WorkerSetRuns | undefined;
  const best = (a: SweepRun | undefined, b: SweepRun) => (a && a.seconds <= b.seconds ? a : b);
  const bestOf = (a: WorkerSetRuns | undefined, b: WorkerSetRuns): WorkerSetRuns => ({
    cold: best(a?.cold, b.cold),
    warm: best(a?.warm, b.warm),
  });
  for (let round = 0; round < rounds; round++) {
    reference = Math.min(reference, await pureCompute(await freshZoo(`reference-${round}`)));
    one = bestOf(one, await workerSetRuns(`one-worker-${round}`, 1));
    two = bestOf(two, await workerSetRuns(`two-workers-${round}`, 2));
  }
  if (!one || !two) throw new Error('no rounds ran (BENCH_SWEEP_ROUNDS < 1)');
  const rate = (seconds: number) => (layerCount / seconds).toFixed(2);
  console.log(`best of ${rounds} rounds each (cold: first sweep of fresh workers; warm: their second):`);
  console.log(`pure compute (1 thread, in-process): ${reference.toFixed(2)} s  ${rate(reference)} layers/s`);
  for (const [label, run] of [
    ['1 worker,  cold', one.cold],
    ['1 worker,  warm', one.warm],
    ['2 workers, cold', two.cold],
    ['2 workers, warm', two.warm],
  ] as const) {
    console.log(
      `sweep, ${label}: ${run.seconds.toFixed(2)} s  ${rate(run.seconds)} layers/s  ` +
        `(${run.computed} computed; activities measured ${run.computeSeconds.toFixed(2)} s of analysis)`,
    );
  }
  console.log(
    `speedup 2 workers / 1 worker: ${(one.cold.seconds / two.cold.seconds).toFixed(2)}× cold, ` +
      `${(one.warm.seconds / two.warm.seconds).toFixed(2)}× warm`,
  );
  for (const [label, run] of [
    ['cold', one.cold],
    ['warm', one.warm],
  ] as const) {
    console.log(
      `orchestration overhead, 1 worker (${label}) vs pure compute: ` +
        `${((run.seconds / reference - 1) * 100).toFixed(0)}% ` +
        `(${((run.seconds - reference) / layerCount).toFixed(3)} s per layer); ` +
        `share of wall time (1 − analysis/wall): ${((1 - run.computeSeconds / run.seconds) * 100).toFixed(0)}%`,
    );
  }
  if (cores < 2) console.log('note: fewer than 2 cores, so 2 workers cannot be faster than 1 here');
} finally {
  await temporal.close();
  await prisma.$disconnect();
  await rm(root, { recursive: true, force: true });
}
