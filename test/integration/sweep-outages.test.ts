/**
 * Fault injection: dependency outages far longer than a retry burst. Postgres down 60 s and S3
 * down 60 s mid-sweep each end `completed` with every layer exactly once and every metric equal
 * (1e-9) to a clean sweep of the same checkpoints. A checkpoint whose layers ran out of outage
 * budget (a 2 s budget while S3 is down) is `incomplete`, never summarized or ranked, the sweep
 * ends `completed_with_failures`, and `sweep resume` computes exactly the missing layers. (The
 * budget is on top of an attempt's start-to-close timeout, so it takes ~2 min to give up here.)
 * Small layers keep the suite short.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SweepTuning } from '../../contracts/sweep.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { startPostgres, stopPostgres } from '../../infra/postgres.ts';
import { startS3, stopS3 } from '../../infra/s3.ts';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { connectClient, resumeSweep, type StartedSweep, startSweep } from '../../workers/sweep-client.ts';
import { type SyntheticCheckpoint, syntheticZoo } from './sweep-fixtures.ts';
import {
  ONE_LAYER_AT_A_TIME,
  startWorkerProcesses,
  stopWorkerProcesses,
  sweepResult,
  uploadZoo,
  type WorkerProcess,
  waitFor,
} from './sweep-harness.ts';
import {
  expectSameAsReference as expectSameSweep,
  referenceOf,
  type SweepReference,
  sweepSnapshot,
} from './sweep-identity.ts';

const services = inject('services');
const stackState = inject('stackState');
const runId = randomUUID().slice(0, 8);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const shapes: [number, number][] = [
  [192, 96],
  [160, 80],
  [128, 64],
];
const tuning = ONE_LAYER_AT_A_TIME;
const zoo: SyntheticCheckpoint[] = syntheticZoo(6, { seed: 23, shapes });

let prisma: PrismaClient;
let temporal: { client: Client; close(): Promise<void> };
const workers: WorkerProcess[] = [];
/** The clean sweep's layers and scores. */
let reference: SweepReference;

function sweep(sources: string[], extra: Partial<SweepTuning> = {}): Promise<StartedSweep> {
  return startSweep(temporal.client, prisma, {
    sources,
    config: defaultAnalysisConfig,
    tuning: { ...tuning, ...extra },
  });
}

/** Every layer of every checkpoint exactly once, succeeded, equal to the clean sweep; scores too. */
function expectSameAsReference(started: StartedSweep) {
  return expectSameSweep(prisma, started, reference);
}

/**
 * What the workers wrote from `marks` on: an outage is reported once when it starts and once when
 * it ends, never per retried attempt.
 */
function expectOutageReportedOnce(marks: number[]): void {
  const reports = workers.map((w, i) => w.output().slice(marks[i]));
  for (const text of reports) {
    const lines = text.split('\n');
    const started = lines.filter((l) => l.startsWith('weightlens worker: outage: ')).length;
    const ended = lines.filter((l) => l.startsWith('weightlens worker: outage over after ')).length;
    expect(started, text).toBeLessThanOrEqual(1);
    expect(ended, text).toBe(started);
    expect(text).not.toContain('Activity failed');
  }
  expect(
    reports.some((text) => text.includes('weightlens worker: outage: ')),
    reports.join('\n'),
  ).toBe(true);
}

async function layersStored(started: StartedSweep): Promise<number> {
  return prisma.layerResult.count({
    where: {
      configHash: started.configHash,
      status: 'succeeded',
      checkpoint: { sweeps: { some: { sweepId: started.sweepId } } },
    },
  });
}

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  temporal = await connectClient(services);
  workers.push(...(await startWorkerProcesses(services, 2)));
  const started = await sweep([await uploadZoo(services, `outage-${runId}/clean`, zoo)]);
  const result = await sweepResult(started.handle);
  expect(result.status).toBe('completed');
  expect(result.succeeded).toBe(zoo.length);
  reference = referenceOf(await sweepSnapshot(prisma, started));
  expect(reference.scores.size).toBe(zoo.length);
});

