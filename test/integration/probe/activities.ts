/**
 * The round-trip probe: read an object from S3 and record it as a row through Prisma. Used by the
 * integration test (roundtrip.test.ts) that proves Temporal, S3 and Postgres work together; nothing else calls it.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createPrismaClient } from '../../../db/client.ts';
import type { Services } from '../../../infra/config.ts';
import { s3Client } from '../../../infra/s3.ts';

export interface ProbeInput {
  /** Key of the object in the services' bucket. */
  key: string;
  /** Id of the Checkpoint row to write. */
  rowId: string;
}

export interface ProbeResult {
  rowId: string;
  sha256: string;
  sizeBytes: number;
}

export function createProbeActivities(services: Pick<Services, 'databaseUrl' | 's3'>) {
  const prisma = createPrismaClient(services.databaseUrl);
  const s3 = s3Client(services.s3);
  return {
    async probeReadAndRecord(input: ProbeInput): Promise<ProbeResult> {
      const object = await s3.send(new GetObjectCommand({ Bucket: services.s3.bucket, Key: input.key }));
      const bytes = await object.Body!.transformToByteArray();
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const uri = `s3://${services.s3.bucket}/${input.key}`;
      // Upsert: a retried activity must not fail on its own earlier write.
      await prisma.checkpoint.upsert({
        where: { id: input.rowId },
        create: {
          id: input.rowId,
          uri,
          contentHash: sha256,
          format: 'probe',
          sizeBytes: BigInt(bytes.byteLength),
        },
        update: { contentHash: sha256, sizeBytes: BigInt(bytes.byteLength) },
      });
      return { rowId: input.rowId, sha256, sizeBytes: bytes.byteLength };
    },
    async close(): Promise<void> {
      s3.destroy();
      await prisma.$disconnect();
    },
  };
}

export type ProbeActivities = Omit<ReturnType<typeof createProbeActivities>, 'close'>;
