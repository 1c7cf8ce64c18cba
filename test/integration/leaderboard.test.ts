/**
 * The one leaderboard query (`db/leaderboard.ts`) against real Postgres, on its own migrated
 * database: competition ranking with ties and missing values, rank_in_family, groups per family,
 * across-families order, filters, sorting by a column, pagination and a schedule's scope.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { leaderboard, leaderboardPage } from '../../db/leaderboard.ts';
import { applyMigrations } from '../../infra/migrate.ts';

const services = inject('services');
const database = `leaderboard_${process.pid}_${Date.now()}`;
const CONFIG = 'cfg-leaderboard';
const SWEEP = 'sweep-leaderboard';

let prisma: PrismaClient;

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

/** name, family, step, mean alpha_weighted (null: not computed), mean log_norm. */
const MEMBERS: [string, string | null, number, number | null, number][] = [
  ['a1', 'fam-a', 1, 3.0, 1.0],
  ['a2', 'fam-a', 2, 2.5, 1.5],
  ['a3', 'fam-a', 3, 2.5, 0.5], // ties a2 on alpha_weighted
  ['a4', 'fam-a', 4, null, 2.0],
  ['b1', 'fam-b', 1, 2.0, 3.0], // the best overall: fam-b's group comes first
  ['b2', 'fam-b', 2, 4.0, 2.5],
  ['n1', null, 7, 3.5, 0.1],
];

beforeAll(async () => {
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(services.databaseUrl);
  url.pathname = `/${database}`;
  await applyMigrations(url.toString());
  prisma = createPrismaClient(url.toString());
  await prisma.sweep.create({
    data: { id: SWEEP, name: SWEEP, workflowId: `wf-${SWEEP}`, sources: [], config: {}, configHash: CONFIG },
  });
  for (const [name, family, step, alphaWeighted, logNorm] of MEMBERS) {
    await prisma.checkpoint.create({
      data: {
        id: name,
        uri: `s3://zoo/${family ?? 'loose'}/${name}/model.safetensors`,
        contentHash: name,
        format: 'safetensors',
        family,
        step,
        summaries: { create: { configHash: CONFIG, alphaWeighted, logNorm, alpha: 3, layersAnalyzed: 2 } },
        sweeps: { create: { sweepId: SWEEP, status: 'succeeded' } },
      },
    });
  }
  // Another configuration of one checkpoint: not part of the sweep's results.
  await prisma.checkpointSummary.create({
    data: { checkpointId: 'b1', configHash: 'other', alphaWeighted: 0.1, layersAnalyzed: 2 },
  });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

const scope = { sweepId: SWEEP };
const triples = (rows: { checkpoint_id: string; rank: number; rank_in_family: number }[]) =>
  rows.map((r) => [r.checkpoint_id, r.rank, r.rank_in_family]);

describe('leaderboard query', () => {
  it('groups families by their best rank; ties share a rank (competition ranking), missing values last', async () => {
    const rows = await leaderboard(prisma, { scope });
    expect(triples(rows)).toEqual([
      ['b1', 1, 1],
      ['b2', 6, 2],
      ['a2', 2, 1],
      ['a3', 2, 1],
      ['a1', 4, 3],
      ['a4', 7, 4],
      ['n1', 5, 1],
    ]);
    expect(rows.find((r) => r.checkpoint_id === 'a4')!.score).toBeNull();
    expect(rows[0]!.checkpoint).toBe('b1/model.safetensors');
    expect(rows[0]!.alpha_weighted).toBe(2.0);
  });

  it('lists one ordering across families when asked, rank_in_family kept', async () => {
    const rows = await leaderboard(prisma, { scope, acrossFamilies: true });
    expect(triples(rows)).toEqual([
      ['b1', 1, 1],
      ['a2', 2, 1],
      ['a3', 2, 1],
      ['a1', 4, 3],
      ['n1', 5, 1],
      ['b2', 6, 2],
      ['a4', 7, 4],
    ]);
  });

  it('ranks by another registry metric and direction, filters by family and search', async () => {
    const byNorm = await leaderboard(prisma, { scope, metric: 'log_norm', acrossFamilies: true });
    expect(byNorm.map((r) => r.checkpoint_id)).toEqual(['n1', 'a3', 'a1', 'a2', 'a4', 'b2', 'b1']);
    expect(byNorm.every((r) => r.metric === 'log_norm' && r.score === r.log_norm)).toBe(true);
    const higher = await leaderboard(prisma, {
      scope,
      metric: 'log_norm',
      better: 'higher',
      acrossFamilies: true,
    });
    expect(higher.map((r) => r.checkpoint_id)).toEqual([...byNorm.map((r) => r.checkpoint_id)].reverse());
    const famA = await leaderboard(prisma, { scope, family: 'fam-a' });
    expect(triples(famA)).toEqual([
      ['a2', 1, 1],
      ['a3', 1, 1],
      ['a1', 3, 3],
      ['a4', 4, 4],
    ]);
    expect((await leaderboard(prisma, { scope, search: 'LOOSE' })).map((r) => r.checkpoint_id)).toEqual([
      'n1',
    ]);
    expect(await leaderboard(prisma, { scope, search: '%' })).toEqual([]);
  });

  it('sorts flat by a column keeping each rank, and pages with the total of the filtered rows', async () => {
    const bySteps = await leaderboard(prisma, { scope, sort: 'step', direction: 'desc' });
    expect(bySteps.map((r) => r.step)).toEqual([7, 4, 3, 2, 2, 1, 1]);
    expect(bySteps.find((r) => r.checkpoint_id === 'a3')!.rank).toBe(2);
    const all = await leaderboard(prisma, { scope });
    const page = await leaderboardPage(prisma, { scope, limit: 3, offset: 3 });
    expect(page.total).toBe(MEMBERS.length);
    expect(page.rows.map((r) => r.checkpoint_id)).toEqual(all.slice(3, 6).map((r) => r.checkpoint_id));
    const beyond = await leaderboardPage(prisma, { scope, limit: 3, offset: 30 });
    expect(beyond).toEqual({ rows: [], total: MEMBERS.length });
  });

  it("a schedule's scope and the whole database use the same ranking", async () => {
    expect(await leaderboard(prisma, { scope: { scheduleName: 'none' } })).toEqual([]);
    const everything = await leaderboard(prisma, { scope: { all: true }, acrossFamilies: true });
    expect(everything).toHaveLength(MEMBERS.length + 1);
    expect(everything[0]).toMatchObject({ checkpoint_id: 'b1', config_hash: 'other', rank: 1 });
  });
});