afterAll(async () => {
  // Whatever happened above, leave the shared stack running for the next test file.
  await startPostgres(stackState);
  await startS3(stackState);
  await stopWorkerProcesses(workers);
  await temporal?.close();
  await prisma?.$disconnect();
});

describe('outages of dependencies never lose or falsify results', () => {
  const outages = [
    { dependency: 'Postgres', prefix: 'postgres', stop: stopPostgres, start: startPostgres },
    { dependency: 'S3', prefix: 's3', stop: stopS3, start: startS3 },
  ];
  for (const outage of outages) {
    it(`${outage.dependency} down 60 s mid-sweep: completed, identical to the clean sweep`, async () => {
      const started = await sweep([await uploadZoo(services, `outage-${runId}/${outage.prefix}`, zoo)]);
      await waitFor('a few layers stored', async () => (await layersStored(started)) >= 3);
      const marks = workers.map((w) => w.output().length);
      await outage.stop(stackState);
      await sleep(60_000);
      await outage.start(stackState);
      const result = await sweepResult(started.handle);
      expect(result.status).toBe('completed');
      expect(result.succeeded).toBe(zoo.length);
      expect(result.failed + result.incomplete + result.layersFailed).toBe(0);
      await expectSameAsReference(started);
      for (const worker of workers) expect(worker.child.exitCode, worker.output()).toBeNull();
      expectOutageReportedOnce(marks);
    });
  }

  it('layers given up after the outage budget leave the checkpoint incomplete, unranked; resume completes it', {
    timeout: 600_000,
  }, async () => {
    const started = await sweep([await uploadZoo(services, `outage-${runId}/partial`, zoo)], {
      outageBudgetMs: 2_000,
    });
    // Strike once the first checkpoint's headers are read, so its layers (not only its
    // inspection) meet the outage.
    await waitFor('a layer stored', async () => (await layersStored(started)) >= 1);
    await stopS3(stackState);
    // Restore S3 once a checkpoint gave up its layers; the rest of the sweep then runs normally.
    await waitFor(
      'an incomplete checkpoint',
      async () =>
        (await prisma.sweepCheckpoint.count({ where: { sweepId: started.sweepId, status: 'incomplete' } })) >
        0,
      // Two start-to-close floors (an attempt in flight when S3 stopped, then the give-up) and load.
      420_000,
    );
    await startS3(stackState);
    const result = await sweepResult(started.handle);
    expect(result.status).toBe('completed_with_failures');
    expect(result.incomplete).toBeGreaterThanOrEqual(1);
    const members = await prisma.sweepCheckpoint.findMany({
      where: { sweepId: started.sweepId },
      select: { checkpointId: true, status: true, error: true, layersDone: true, layersTotal: true },
    });
    const incomplete = members.filter((m) => m.status === 'incomplete');
    expect(incomplete).toHaveLength(result.incomplete);
    for (const m of incomplete) {
      expect(m.layersDone).toBeLessThan(m.layersTotal);
      expect(m.error).toMatch(new RegExp(`^incomplete: ${m.layersDone} of ${m.layersTotal} layers`));
      expect(m.error).not.toContain('\n');
      // Never summarized, so never ranked as complete.
      expect(
        await prisma.checkpointSummary.count({
          where: { checkpointId: m.checkpointId, configHash: started.configHash },
        }),
      ).toBe(0);
    }
    const record = await prisma.sweep.findUniqueOrThrow({ where: { id: started.sweepId } });
    expect(record.status).toBe('completed_with_failures');

    const before = await layersStored(started);
    const missing = zoo.length * shapes.length - before;
    expect(missing).toBeGreaterThan(0);
    const resumed = await resumeSweep(temporal.client, prisma, started.sweepId, tuning);
    const after = await sweepResult(resumed.handle);
    expect(after.status).toBe('completed');
    expect(after.succeeded).toBe(zoo.length);
    expect(after.incomplete + after.failed).toBe(0);
    // Exactly the missing work: nothing stored before is computed again.
    expect(after.layersComputed).toBe(missing);
    expect(after.layersReused).toBe(before);
    await expectSameAsReference(started);
    const resumedRecord = await prisma.sweep.findUniqueOrThrow({ where: { id: started.sweepId } });
    expect(resumedRecord.status).toBe('completed');
  });
});
