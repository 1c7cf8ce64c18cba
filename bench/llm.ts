/**
 * `npm run bench:llm`: a Llama-3-8B-shaped BF16 checkpoint swept from the local S3.
 *
 * Writes the checkpoint (hidden 4096, intermediate 14336, 8 KV heads of dim 128, vocabulary
 * 128 256; random weights, streamed into S3 in the Hugging Face layout: shards ≤ 5 GB, index,
 * config.json), sweeps it with fresh `weightlens worker` processes (one analysis slot each), once per
 * worker count, each on its own upload so nothing is reused, and prints: wall time, layers/s, peak
 * RSS per worker process, S3 bytes read ÷ checkpoint bytes (counted on the wire by a proxy in front
 * of the S3 server), orchestration overhead (wall − Σ per-layer analysis time from the stored rows,
 * divided by the worker count), the targets, and projections for the whole 32-layer 8B model and
 * for 70B/405B shapes from the measured per-shape times. Then the breadth case: many small
 * checkpoints in one sweep (checkpoints per minute, Temporal history sizes of the sweep's runs and
 * of its child workflows).
 * Options: --layers N (decoder layers written, default 32), --workers 1,2 (worker counts),
 * --breadth K (small checkpoints, default 200; 0 skips), --shard-gb G (default 5).
 * Uses the local stack (started if needed) or the configured one; deletes what it uploaded.
 */
import os from 'node:os';
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPrismaClient } from '../db/client.ts';
import { resolveServices } from '../infra/config.ts';
import { defaultAnalysisConfig } from '../lib/spectral/index.ts';
import { syntheticZoo } from '../test/integration/sweep-fixtures.ts';
import { testS3Client, uploadZoo } from '../test/integration/sweep-harness.ts';
import { connectClient } from '../workers/sweep-client.ts';
import { LLAMA_SHAPES, tensorBytes, uploadLlamaCheckpoint } from './llm-checkpoint.ts';
import { planTensors } from './llm-projection.ts';
import { startCountingProxy } from './llm-proxy.ts';
import { type MeasuredCase, printProjections, printSweep } from './llm-report.ts';
import { describeHistories, measuredSweep, type SweepContext, sweepHistories } from './llm-runs.ts';

// Before the native addon (and OpenBLAS) is loaded; the workers inherit it.
process.env.OPENBLAS_NUM_THREADS ??= '1';

const OPTIONS = ['--layers', '--workers', '--breadth', '--shard-gb'] as const;

function parseOptions(argv: string[]) {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!;
    if (!(OPTIONS as readonly string[]).includes(name))
      throw new Error(`unknown option ${name} (options: ${OPTIONS.join(', ')})`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${name} needs a value`);
    values.set(name, value);
  }
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name} ${raw}: give an integer from ${min} to ${max}`);
    return n;
  };
  const shape = LLAMA_SHAPES['8B'];
  const workers = (values.get('--workers') ?? '1,2').split(',').map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new Error(`--workers ${w}: give worker counts from 1 to 16, comma-separated`);
    return n;
  });
  const shardGb = Number(values.get('--shard-gb') ?? 5);
  if (!(shardGb >= 0.5 && shardGb <= 5))
    throw new Error(`--shard-gb ${values.get('--shard-gb')}: give 0.5 to 5`);
  return {
    layers: integer('--layers', shape.layers, 1, shape.layers),
    workers,
    breadth: integer('--breadth', 200, 0, 10_000),
    shardBytes: Math.floor(shardGb * 1e9),
  };
}

const options = parseOptions(process.argv.slice(2));
const shape = LLAMA_SHAPES['8B'];
const runId = Date.now().toString(36);
const services = await resolveServices({ start: true });
const proxy = await startCountingProxy(services.s3.endpoint ?? '', 0);
const s3 = testS3Client(services);
const temporal = await connectClient(services);
const ctx: SweepContext = {
  services,
  workerServices: { ...services, s3: { ...services.s3, endpoint: proxy.endpoint } },
  proxy,
  prisma: createPrismaClient(services.databaseUrl),
  temporal: temporal.client,
};

