/**
 * Llama-shaped details through the real stack (Temporal, versitygw, Postgres, a worker in the CLI
 * process): a tied embedding (config.json tie_word_embeddings, the head left out) is stored once,
 * marked `tied_with: lm_head.weight`; an embedding with N above max_N is skipped by default, as
 * WeightWatcher does, and with `--above-max-n gram` analyzed through its streamed Gram matrix —
 * under another config hash, with the values the whole-matrix analysis gives; a rerun reuses it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { decodeMetrics } from '../../db/results.ts';
import { seededRandom } from '../../lib/random.ts';
import { buildSafetensors, jsonBytes } from '../unit/formats/builders.ts';
import { matrixWithSingularValues } from '../unit/linalg/known-spectrum.ts';
import { runCli } from './cli-helpers.ts';
import { servicesEnv, uploadZoo } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const run = `${Date.now()}-${process.pid}`;
const EMBEDDING = 'model.embed_tokens.weight';
const PROJECTION = 'model.layers.0.self_attn.q_proj.weight';
const [ROWS, COLS] = [3000, 48];

let prisma: PrismaClient;
let root: string;
let smallConfig: string;

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  const planted = Array.from({ length: COLS }, (_, i) => 10 * (i + 1) ** -0.6);
  const next = seededRandom(3);
  const weights = buildSafetensors([
    {
      name: EMBEDDING,
      shape: [ROWS, COLS],
      data: Float32Array.from(matrixWithSingularValues(ROWS, COLS, planted, 7)),
    },
    {
      name: PROJECTION,
      shape: [COLS, COLS],
      data: Float32Array.from({ length: COLS * COLS }, () => next() - 0.5),
    },
  ]);
  root = await uploadZoo(services, `above-max-n-${run}`, [
    {
      dir: 'llama',
      files: [
        { name: 'model.safetensors', bytes: weights },
        { name: 'config.json', bytes: jsonBytes({ model_type: 'llama', tie_word_embeddings: true }) },
      ],
    },
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'weightlens-above-max-n-'));
  smallConfig = path.join(dir, 'small.json');
  // max_N below the embedding's 3000 rows (max_evals must stay ≤ max_N).
  writeFileSync(smallConfig, JSON.stringify({ maxN: 2000, maxEvals: 1000 }));
});
afterAll(async () => {
  await prisma?.$disconnect();
});

async function sweep(name: string, flags: string[]) {
  const swept = await runCli(
    ['sweep', root, ...flags, '--wait', '--local-worker', '--concurrency', '1', '--name', name],
    env,
  );
  expect(swept.code, swept.stderr).toBe(0);
  const record = await prisma.sweep.findFirstOrThrow({ where: { name } });
  const rows = await prisma.layerResult.findMany({
    where: { configHash: record.configHash, checkpoint: { sweeps: { some: { sweepId: record.id } } } },
    orderBy: { layerId: 'asc' },
  });
  const counts = /(\d+) layers computed, (\d+) reused/.exec(swept.stderr);
  expect(counts, swept.stderr).not.toBeNull();
  const row = (layer: string) => rows.find((r) => r.layerName === layer);
  return { record, rows, row, computed: Number(counts![1]), reused: Number(counts![2]) };
}

describe('sweep: tied embeddings and --above-max-n', () => {
  it('marks the tied embedding, skips N > max_N by default, analyzes it through WᵀW with gram', async () => {
    const plain = await sweep(`tied-${run}`, []);
    const embedding = plain.row(EMBEDDING)!;
    expect(embedding.status).toBe('succeeded');
    expect(decodeMetrics(embedding.metrics).tied_with).toBe('lm_head.weight');
    expect(decodeMetrics(plain.row(PROJECTION)!.metrics).tied_with).toBeUndefined();
    expect(plain.row('lm_head.weight')).toBeUndefined();

    const skipped = await sweep(`skip-${run}`, ['--config', smallConfig]);
    expect(skipped.row(EMBEDDING)).toMatchObject({ status: 'skipped', error: 'N = 3000 > max_N 2000' });

    const gram = await sweep(`gram-${run}`, ['--config', smallConfig, '--above-max-n', 'gram']);
    expect(gram.record.configHash).not.toBe(skipped.record.configHash);
    expect((gram.record.config as { aboveMaxN: string }).aboveMaxN).toBe('gram');
    expect(gram.computed).toBe(2);
    const row = gram.row(EMBEDDING)!;
    expect(row.status).toBe('succeeded');
    const metrics = decodeMetrics(row.metrics);
    expect(metrics.above_max_n).toBe('gram');
    expect(metrics.tied_with).toBe('lm_head.weight');
    expect([row.N, row.M, row.numEvals]).toEqual([ROWS, COLS, COLS]);
    expect(row.eigenBackend).toMatch(/^(native-syevd|ts)$/);
    // Round-off differs from the whole-matrix solve; the fit and the norms do not.
    for (const column of ['alpha', 'xmin', 'lambdaMax', 'logNorm', 'stableRank'] as const) {
      expect(Math.abs(row[column]! - embedding[column]!), column).toBeLessThan(
        1e-9 * Math.abs(embedding[column]!),
      );
    }

    const again = await sweep(`gram-again-${run}`, ['--config', smallConfig, '--above-max-n', 'gram']);
    expect(again.record.configHash).toBe(gram.record.configHash);
    expect([again.computed, again.reused]).toEqual([0, 2]);
  });
});
