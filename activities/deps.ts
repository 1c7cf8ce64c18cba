/**
 * What the activities need from the outside world, built once per worker process: the database,
 * storage for checkpoints (file:// and s3://), the ESD artifact store, and a worker label that is
 * recorded on each layer result. Tests and the bench build the same object.
 */
import os, { availableParallelism } from 'node:os';
import { createPrismaClient, type PrismaClient } from '../db/client.ts';
import { type S3Settings, s3StorageOptions } from '../infra/paths.ts';
import { CheckpointHeaderCache } from '../lib/formats/header-cache.ts';
import { createStorage, type Storage } from '../storage/index.ts';
import { ComputeSlots } from './compute-slots.ts';
import { type EsdStore, S3EsdStore } from './esd-store.ts';
import { ReadAheadGate } from './read-ahead.ts';

export interface ActivityDeps {
  prisma: PrismaClient;
  storage: Storage;
  esd: EsdStore;
  /** Recorded in LayerResult.worker ("host:pid"). */
  workerName: string;
  /**
   * Headers of recently opened checkpoints by checkpoint id (a digest of uri and content hash):
   * discovery fills it, inspection and the layer batches reuse it instead of re-parsing.
   */
  openedCheckpoints: CheckpointHeaderCache;
  /** Bounds the layer analyses running at once in this process (the worker's --concurrency). */
  compute: ComputeSlots;
  /** When the worker takes its next task, from the compute slots and measured read times. */
  readAhead: ReadAheadGate;
}

/** The slice of infra/config.ts `Services` the activities use. */
export interface ActivityServices {
  databaseUrl: string;
  s3: S3Settings;
}

export interface OwnedActivityDeps extends ActivityDeps {
  /**
   * Connect to Postgres and S3 once before the first task: a fresh Prisma client spends ~0.6 s on
   * its first query (query compiler, pool), which would otherwise land on a sweep's first
   * activity. Failures are ignored here; the activities report (and retry) them.
   */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

export function createActivityDeps(
  services: ActivityServices,
  options: { computeSlots?: number } = {},
): OwnedActivityDeps {
  const s3 = s3StorageOptions(services.s3);
  const prisma = createPrismaClient(services.databaseUrl);
  const esd = new S3EsdStore(services.s3.bucket, s3);
  const compute = new ComputeSlots(options.computeSlots ?? availableParallelism());
  return {
    prisma,
    storage: createStorage({ s3 }),
    esd,
    workerName: `${os.hostname()}:${process.pid}`,
    openedCheckpoints: new CheckpointHeaderCache(),
    compute,
    readAhead: new ReadAheadGate(compute),
    async warmUp() {
      await Promise.allSettled([prisma.sweep.findFirst({ select: { id: true } }), esd.warmUp()]);
    },
    async close() {
      esd.destroy();
      await prisma.$disconnect();
    },
  };
}
