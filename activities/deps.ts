/**
 * What the activities need from the outside world, built once per worker process: the database,
 * storage for checkpoints (file:// and s3://), the ESD artifact store, and a worker label that is
 * recorded on each layer result. Tests and the bench build the same object.
 */
import os from 'node:os';
import { createPrismaClient, type PrismaClient } from '../db/client.ts';
import type { OpenedCheckpoint } from '../lib/formats/types.ts';
import { createStorage, type Storage } from '../storage/index.ts';
import { type EsdStore, S3EsdStore } from './esd-store.ts';

export interface ActivityDeps {
  prisma: PrismaClient;
  storage: Storage;
  esd: EsdStore;
  /** Recorded in LayerResult.worker ("host:pid"). */
  workerName: string;
  /** Headers of recently opened checkpoints, so N layer activities do not re-parse them N times. */
  openedCheckpoints: Map<string, Promise<OpenedCheckpoint>>;
}

/** The slice of infra/config.ts `Services` the activities use. */
export interface ActivityServices {
  databaseUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string };
}

export function createActivityDeps(services: ActivityServices): ActivityDeps & { close(): Promise<void> } {
  const s3 = {
    endpoint: services.s3.endpoint,
    region: services.s3.region,
    accessKeyId: services.s3.accessKeyId,
    secretAccessKey: services.s3.secretAccessKey,
  };
  const prisma = createPrismaClient(services.databaseUrl);
  const esd = new S3EsdStore(services.s3.bucket, s3);
  return {
    prisma,
    storage: createStorage({ s3 }),
    esd,
    workerName: `${os.hostname()}:${process.pid}`,
    openedCheckpoints: new Map(),
    async close() {
      esd.destroy();
      await prisma.$disconnect();
    },
  };
}
