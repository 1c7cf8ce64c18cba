/**
 * `npm run bench:requests`: S3 requests and Postgres round trips per checkpoint of a sweep from the
 * local S3. Uploads BENCH_REQUESTS_CHECKPOINTS (default 4) synthetic safetensors checkpoints of
 * BENCH_REQUESTS_LAYERS (default 6) small dense layers, runs one sweep with an in-process worker
 * (one compute slot), and counts, in this process, every S3 command the worker sends (by type;
 * ESD artifact puts separately from checkpoint reads) and every query a pg client sends to
 * Postgres (a round trip each, BEGIN/COMMIT included). A second sweep of the same prefix (every
 * layer reused) is counted too. Uses the local stack (started if needed) or the configured one.
 */
import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { createPrismaClient } from '../db/client.ts';
import { resolveServices } from '../infra/config.ts';
import { defaultAnalysisConfig } from '../lib/spectral/index.ts';
import { syntheticZoo } from '../test/integration/sweep-fixtures.ts';
import { uploadZoo } from '../test/integration/sweep-harness.ts';
import { createWorker } from '../workers/create.ts';
import { awaitSweep, connectClient, startSweep } from '../workers/sweep-client.ts';

process.env.OPENBLAS_NUM_THREADS ??= '1';

const checkpoints = Number(process.env.BENCH_REQUESTS_CHECKPOINTS ?? 4);
const layers = Number(process.env.BENCH_REQUESTS_LAYERS ?? 6);

/** Counters the patched clients add to while `counting` is set. */
const s3Commands = new Map<string, number>();
let pgQueries = 0;
let counting = false;

const originalSend = S3Client.prototype.send;
S3Client.prototype.send = function countedSend(this: S3Client, ...args: Parameters<S3Client['send']>) {
  if (counting) {
    const name = (args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    s3Commands.set(name, (s3Commands.get(name) ?? 0) + 1);
  }
  return originalSend.apply(this, args);
} as S3Client['send'];

const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  if (counting) {
    pgQueries += 1;
    if (process.env.BENCH_REQUESTS_LOG) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      console.log(`  pg: ${String(text).replace(/\s+/g, ' ').slice(0, 110)}`);
    }
  }
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

const services = await resolveServices({ start: true });
const prefix = `bench-requests-${randomUUID().slice(0, 8)}`;
const shapes = Array.from({ length: layers }, (_, i): [number, number] => [64 + 8 * i, 32 + 4 * i]);
const source = await uploadZoo(services, prefix, syntheticZoo(checkpoints, { seed: 11, shapes }));

const prisma = createPrismaClient(services.databaseUrl);
const temporal = await connectClient(services);
const client = temporal.client;
const worker = await createWorker({ queue: 'cpu', concurrency: 1, services, quiet: true });
const running = worker.run();

interface Counted {
  s3: Map<string, number>;
  pg: number;
  seconds: number;
}

async function countedSweep(label: string): Promise<Counted> {
  s3Commands.clear();
  pgQueries = 0;
  counting = true;
  const started = performance.now();
  const sweep = await startSweep(client, prisma, {
    sources: [source],
    config: defaultAnalysisConfig,
    name: `${prefix}-${label}`,
  });
  const result = await awaitSweep(sweep.handle);
  counting = false;
  if (result.status !== 'completed') throw new Error(`sweep ${label}: ${JSON.stringify(result)}`);
  return { s3: new Map(s3Commands), pg: pgQueries, seconds: (performance.now() - started) / 1000 };
}

function report(label: string, c: Counted): void {
  const reads = [...c.s3].filter(([name]) => name !== 'PutObject').reduce((sum, [, n]) => sum + n, 0);
  const puts = c.s3.get('PutObject') ?? 0;
  const byType = [...c.s3]
    .sort()
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  console.log(
    `${label}: ${checkpoints} checkpoints × ${layers} layers, ${c.seconds.toFixed(1)} s\n` +
      `  S3 requests: ${reads + puts} (${byType}) = ${(reads / checkpoints).toFixed(1)} reads + ` +
      `${(puts / checkpoints).toFixed(1)} ESD puts per checkpoint\n` +
      `  Postgres round trips: ${c.pg} = ${(c.pg / checkpoints).toFixed(1)} per checkpoint`,
  );
}

try {
  report('first sweep', await countedSweep('first'));
  report('rerun (all reused)', await countedSweep('rerun'));
} finally {
  await worker.close();
  await running.catch(() => undefined);
  await temporal.close();
  await prisma.$disconnect();
}
