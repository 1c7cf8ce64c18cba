/**
 * Fine-tune deltas through the real stack: `sweep <s3 prefix> --base <s3 uri>` (Temporal, versitygw,
 * Postgres, a worker in the CLI process) stores W − W_base rows whose planted exponents are
 * recovered, ‖ΔW‖/‖W_base‖ per row and the skip reasons of unpaired tensors; another base is another
 * config hash (everything recomputed, against that base); the first base again reuses everything;
 * the dashboard's checkpoint query names the base the results are relative to.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { fetchCheckpointDetail } from '../../db/dashboard/checkpoint.ts';
import { analyzeCheckpoint } from '../../lib/analyze.ts';
import { resolveBaseCheckpoint } from '../../lib/deltas.ts';
import { parseAnalysisConfig } from '../../lib/spectral/index.ts';
import { FileStorage } from '../../storage/file.ts';
import {
  deltaNormRatio,
  deltaPair,
  PLANTED_DELTA_ALPHAS as planted,
} from '../unit/formats/delta-builders.ts';
import { FIXTURES_DIR } from '../unit/formats/fixture-helpers.ts';
import { runCli } from './cli-helpers.ts';
import { servicesEnv, uploadZoo } from './sweep-harness.ts';

const LORA_DIR = `${FIXTURES_DIR}lora-merged`;
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
    ...['adapter/adapter_model.safetensors', 'adapter/adapter_config.json', 'base/model.safetensors'].map(
      (file) => ({
        dir: `lora-${path.dirname(file)}`,
        files: [{ name: path.basename(file), bytes: readFileSync(`${LORA_DIR}/${file}`) }],
      }),
    ),
  ]);
});
afterAll(async () => {
  await prisma?.$disconnect();
});

async function sweepWithBase(name: string, base: string, source = `${root}/tuned`) {
  const swept = await runCli(
    ['sweep', source, '--base', base, '--wait', '--local-worker', '--concurrency', '1', '--name', name],
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

  it('a LoRA adapter swept against its base stores the ΔW rows and the merged W_base + ΔW rows', async () => {
    const swept = await sweepWithBase(`lora-base-${run}`, `${root}/lora-base`, `${root}/lora-adapter`);
    const want = JSON.parse(readFileSync(`${LORA_DIR}/expected.json`, 'utf8')) as {
      lora: Record<string, unknown>;
      merged: Record<string, { delta_norm_ratio: number }>;
    };
    const succeeded = swept.rows.filter((row) => row.status === 'succeeded');
    const ofType = (type: string) =>
      succeeded.filter((row) => row.layerType === type).map((row) => row.layerName);
    expect(ofType('lora').sort()).toEqual(Object.keys(want.lora).sort());
    expect(ofType('lora_merged')).toEqual(Object.keys(want.merged));
    // The worker computes what the local analysis (analyze --base) computes on the same files.
    const storage = new FileStorage();
    const localBase = await resolveBaseCheckpoint(`${LORA_DIR}/base`, storage);
    const local = await analyzeCheckpoint(
      `${LORA_DIR}/adapter/adapter_model.safetensors`,
      storage,
      parseAnalysisConfig({ base: localBase.uri, baseContentHash: localBase.contentHash }),
    );
    for (const row of succeeded) {
      const same = local.layers.find((r) => r.name === row.layerName)!;
      expect([row.layerType, row.layerId, row.alpha], row.layerName).toEqual([
        same.layer_type,
        same.layer_id,
        same.alpha,
      ]);
    }
    for (const [name, merged] of Object.entries(want.merged)) {
      const row = succeeded.find((r) => r.layerName === name)!;
      expect(row.deltaNormRatio!).toBeCloseTo(merged.delta_norm_ratio, 9);
    }
    const skipped = new Map(
      swept.rows.filter((row) => row.status === 'skipped').map((row) => [row.layerName, row.error]),
    );
    expect(skipped.get('model.layers.0.mlp.down_proj.weight')).toMatch(
      /^merged W \+ ΔW: the base's \[160, 96\]/,
    );
    expect(skipped.get('model.layers.0.self_attn.v_proj.weight')).toMatch(/is not in the base s3:/);
  });
});
