/**
 * The leaderboard's version-keyed cache (db/dashboard/cache.ts) against the production build and
 * real Postgres, with plain fetch: results a sweep writes through db/ (a new checkpoint, a changed
 * score, a dropped summary, a new sweep in the filter) show on the very next request after the
 * write returns — the staleness bound is zero, also for requests that were in flight during the
 * write — and a page cached for an authorized client is never served to a refused one.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { deleteCheckpointSummary, upsertCheckpointSummary } from '../../db/results.ts';
import { readResultsVersion } from '../../db/results-version.ts';
import { addSweepCheckpoints, checkpointIdOf, createSweep } from '../../db/sweeps.ts';
import { applyMigrations } from '../../infra/migrate.ts';
import { recreateDatabase } from '../seed/scratch-database.ts';
import { type SeedResult, seedDashboardData } from '../seed/seed.ts';
import { freePort } from './cli-helpers.ts';

const services = inject('services');
const DATABASE = 'weightlens_dashboard_cache';
const TOKEN = `cache-${'c'.repeat(24)}-${process.pid}`;
const LONG = { timeout: 120_000 };

let databaseUrl: string;
let prisma: PrismaClient;
let seeded: SeedResult;
let anonymous: RunningDashboard;
let guarded: RunningDashboard;

beforeAll(async () => {
  databaseUrl = await recreateDatabase(services.databaseUrl, DATABASE);
  await applyMigrations(databaseUrl);
  prisma = createPrismaClient(databaseUrl);
  seeded = await seedDashboardData(prisma, {
    prefix: 'cache',
    checkpoints: 6,
    layersPerCheckpoint: 3,
    families: ['family-a'],
    esdCheckpoints: 0,
    esdSink: null,
    hostileNames: false,
    seed: 11,
  });
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  anonymous = await startDashboardServer({ databaseUrl }, { port: await freePort() });
  guarded = await startDashboardServer({ databaseUrl, dashboardToken: TOKEN }, { port: await freePort() });
}, 600_000);

afterAll(async () => {
  await anonymous?.stop();
  await guarded?.stop();
  await prisma?.$disconnect();
});

/** Ranked across families so the order of names in the HTML is the ranking. */
const BOARD = '/?across=1';

async function page(server: RunningDashboard, route = BOARD, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${route}`, { headers, redirect: 'manual' });
  return { status: response.status, body: await response.text() };
}

async function board(server: RunningDashboard = anonymous): Promise<string> {
  const { status, body } = await page(server);
  expect(status).toBe(200);
  return body;
}

/** What a sweep writes for one new checkpoint: the sweep, its checkpoint, then the summary. */
async function sweepWrites(name: string, alphaWeighted: number): Promise<{ checkpointId: string }> {
  const sweepId = `cache-sweep-${name}`;
  const configHash = `cache-config-${name}`;
  await createSweep(prisma, {
    id: sweepId,
    name: `sweep ${name}`,
    workflowId: `wf-${sweepId}`,
    sources: [`file:///zoo/${name}`],
    config: {},
    configHash,
  });
  const uri = `file:///zoo/${name}.safetensors`;
  const contentHash = `hash-${name}`;
  await addSweepCheckpoints(prisma, sweepId, [
    {
      uri,
      format: 'safetensors',
      files: [{ uri, size: 1 }],
      sizeBytes: 1,
      contentHash,
      metadata: { family: 'family-a' },
    },
  ]);
  const checkpointId = checkpointIdOf(uri, contentHash);
  await writeSummary(checkpointId, configHash, alphaWeighted);
  return { checkpointId };
}

async function writeSummary(checkpointId: string, configHash: string, alphaWeighted: number) {
  await upsertCheckpointSummary(prisma, {
    checkpointId,
    configHash,
    summary: { alpha: alphaWeighted, alpha_weighted: alphaWeighted },
    score: alphaWeighted,
    scoreMetric: 'alpha_weighted',
    layersAnalyzed: 3,
    layersFailed: 0,
    overTrained: 0,
    underTrained: 0,
    correlationTraps: 0,
  });
}

function position(html: string, name: string): number {
  const at = html.indexOf(name);
  expect(at, `${name} on the leaderboard`).toBeGreaterThan(-1);
  return at;
}

describe('leaderboard cache, invalidated by the results version', () => {
  it('shows a sweep’s new, changed and dropped results on the next request', LONG, async () => {
    const seededName = seeded.checkpoints[0]!.name;
    // Warm the cache: the same page twice.
    expect(await board()).toContain(seededName);
    const before = await board();
    expect(before).not.toContain('fresh-best');
    expect(before).not.toContain('sweep fresh');

    const versionBefore = await readResultsVersion(prisma);
    const { checkpointId } = await sweepWrites('fresh-best', 0.01);
    expect(await readResultsVersion(prisma)).toBeGreaterThan(versionBefore);
    const added = await board();
    // Lowest α-weighted ranks first; its sweep is a filter choice.
    expect(position(added, 'fresh-best.safetensors')).toBeLessThan(position(added, seededName));
    expect(added).toContain('sweep fresh-best');

    await writeSummary(checkpointId, 'cache-config-fresh-best', 99);
    const changed = await board();
    expect(position(changed, 'fresh-best.safetensors')).toBeGreaterThan(position(changed, seededName));

    await deleteCheckpointSummary(prisma, checkpointId, 'cache-config-fresh-best');
    const dropped = await board();
    expect(dropped).not.toContain('fresh-best.safetensors');
    expect(dropped).toContain(seededName);
  });

  it('requests in flight during a write never cache what the write replaced', LONG, async () => {
    const burst = () => Promise.all(Array.from({ length: 12 }, () => board()));
    const during = burst();
    await sweepWrites('burst-written', 0.02);
    await during;
    for (const html of await burst()) expect(html).toContain('burst-written.safetensors');
  });

  it('a cached page is never served to a request without credentials', LONG, async () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    for (let index = 0; index < 3; index++) {
      const warmed = await page(guarded, BOARD, bearer);
      expect(warmed.status).toBe(200);
      expect(warmed.body).toContain(seeded.checkpoints[0]!.name);
    }
    const refusals = [
      await page(guarded),
      await page(guarded, BOARD, { rsc: '1' }),
      await page(guarded, BOARD, { authorization: `Bearer ${TOKEN}x` }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(401);
      for (const checkpoint of seeded.checkpoints) expect(refused.body).not.toContain(checkpoint.name);
    }
    const browser = await page(guarded, BOARD, { accept: 'text/html' });
    expect(browser.status).toBe(303);
    expect(browser.body).not.toContain(seeded.checkpoints[0]!.name);
  });
});
