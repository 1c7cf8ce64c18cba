/**
 * A `weightlens worker` with WEIGHTLENS_HEALTH_PORT: /livez answers, /readyz is true while its
 * dependencies (the test stack's Temporal, Postgres, S3) answer and false with the unreachable one
 * named when one does not, and /metrics carries our activity counters after a real sweep ran on it.
 */
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { awaitSweep, connectClient, startSweep } from '../../workers/sweep-client.ts';
import { syntheticZoo } from './sweep-fixtures.ts';
import { startWorkerProcess, stopWorkerProcess, uploadZoo, type WorkerProcess } from './sweep-harness.ts';

const services = inject('services');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('worker health and metrics endpoints', () => {
  let worker: WorkerProcess;
  let base: string;
  let prisma: PrismaClient;
  let temporal: { client: Client; close(): Promise<void> };

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = await startWorkerProcess(services, {
      concurrency: 1,
      env: { WEIGHTLENS_HEALTH_PORT: String(port), WEIGHTLENS_HEALTH_HOST: '127.0.0.1' },
    });
    prisma = createPrismaClient(services.databaseUrl);
    temporal = await connectClient(services);
  });
  afterAll(async () => {
    await temporal?.close();
    await prisma?.$disconnect();
    if (worker) await stopWorkerProcess(worker);
  });

  it('/livez answers and /readyz is true with every dependency up', async () => {
    const live = await fetch(`${base}/livez`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { temporal: 'ok', postgres: 'ok', s3: 'ok' } });
  });

  it('/metrics counts the activities of a sweep that ran on this worker', async () => {
    const zoo = syntheticZoo(1, { family: `health-${Date.now()}` });
    const prefix = await uploadZoo(services, `health-${Date.now()}`, zoo);
    const started = await startSweep(temporal.client, prisma, {
      sources: [prefix],
      config: defaultAnalysisConfig,
    });
    await awaitSweep(started.handle);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const completed = [
      ...text.matchAll(/^weightlens_activities_total\{[^}]*outcome="completed"[^}]*\} (\d+)/gm),
    ];
    expect(completed.length).toBeGreaterThan(0);
    expect(completed.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThan(0);
    expect(text).toMatch(/^weightlens_activity_seconds_count\{[^}]*queue="[^"]+"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^weightlens_worker_process_resident_memory_bytes /m);
  });

  it('/readyz is false and names the dependency while one is unreachable', async () => {
    const port = await freePort();
    const { dependencyChecks, startHealthServer } = await import('../../workers/health.ts');
    const { createWorkerMetrics } = await import('../../workers/metrics.ts');
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry: createWorkerMetrics().registry,
      checks: dependencyChecks({ ...services, databaseUrl: `postgresql://nobody@127.0.0.1:${port}/none` }),
    });
    try {
      const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        ready: false,
        checks: { temporal: 'ok', postgres: 'unreachable', s3: 'ok' },
      });
    } finally {
      await server.close();
    }
  });
});