/** Keys uploaded and not yet deleted: an interrupted run still deletes them (the disk is shared). */
const uploadedKeys = new Set<string>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench:llm: ${signal}: deleting ${uploadedKeys.size} uploaded objects`);
    void deleteKeys(s3, [...uploadedKeys]).finally(() => process.exit(130));
  });
}

async function deleteKeys(client: S3Client, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: services.s3.bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
  for (const key of keys) uploadedKeys.delete(key);
}

const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

try {
  console.log(
    `bench:llm — ${shape.label}-shaped BF16, ${options.layers} of ${shape.layers} decoder layers measured ` +
      `(hidden ${shape.hidden}, intermediate ${shape.intermediate}, k/v ${(shape.hidden / shape.heads) * shape.kvHeads}×${shape.hidden}, ` +
      `vocabulary ${shape.vocab}); ${os.availableParallelism()} cores, load average ${loadavg()} (1/5/15 min)`,
  );
  const cases: MeasuredCase[] = [];
  for (const workers of options.workers) {
    const started = performance.now();
    const uploaded = await uploadLlamaCheckpoint(
      s3,
      services.s3.bucket,
      `bench-llm-${runId}/w${workers}`,
      shape,
      {
        layers: options.layers,
        shardBytes: options.shardBytes,
        onKey: (key) => uploadedKeys.add(key),
      },
    );
    const uploadSeconds = (performance.now() - started) / 1000;
    try {
      const plan = planTensors(uploaded.tensors, defaultAnalysisConfig);
      console.log(
        `uploaded ${uploaded.uri}: ${(uploaded.bytes / 1e9).toFixed(2)} GB in ${uploaded.shardCount} shard(s) ` +
          `+ index + config.json, ${uploadSeconds.toFixed(0)} s; ${plan.analyzed.length} matrices to analyze, ` +
          `skipped by the default configuration: ${plan.skipped.map((s) => `${s.name} (${s.reason})`).join(', ') || 'none'}`,
      );
      const sweep = await measuredSweep(ctx, uploaded.uri, workers);
      const histories = await sweepHistories(ctx.temporal, sweep.workflowId, sweep.firstRunId);
      const measured: MeasuredCase = {
        sweep,
        checkpointBytes: uploaded.bytes,
        analyzedBytes: plan.analyzed.reduce((sum, t) => sum + tensorBytes(t), 0),
        decoderLayers: options.layers,
        expectedMatrices: plan.analyzed.length,
      };
      cases.push(measured);
      printSweep(measured, loadavg());
      console.log(`  ${describeHistories('histories', histories)}`);
    } finally {
      await deleteKeys(s3, uploaded.keys);
    }
  }
  printProjections(cases, shape);

  if (options.breadth > 0) {
    const prefix = `bench-llm-${runId}/breadth`;
    const zoo = syntheticZoo(options.breadth, { seed: 17 });
    const zooKeys = zoo.flatMap((c) => c.files.map((f) => `${prefix}/${c.dir}/${f.name}`));
    for (const key of zooKeys) uploadedKeys.add(key);
    const source = await uploadZoo(services, prefix, zoo);
    try {
      const workers = Math.max(...options.workers);
      const sweep = await measuredSweep(ctx, source, workers);
      if (sweep.checkpoints !== options.breadth)
        throw new Error(`breadth sweep analyzed ${sweep.checkpoints}/${options.breadth}`);
      const histories = await sweepHistories(ctx.temporal, sweep.workflowId, sweep.firstRunId);
      console.log(
        `breadth: ${options.breadth} small checkpoints (${zoo[0]!.layerNames.length} layers each) in one sweep, ` +
          `${workers} worker(s): ${sweep.wallSeconds.toFixed(1)} s, ` +
          `${((options.breadth / sweep.wallSeconds) * 60).toFixed(0)} checkpoints/min (load average ${loadavg()})`,
      );
      console.log(`  ${describeHistories('histories', histories)}`);
    } finally {
      await deleteKeys(s3, zooKeys);
    }
  }
} finally {
  await deleteKeys(s3, [...uploadedKeys]);
  s3.destroy();
  await proxy.close();
  await temporal.close();
  await ctx.prisma.$disconnect();
}
