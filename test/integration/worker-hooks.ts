/**
 * An in-process cpu worker for one describe block of the integration tests (kept apart from
 * sweep-harness.ts, which the benches import outside vitest).
 */
import { afterAll, beforeAll } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import type { Services } from '../../infra/config.ts';
import { createWorker, type RunningWorker } from '../../workers/create.ts';
import { connectClient } from '../../workers/sweep-client.ts';

/** What `inProcessCpuWorker` opens for a describe block. */
export interface InProcessWorker {
  prisma: PrismaClient;
  temporal: Awaited<ReturnType<typeof connectClient>>;
  worker: RunningWorker;
}

/**
 * A Prisma client, a Temporal client and an in-process cpu worker with `concurrency` compute slots,
 * opened before the describe block's tests and closed after them. The fields are set once
 * beforeAll has run.
 */
export function inProcessCpuWorker(services: Services, concurrency: number): InProcessWorker {
  const opened = {} as InProcessWorker;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    opened.prisma = createPrismaClient(services.databaseUrl);
    opened.temporal = await connectClient(services);
    opened.worker = await createWorker({ queue: 'cpu', services, concurrency, quiet: true });
    running = opened.worker.run();
  });
  afterAll(async () => {
    await opened.worker?.close();
    await running?.catch(() => undefined);
    await opened.temporal?.close();
    await opened.prisma?.$disconnect();
  });
  return opened;
}
