/**
 * The estimators as registry metrics, end to end: `sweep --estimators hill,farms,detx` through the
 * real pipeline stores alpha_hill / alpha_farms / detX / ERG in their typed LayerResult columns
 * (equal to the stored details row), their checkpoint means in CheckpointSummary, and the
 * leaderboard ranks by mean alpha_hill; the same zoo swept without estimators leaves them null.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import type { LeaderboardRow } from '../../db/leaderboard.ts';
import { decodeMetrics } from '../../db/results.ts';
import { columnOf, LAYER_METRICS } from '../../lib/metrics/registry.ts';
import { runCli } from './cli-helpers.ts';
import { syntheticZoo, writeZoo } from './sweep-fixtures.ts';
import { servicesEnv } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const ASKED = [
  'alpha_hill',
  'alpha_hill_xmin',
  'alpha_farms',
  'detX_num',
  'detX_val',
  'num_ERG_spikes',
  'ERG_gap',
];

let dir: string;
let prisma: PrismaClient;
const zoo = syntheticZoo(3, { seed: 41, family: 'estimators-mlp' });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'weightlens-estimators-'));
  await writeZoo(dir, zoo);
  prisma = createPrismaClient(services.databaseUrl);
});
afterAll(async () => {
  await prisma?.$disconnect();
  await rm(dir, { recursive: true, force: true });
});

async function sweepLayers(name: string) {
  const sweep = await prisma.sweep.findFirstOrThrow({ where: { name } });
  const layers = await prisma.layerResult.findMany({
    where: { configHash: sweep.configHash, checkpoint: { sweeps: { some: { sweepId: sweep.id } } } },
  });
  const summaries = await prisma.checkpointSummary.findMany({
    where: { configHash: sweep.configHash, checkpoint: { sweeps: { some: { sweepId: sweep.id } } } },
  });
  return { sweep, layers, summaries };
}

describe('estimators as registry metrics through a sweep', () => {
  it('stores every asked estimator in its column, summarizes Hill/FARMS α and ranks by them', async () => {
    const name = `estimators-${path.basename(dir)}`;
    const swept = await runCli(
      ['sweep', dir, '--wait', '--local-worker', '--estimators', 'hill,farms,detx', '--name', name],
      env,
    );
    expect(swept.code, swept.stderr).toBe(0);
    const { layers, summaries } = await sweepLayers(name);
    const succeeded = layers.filter((layer) => layer.status === 'succeeded');
    expect(succeeded.length).toBe(zoo.length * zoo[0]!.layerNames.length);
    for (const layer of succeeded) {
      const details = decodeMetrics(layer.metrics);
      for (const metric of ASKED) {
        expect(typeof details[metric], `${layer.layerName} ${metric}`).toBe('number');
        expect(layer[columnOf(metric) as keyof typeof layer], `${layer.layerName} ${metric}`).toBe(
          details[metric],
        );
      }
      expect(layer.trapSeverity).toBeNull(); // traps not asked
    }
    expect(summaries).toHaveLength(zoo.length);
    for (const summary of summaries) {
      const own = succeeded.filter((layer) => layer.checkpointId === summary.checkpointId);
      const mean = own.reduce((sum, layer) => sum + layer.alphaHill!, 0) / own.length;
      expect(summary.alphaHill).toBeCloseTo(mean, 12);
      expect(typeof summary.alphaFarms).toBe('number');
    }

    const board = await runCli(
      ['leaderboard', '--sweep', name, '--metric', 'alpha_hill', '--format', 'json'],
      env,
    );
    expect(board.code, board.stderr).toBe(0);
    const rows = JSON.parse(board.stdout) as LeaderboardRow[];
    expect(rows).toHaveLength(zoo.length);
    const scores = rows.map((row) => row.score!);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    for (const row of rows) {
      expect(row.score).toBe(row.alpha_hill);
      expect(row.alpha_farms).toBe(summaries.find((s) => s.checkpointId === row.checkpoint_id)!.alphaFarms);
    }
  });

  it('leaves every estimator column null when the sweep does not ask', async () => {
    const name = `no-estimators-${path.basename(dir)}`;
    const swept = await runCli(['sweep', dir, '--wait', '--local-worker', '--name', name], env);
    expect(swept.code, swept.stderr).toBe(0);
    const { layers, summaries } = await sweepLayers(name);
    expect(layers.length).toBeGreaterThan(0);
    const estimatorColumns = LAYER_METRICS.filter((m) => 'estimator' in m).map((m) => columnOf(m.name));
    expect(estimatorColumns).toHaveLength(ASKED.length + 1);
    for (const layer of layers) {
      for (const column of estimatorColumns) expect(layer[column as keyof typeof layer]).toBeNull();
    }
    for (const summary of summaries) expect([summary.alphaHill, summary.alphaFarms]).toEqual([null, null]);
  });
});
