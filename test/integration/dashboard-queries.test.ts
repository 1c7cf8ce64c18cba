/**
 * The dashboard's SQL against real Postgres, on its own database (created on the test stack's
 * server, migrated with the project's migrations, dropped afterwards) seeded with synthetic sweeps:
 * ranking, sorting, filtering and pagination of the leaderboard, trends and heatmap sampling,
 * sweep status, accuracy correlations and comparisons agree with the rows themselves.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { correlations, fetchAccuracyPoints } from '../../db/dashboard/accuracy.ts';
import { fetchCheckpointDetail } from '../../db/dashboard/checkpoint.ts';
import { fetchComparison } from '../../db/dashboard/compare.ts';
import { fetchLeaderboard, parseLeaderboardQuery } from '../../db/dashboard/leaderboard.ts';
import { fetchSweepStatus } from '../../db/dashboard/sweeps.ts';
import { fetchHeatmap, fetchTrend, HEATMAP_MAX_STEPS } from '../../db/dashboard/trends.ts';
import { applyMigrations } from '../../infra/migrate.ts';
import { kendallTauB } from '../../lib/stats/rank-correlation.ts';
import { type SeedResult, seedDashboardData } from '../seed/seed.ts';

const services = inject('services');
const database = `dashboard_queries_${process.pid}_${Date.now()}`;
const CHECKPOINTS = 260;
const LAYERS = 6;

let prisma: PrismaClient;
let seeded: SeedResult;

async function admin(sql: string): Promise<void> {
  const url = new URL(services.databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(services.databaseUrl);
  url.pathname = `/${database}`;
  await applyMigrations(url.toString());
  prisma = createPrismaClient(url.toString());
  seeded = await seedDashboardData(prisma, {
    prefix: 'q',
    checkpoints: CHECKPOINTS,
    layersPerCheckpoint: LAYERS,
    families: ['fam-a', 'fam-b'],
    esdCheckpoints: 0,
    esdSink: null,
    hostileNames: true,
    seed: 11,
  });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

async function sweepSummaries() {
  return prisma.checkpointSummary.findMany({
    where: { configHash: seeded.configHash },
    include: { checkpoint: true },
  });
}

describe('leaderboard SQL', () => {
  it('ranks every summary by alpha_weighted (lower first) across families when asked, and paginates', async () => {
    const expected = (await sweepSummaries()).sort((a, b) => a.alphaWeighted! - b.alphaWeighted!);
    const first = await fetchLeaderboard(
      prisma,
      parseLeaderboardQuery({ sweep: seeded.sweepId, across: '1' }),
    );
    expect(first.total).toBe(CHECKPOINTS);
    expect(first.rows.map((row) => row.checkpoint_id)).toEqual(
      expected.slice(0, first.query.pageSize).map((summary) => summary.checkpointId),
    );
    expect(first.rows.map((row) => row.rank)).toEqual(first.rows.map((_, index) => index + 1));
    const third = await fetchLeaderboard(
      prisma,
      parseLeaderboardQuery({ sweep: seeded.sweepId, across: '1', page: '3' }),
    );
    const offset = 2 * third.query.pageSize;
    expect(third.rows.map((row) => row.checkpoint_id)).toEqual(
      expected.slice(offset, offset + third.query.pageSize).map((summary) => summary.checkpointId),
    );
    expect(third.rows[0]!.rank).toBe(offset + 1);
  });

  it('ranks by another metric with "higher is better" and keeps that rank when sorted by a column', async () => {
    const expected = (await sweepSummaries()).sort((a, b) => b.logNorm! - a.logNorm!);
    const rankOf = new Map(expected.map((summary, index) => [summary.checkpointId, index + 1]));
    const page = await fetchLeaderboard(
      prisma,
      parseLeaderboardQuery({ metric: 'log_norm', better: 'higher', sort: 'step', dir: 'desc' }),
    );
    const steps = page.rows.map((row) => row.step!);
    expect(steps).toEqual([...steps].sort((a, b) => b - a));
    for (const row of page.rows) expect(row.rank).toBe(rankOf.get(row.checkpoint_id));
  });

  it('filters by family and searches names case-insensitively, treating % and _ literally', async () => {
    const famB = (await sweepSummaries()).filter((summary) => summary.checkpoint.family === 'fam-b');
    const filtered = await fetchLeaderboard(prisma, parseLeaderboardQuery({ family: 'fam-b' }));
    expect(filtered.total).toBe(famB.length);
    expect(new Set(filtered.rows.map((row) => row.family))).toEqual(new Set(['fam-b']));
    const searched = await fetchLeaderboard(prisma, parseLeaderboardQuery({ q: 'ONERROR' }));
    expect(searched.rows.map((row) => row.checkpoint_id)).toEqual([seeded.checkpoints[0]!.id]);
    expect((await fetchLeaderboard(prisma, parseLeaderboardQuery({ q: '%' }))).total).toBe(0);
  });

  it('puts the newest curvature run beside the spectral metrics', async () => {
    const curvatures = await prisma.curvatureResult.findMany({ where: { status: 'succeeded' } });
    const page = await fetchLeaderboard(
      prisma,
      parseLeaderboardQuery({ sweep: seeded.sweepId, sort: 'hessian_top', dir: 'desc' }),
    );
    const expectedTop = curvatures.map((row) => row.topEigenvalues[0]!).sort((a, b) => b - a);
    expect(page.rows.slice(0, expectedTop.length).map((row) => row.hessian_top)).toEqual(
      expectedTop.slice(0, page.rows.length),
    );
    expect(page.rows.filter((row) => row.hessian_top === null)).toHaveLength(
      Math.max(0, page.rows.length - curvatures.length),
    );
  });

  it('shows warnings and failed layers as stored', async () => {
    const stored = await sweepSummaries();
    const page = await fetchLeaderboard(prisma, parseLeaderboardQuery({ sort: 'failed', dir: 'desc' }));
    const withFailures = stored.filter((summary) => summary.layersFailed > 0).length;
    expect(withFailures).toBeGreaterThan(0);
    expect(page.rows.filter((row) => row.layers_failed > 0)).toHaveLength(withFailures);
  });
});

describe('other pages’ SQL', () => {
  it('checkpoint detail lists every layer with its stored metrics, failed ones with the reason', async () => {
    const target = seeded.checkpoints[5]!;
    const detail = await fetchCheckpointDetail(prisma, target.id, null);
    const rows = await prisma.layerResult.findMany({
      where: { checkpointId: target.id, configHash: seeded.configHash },
      orderBy: { layerId: 'asc' },
    });
    expect(detail!.layers.map((layer) => layer.values.alpha)).toEqual(rows.map((row) => row.alpha));
    expect(detail!.layers.map((layer) => layer.values.xmin)).toEqual(rows.map((row) => row.xmin));
    expect(detail!.layers.find((layer) => layer.status === 'failed')?.error).toContain('NaN');
    expect(detail!.curvatures.length).toBe(1); // every 5th checkpoint has curvature
  });

  it('trend has one point per checkpoint of the family, in step order; heatmap samples long runs', async () => {
    const trend = await fetchTrend(prisma, { metric: 'alpha', families: ['fam-a'], sweepId: seeded.sweepId });
    expect(trend).toHaveLength(CHECKPOINTS / 2);
    expect(trend.map((point) => point.step)).toEqual(
      [...trend.map((point) => point.step)].sort((a, b) => a! - b!),
    );
    const heatmap = await fetchHeatmap(prisma, { metric: 'alpha', family: 'fam-a', sweepId: null });
    expect(heatmap.stepsTotal).toBe(CHECKPOINTS / 2);
    expect(heatmap.stepsShown).toBeLessThanOrEqual(HEATMAP_MAX_STEPS);
    expect(heatmap.stepsShown).toBeGreaterThan(HEATMAP_MAX_STEPS / 2);
  });

  it('accuracy correlations use every checkpoint with an accuracy', async () => {
    const points = await fetchAccuracyPoints(prisma, { sweepId: seeded.sweepId, family: null });
    expect(points).toHaveLength(CHECKPOINTS);
    const row = correlations(points).find((entry) => entry.metric === 'alpha')!;
    const stored = await sweepSummaries();
    const tau = kendallTauB(
      stored.map((summary) => summary.alpha!),
      stored.map((summary) => summary.checkpoint.knownTestAccuracy!),
    );
    expect(row.kendallTau).toBeCloseTo(tau.value!, 12);
    expect(row.kendallTau!).toBeLessThan(-0.3); // the seed makes accuracy fall with α
  });

  it('sweep status counts items and lists the running and failed layers with reasons', async () => {
    const status = await fetchSweepStatus(prisma, seeded.runningSweepId);
    expect(status!.itemCounts).toEqual({ succeeded: 1, running: 1, failed: 1 });
    expect(status!.layers.map((layer) => layer.status).sort()).toEqual(['failed', 'running']);
    const failed = status!.layers.find((layer) => layer.status === 'failed')!;
    expect(failed.layerName).toBe(seeded.failedLayer.layerName);
    expect(failed.error).toBe(seeded.failedLayer.error);
    expect(status!.temporalUrl).toContain(encodeURIComponent(`sweep-${seeded.runningSweepId}`));
  });

  it('compare matches layers by name across checkpoints', async () => {
    const ids = [seeded.checkpoints[10]!.id, seeded.checkpoints[11]!.id];
    const compared = await fetchComparison(prisma, ids);
    expect(compared.map((checkpoint) => checkpoint.id)).toEqual(ids);
    for (const checkpoint of compared) expect(checkpoint.layers.size).toBe(LAYERS);
    expect([...compared[0]!.layers.keys()]).toEqual([...compared[1]!.layers.keys()]);
  });
});
