/**
 * Fine-tune deltas through the real stack: `sweep <s3 prefix> --base <s3 uri>` (Temporal, versitygw,
 * Postgres, a worker in the CLI process) stores W − W_base rows whose planted exponents are
 * recovered, ‖ΔW‖/‖W_base‖ per row and the skip reasons of unpaired tensors; another base is another
 * config hash (everything recomputed, against that base); the first base again reuses everything;
 * the dashboard's checkpoint query names the base the results are relative to.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { fetchCheckpointDetail } from '../../db/dashboard/checkpoint.ts';
import {
  deltaNormRatio,
  deltaPair,
  PLANTED_DELTA_ALPHAS as planted,
} from '../unit/formats/delta-builders.ts';
import { runCli } from './cli-helpers.ts';
import { servicesEnv, uploadZoo } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const run = `${Date.now()}-${process.pid}`;
const pair = deltaPair();
const otherBase = deltaPair(90);

let prisma: PrismaClient;
let root: string;

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  root = await uploadZoo(services, `sweep-base-${run}`, [
    { dir: 'tuned', files: [{ name: 'model.safetensors', bytes: pair.tunedBytes }] },
    { dir: 'base-a', files: [{ name: 'model.safetensors', bytes: pair.baseBytes }] },
    { dir: 'base-b', files: [{ name: 'model.safetensors', bytes: otherBase.baseBytes }] },
  ]);
});
afterAll(async () => {
  await prisma?.$disconnect();
});

async function sweepWithBase(name: string, base: string) {
  const swept = await runCli(
    [
      'sweep',
      `${root}/tuned`,
      '--base',
      base,
      '--wait',
      '--local-worker',
      '--concurrency',
      '1',
      '--name',
      name,
    ],
    env,
  );
  expect(swept.code, swept.stderr).toBe(0);
  const sweep = await prisma.sweep.findFirstOrThrow({ where: { name } });
  const rows = await prisma.layerResult.findMany({
    where: { configHash: sweep.configHash, checkpoint: { sweeps: { some: { sweepId: sweep.id } } } },
    orderBy: { layerId: 'asc' },
  });
  const counts = /(\d+) layers computed, (\d+) reused/.exec(swept.stderr);
  expect(counts, swept.stderr).not.toBeNull();
  return { sweep, rows, computed: Number(counts![1]), reused: Number(counts![2]) };
}

describe('sweep --base (fine-tune deltas through Temporal, S3 and Postgres)', () => {
  it('stores ΔW rows with the planted exponents, recomputes against another base, reuses the same base', async () => {
    const baseA = `${root}/base-a`;
    const first = await sweepWithBase(`base-a-${run}`, baseA);
    const config = first.sweep.config as { base: string; baseContentHash: string };
    expect(config.base).toBe(`${baseA}/model.safetensors`);
    expect(config.baseContentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.computed).toBe(2);

    const succeeded = first.rows.filter((row) => row.status === 'succeeded');
    expect(succeeded.map((row) => row.layerName)).toEqual(Object.keys(planted));
    for (const [i, row] of succeeded.entries()) {
      const alpha = planted[row.layerName]!;
      const standardError = (row.alpha! - 1) / Math.sqrt(row.numPlSpikes!);
      expect(Math.abs(row.alpha! - alpha), `${row.layerName} α=${row.alpha}, planted ${alpha}`).toBeLessThan(
        3 * standardError,
      );
      expect(row.deltaNormRatio!).toBeCloseTo(deltaNormRatio(pair.tuned[i]!.data, pair.base[i]!.data), 6);
    }
    const reasons = new Map(
      first.rows.filter((row) => row.status === 'skipped').map((row) => [row.layerName, row.error]),
    );
    expect(reasons.get('head.weight')).toBe("shape [200, 100] differs from the base's [200, 64]");
    expect(reasons.get('extra.weight')).toBe(`not in the base checkpoint ${baseA}/model.safetensors`);

    // Another base: another config hash, every paired layer computed again, against that base.
    const second = await sweepWithBase(`base-b-${run}`, `${root}/base-b`);
    expect(second.sweep.configHash).not.toBe(first.sweep.configHash);
    expect(second.computed).toBe(2);
    expect(second.reused).toBe(0);
    const secondRows = second.rows.filter((row) => row.status === 'succeeded');
    expect(secondRows).toHaveLength(2);
    for (const [i, row] of secondRows.entries()) {
      expect(row.deltaNormRatio!).toBeCloseTo(
        deltaNormRatio(pair.tuned[i]!.data, otherBase.base[i]!.data),
        6,
      );
      expect(row.alpha).not.toBe(succeeded[i]!.alpha);
    }

    // The first base again: the same key, nothing computed.
    const again = await sweepWithBase(`base-a-again-${run}`, baseA);
    expect(again.sweep.configHash).toBe(first.sweep.configHash);
    expect([again.computed, again.reused]).toEqual([0, 2]);

    const checkpointId = succeeded[0]!.checkpointId;
    const detail = await fetchCheckpointDetail(prisma, checkpointId, second.sweep.configHash);
    expect(detail?.base?.uri).toBe(`${root}/base-b/model.safetensors`);
    const plain = await fetchCheckpointDetail(prisma, checkpointId, 'no-such-config');
    expect(plain?.base).toBeNull();
  });
});
