/**
 * The leaderboard's version-keyed caches — query results (db/dashboard/cache.ts) and rendered pages
 * (dashboard/page-cache.ts) — against the production build and real Postgres, with plain fetch:
 * results a sweep writes through db/ (a new checkpoint, a changed score, a dropped summary, a new
 * sweep in the filter) show on the very next request after the write returns — the staleness
 * bound is zero, also for requests that were in flight during the write — a page kept for an
 * authorized client is never served to a refused one, RSC requests are never answered with a
 * kept document, and the kept pages are bounded in number and in bytes.
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
/** Keeps 2 pages. */
let fewPages: RunningDashboard;
/** Keeps at most 1 KiB: no leaderboard page fits. */
let tinyPages: RunningDashboard;

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
  fewPages = await startDashboardServer(
    { databaseUrl, pageCache: { entries: 2 } },
    { port: await freePort() },
  );
  tinyPages = await startDashboardServer(
    { databaseUrl, pageCache: { megabytes: 1 / 1024 } },
    { port: await freePort() },
  );
}, 600_000);

afterAll(async () => {
  await anonymous?.stop();
  await guarded?.stop();
  await fewPages?.stop();
  await tinyPages?.stop();
  await prisma?.$disconnect();
});

/** Ranked across families so the order of names in the HTML is the ranking. */
const BOARD = '/?across=1';

async function page(server: RunningDashboard, route = BOARD, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${route}`, { headers, redirect: 'manual' });
  return {
    status: response.status,
    body: await response.text(),
    /** `hit`, `miss`, or null when the page cache did not answer. */
    cache: response.headers.get('x-weightlens-page-cache'),
    type: response.headers.get('content-type'),
    csp: response.headers.get('content-security-policy'),
  };
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

  it(
    'the next client gets the kept page; after a write, the next request renders the new result',
    LONG,
    async () => {
      const first = await page(anonymous);
      const kept = await page(anonymous);
      expect(kept.cache).toBe('hit');
      expect(kept.body).toBe(first.body);
      expect(kept.type).toMatch(/^text\/html/);
      expect(kept.csp).toContain("frame-ancestors 'none'");

      await sweepWrites('page-cache-new', 0.005);
      const rendered = await page(anonymous);
      expect(rendered.cache).toBe('miss');
      expect(position(rendered.body, 'page-cache-new.safetensors')).toBeLessThan(
        position(rendered.body, seeded.checkpoints[0]!.name),
      );
      const keptAgain = await page(anonymous);
      expect(keptAgain.cache).toBe('hit');
      expect(keptAgain.body).toContain('page-cache-new.safetensors');
    },
  );

  it(
    'RSC requests (client navigations) are rendered, never answered with a kept document',
    LONG,
    async () => {
      await page(anonymous);
      expect((await page(anonymous)).cache).toBe('hit');
      const requests: Record<string, string>[] = [{ rsc: '1' }, { rsc: '1', 'next-router-prefetch': '1' }];
      for (const headers of requests) {
        // Next answers an RSC request without its `_rsc` hash with a redirect to the URL with one;
        // fetch follows it with the same headers, as the router does.
        const response = await fetch(`${anonymous.url}${BOARD}`, { headers });
        await response.arrayBuffer();
        expect(new URL(response.url).searchParams.has('_rsc')).toBe(true);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/x-component/);
        expect(response.headers.get('x-weightlens-page-cache')).toBeNull();
      }
    },
  );

  it('keeps at most its bound of pages, the least recently used going first', LONG, async () => {
    const cacheOf = async (route: string) => (await page(fewPages, route)).cache;
    const sequence = [];
    for (const route of ['/?q=a', '/?q=b', '/?q=a', '/?q=c', '/?q=b', '/?q=c', '/?q=a']) {
      sequence.push(await cacheOf(route));
    }
    // b was the least recently used when c came, then a when b came back.
    expect(sequence).toEqual(['miss', 'miss', 'hit', 'miss', 'miss', 'hit', 'miss']);
  });

  it('a page larger than the byte bound is answered and not kept', LONG, async () => {
    const pages = [await page(tinyPages), await page(tinyPages)];
    for (const answered of pages) {
      expect(answered.status).toBe(200);
      expect(answered.body).toContain(seeded.checkpoints[0]!.name);
      expect(answered.cache).toBe('miss');
    }
  });

  it('a cached page is never served to a request without credentials', LONG, async () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const warmed = [];
    for (let index = 0; index < 3; index++) {
      const answered = await page(guarded, BOARD, bearer);
      expect(answered.status).toBe(200);
      expect(answered.body).toContain(seeded.checkpoints[0]!.name);
      warmed.push(answered.cache);
    }
    expect(warmed.slice(1)).toEqual(['hit', 'hit']);
    const refusals = [
      await page(guarded),
      await page(guarded, BOARD, { rsc: '1' }),
      await page(guarded, BOARD, { authorization: `Bearer ${TOKEN}x` }),
      await page(guarded, BOARD, { 'x-weightlens-page-render': '1' }),
      await page(guarded, BOARD, { cookie: 'weightlens_session=forged' }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(401);
      expect(refused.cache).toBeNull();
      for (const checkpoint of seeded.checkpoints) expect(refused.body).not.toContain(checkpoint.name);
    }
    const browser = await page(guarded, BOARD, { accept: 'text/html' });
    expect(browser.status).toBe(303);
    expect(browser.body).not.toContain(seeded.checkpoints[0]!.name);
  });
});
