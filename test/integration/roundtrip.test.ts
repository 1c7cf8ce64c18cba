/**
 * The must-show round trip through all three real services: a workflow on a real Worker (bundled
 * workflow code, Temporal dev server) runs an activity that reads an object from versitygw S3 and
 * writes a row through Prisma into Postgres; the test checks the row and the workflow result.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { s3Client } from '../../infra/s3.ts';
import { createProbeActivities } from './probe/activities.ts';
import { probeWorkflow } from './probe/workflow.ts';

const services = inject('services');

// Worker state changes are logged at INFO; keep test output to what matters.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // A runtime already exists in this process (installed once per process).
}

describe('round trip: Temporal → S3 → Postgres', () => {
  let prisma: PrismaClient;
  beforeAll(() => {
    prisma = createPrismaClient(services.databaseUrl);
  });
  afterAll(async () => {
    await prisma.$disconnect();
  });

  it('runs a workflow whose activity reads an S3 object and writes a Postgres row', async () => {
    const key = `probe/${randomUUID()}.bin`;
    const body = randomBytes(4096 + Math.floor(Math.random() * 4096));
    const s3 = s3Client(services.s3);
    await s3.send(new PutObjectCommand({ Bucket: services.s3.bucket, Key: key, Body: body }));
    s3.destroy();

    const taskQueue = `probe-${randomUUID()}`;
    const rowId = `probe-${randomUUID()}`;
    const activities = createProbeActivities(services);
    const workerConnection = await NativeConnection.connect({ address: services.temporalAddress });
    const clientConnection = await Connection.connect({ address: services.temporalAddress });
    try {
      const worker = await Worker.create({
        connection: workerConnection,
        namespace: services.namespace,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('./probe/workflow.ts', import.meta.url)),
        activities,
      });
      const client = new Client({ connection: clientConnection, namespace: services.namespace });
      const result = await worker.runUntil(
        client.workflow.execute(probeWorkflow, { taskQueue, workflowId: rowId, args: [{ key, rowId }] }),
      );

      const expectedSha = createHash('sha256').update(body).digest('hex');
      expect(result).toEqual({ rowId, sha256: expectedSha, sizeBytes: body.byteLength });
      const row = await prisma.checkpoint.findUniqueOrThrow({ where: { id: rowId } });
      expect(row.contentHash).toBe(expectedSha);
      expect(row.sizeBytes).toBe(BigInt(body.byteLength));
      expect(row.uri).toBe(`s3://${services.s3.bucket}/${key}`);

      const history = await client.workflow.getHandle(rowId).fetchHistory();
      const completed = history.events?.filter((e) => e.activityTaskCompletedEventAttributes) ?? [];
      expect(completed).toHaveLength(1);
    } finally {
      await activities.close();
      await clientConnection.close();
      await workerConnection.close();
      await prisma.checkpoint.deleteMany({ where: { id: rowId } });
    }
  });
});
