/**
 * The dashboard end to end: a real sweep (CLI → Temporal → worker → S3 + Postgres) over a small
 * zoo, the production build served by `next start`, and Debian's Chromium checking that each page
 * shows the database's numbers, that sorting/filtering work, and that an HTML payload in a
 * checkpoint or layer name stays text. Screenshots go to test-output/dashboard/.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { formatNumber } from '../../dashboard/view/format.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { ACROSS_FAMILIES_NOTE, NO_FAMILY, WITHIN_FAMILIES_NOTE } from '../../db/family-rank.ts';
import { sweepLayerProgress } from '../../db/layer-progress.ts';
import type { LeaderboardRow } from '../../db/leaderboard.ts';
import { decodeMetrics } from '../../db/results.ts';
import { parseWarning } from '../../lib/spectral/flags.ts';
import { kendallTauB } from '../../lib/stats/rank-correlation.ts';
import { freePort, runCli } from './cli-helpers.ts';
import {
  clickThrough,
  dashboardZoo,
  HOSTILE_NAME,
  launchChromium,
  screenshot,
  watchedPage,
} from './dashboard-fixtures.ts';
import { servicesEnv, uploadZoo } from './sweep-harness.ts';

const services = inject('services');
const sweepName = `dashboard-e2e-${Date.now()}`;

let prisma: PrismaClient;
let server: RunningDashboard;
let browser: Browser;
let sweep: { id: string; configHash: string; workflowId: string };

/** The sweep's summaries ranked the way the leaderboard ranks by default (alpha_weighted, lower first). */
async function rankedSummaries() {
  return prisma.checkpointSummary.findMany({
    where: { configHash: sweep.configHash, checkpoint: { sweeps: { some: { sweepId: sweep.id } } } },
    include: { checkpoint: true },
    orderBy: [{ alphaWeighted: { sort: 'asc', nulls: 'last' } }],
  });
}

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  const source = await uploadZoo(services, `dashboard-e2e/${Date.now()}`, dashboardZoo());
  const run = await runCli(
    ['sweep', source, '--wait', '--local-worker', '--concurrency', '2', '--name', sweepName],
    servicesEnv(services),
  );
  if (run.code !== 0) throw new Error(`sweep failed (${run.code}):\n${run.stderr}\n${run.stdout}`);
  const stored = await prisma.sweep.findFirst({ where: { name: sweepName } });
  if (!stored) throw new Error('the sweep left no row');
  sweep = stored;
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  server = await startDashboardServer(
    { databaseUrl: services.databaseUrl, s3: services.s3, temporalUiUrl: 'http://127.0.0.1:1' },
    { port: await freePort() },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await prisma?.$disconnect();
});

describe('dashboard on a real sweep', () => {
  it('leaderboard page: the order, ranks and names of `weightlens leaderboard --format json`, series as groups', async () => {
    const { page, errors } = await watchedPage(browser);
    const views: { cli: string[]; url: string; grouped: boolean }[] = [
      { cli: [], url: '', grouped: true },
      { cli: ['--across-families'], url: '&across=1', grouped: false },
      { cli: ['--metric', 'log_norm'], url: '&metric=log_norm', grouped: true },
    ];
    for (const view of views) {
      const run = await runCli(
        ['leaderboard', '--sweep', sweep.id, '--format', 'json', ...view.cli],
        servicesEnv(services),
      );
      expect(run.code, run.stderr).toBe(0);
      const expected = JSON.parse(run.stdout) as LeaderboardRow[];
      expect(expected.length).toBeGreaterThanOrEqual(8);
      await page.goto(`${server.url}/?sweep=${encodeURIComponent(sweep.id)}${view.url}`);
      const rows = page.getByTestId('leaderboard-row');
      await expect.poll(() => rows.count()).toBe(expected.length);
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-checkpoint-id')));
      expect(ids).toEqual(expected.map((row) => row.checkpoint_id));
      expect(await page.getByTestId('cell-name').allTextContents()).toEqual(
        expected.map((r) => r.checkpoint),
      );
      expect(await page.getByTestId('cell-rank').allTextContents()).toEqual(
        expected.map((r) => String(r.rank)),
      );
      expect(await page.getByTestId('cell-rank-in-family').allTextContents()).toEqual(
        expected.map((r) => String(r.rank_in_family)),
      );
      const metric = expected[0]!.metric;
      expect(await page.getByTestId(`cell-${metric}`).allTextContents()).toEqual(
        expected.map((r) => formatNumber(r.score)),
      );
      const families = [...new Set(expected.map((r) => r.family ?? NO_FAMILY))];
      const headers = await page.getByTestId('series-header').allTextContents();
      expect(headers).toEqual(
        view.grouped ? families.map((f) => `series ${f}, ranked within the series`) : [],
      );
      expect(await page.getByTestId('series-note').textContent()).toBe(
        view.grouped ? WITHIN_FAMILIES_NOTE : ACROSS_FAMILIES_NOTE,
      );
    }
    // The stored values, independently of both: the sweep's summaries, lower mean alpha_weighted first.
    const stored = await rankedSummaries();
    await page.goto(`${server.url}/?sweep=${encodeURIComponent(sweep.id)}&across=1`);
    const rows = page.getByTestId('leaderboard-row');
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-checkpoint-id')));
    expect(ids).toEqual(stored.map((summary) => summary.checkpointId));
    expect(await page.getByTestId('cell-alpha_weighted').allTextContents()).toEqual(
      stored.map((summary) => formatNumber(summary.alphaWeighted)),
    );
    await expect.poll(() => page.getByTestId('total').textContent()).toContain(`${stored.length} checkpoint`);
    const failedRow = rows.filter({ has: page.locator('.badge.failed') });
    expect(await failedRow.count()).toBe(stored.filter((summary) => summary.layersFailed > 0).length);
    await page.goto(`${server.url}/?sweep=${encodeURIComponent(sweep.id)}`);
    await screenshot(page, 'leaderboard');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('sorts by a column in both directions and filters by family and search', async () => {
    const { page } = await watchedPage(browser);
    await page.goto(`${server.url}/?sweep=${encodeURIComponent(sweep.id)}`);
    await clickThrough(page, page.getByTestId('sort-step'), /sort=step/);
    const stepsOf = async () => (await page.getByTestId('cell-step').allTextContents()).map(Number);
    const ascending = await stepsOf();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await expect.poll(() => page.getByTestId('sort-step').getAttribute('href')).toMatch(/dir=desc/);
    await clickThrough(page, page.getByTestId('sort-step'), /dir=desc/);
    const descending = await stepsOf();
    expect(descending).toEqual([...ascending].sort((a, b) => b - a));

    await page.getByTestId('filter-family').selectOption('mlp-b');
    await clickThrough(page, page.getByTestId('apply'), /family=mlp-b/);
    const mlpB = await prisma.checkpointSummary.count({
      where: {
        configHash: sweep.configHash,
        checkpoint: { family: 'mlp-b', sweeps: { some: { sweepId: sweep.id } } },
      },
    });
    expect(await page.getByTestId('leaderboard-row').count()).toBe(mlpB);
    const families = await page.getByTestId('cell-family').allTextContents();
    expect(new Set(families)).toEqual(new Set(['mlp-b']));
    await screenshot(page, 'leaderboard-filtered');

    await page.goto(
      `${server.url}/?sweep=${encodeURIComponent(sweep.id)}&q=${encodeURIComponent('onerror')}`,
    );
    expect(await page.getByTestId('leaderboard-row').count()).toBe(1);
    await page.close();
  });

  it('shows a checkpoint and a layer named with an HTML payload as text, with no dialog', async () => {
    const hostile = await prisma.checkpoint.findFirstOrThrow({
      where: { family: 'hostile', sweeps: { some: { sweepId: sweep.id } } },
    });
    const { page, dialogs, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/?sweep=${encodeURIComponent(sweep.id)}&q=onerror`);
    await expect.poll(() => page.getByTestId('cell-name').first().textContent()).toContain(HOSTILE_NAME);
    await page.goto(`${server.url}/checkpoints/${encodeURIComponent(hostile.id)}`);
    expect(await page.getByTestId('checkpoint-uri').textContent()).toContain(HOSTILE_NAME);
    const layerNames = await page.getByTestId('layer-name').allTextContents();
    expect(layerNames).toContain(HOSTILE_NAME);
    // Nothing was parsed as markup: no <img src="x"> anywhere in the document.
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.waitForTimeout(500);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    // The NaN layer failed with its reason, shown on the page.
    const failed = await prisma.layerResult.findFirstOrThrow({
      where: { checkpointId: hostile.id, status: 'failed' },
    });
    await expect
      .poll(() => page.getByTestId('layers').textContent())
      .toContain(failed.error ?? '(no reason)');
    await screenshot(page, 'checkpoint-hostile');
    await page.close();
  });

  it('checkpoint page: per-layer values, alpha chart and the ESD read from S3', async () => {
    const [best] = await rankedSummaries();
    const layers = await prisma.layerResult.findMany({
      where: { checkpointId: best!.checkpointId, configHash: sweep.configHash },
      orderBy: { layerId: 'asc' },
    });
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/checkpoints/${encodeURIComponent(best!.checkpointId)}`);
    expect(await page.getByTestId('layer-row').count()).toBe(layers.length);
    expect(await page.getByTestId('layer-alpha').allTextContents()).toEqual(
      layers.map((layer) => formatNumber(layer.alpha)),
    );
    expect(await page.getByTestId('summary-alpha_weighted').textContent()).toContain(
      formatNumber(best!.alphaWeighted),
    );
    // Plot renders SVG in the browser: dots per analyzed layer, histogram bars for the ESD.
    const alphaDots = page.getByTestId('chart-alpha-by-layer').locator('svg circle');
    await expect.poll(() => alphaDots.count()).toBe(layers.filter((layer) => layer.alpha !== null).length);
    await expect.poll(() => page.getByTestId('chart-esd').locator('svg rect').count()).toBeGreaterThan(3);
    expect(await page.getByTestId('chart-esd').textContent()).toContain('xmin');
    await screenshot(page, 'checkpoint');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a registry metric (matrix_rank) is stored from the analysis and sorts the layer table; flags are stored', async () => {
    const [best] = await rankedSummaries();
    const layers = await prisma.layerResult.findMany({
      where: { checkpointId: best!.checkpointId, configHash: sweep.configHash },
      orderBy: { layerId: 'asc' },
    });
    const succeeded = layers.filter((layer) => layer.status === 'succeeded');
    expect(succeeded.length).toBeGreaterThan(1);
    for (const layer of succeeded) {
      expect(layer.matrixRank).toBe(decodeMetrics(layer.metrics).matrix_rank);
      expect(layer.flags).toEqual(parseWarning(layer.warning));
    }
    const expected = layers
      .map((layer, index) => ({ layer, index }))
      .sort((a, b) => {
        const x = a.layer.matrixRank;
        const y = b.layer.matrixRank;
        if (x === null || y === null) return Number(x === null) - Number(y === null) || a.index - b.index;
        return y - x || a.index - b.index;
      })
      .map(({ layer }) => layer.layerName);
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/checkpoints/${encodeURIComponent(best!.checkpointId)}`);
    await clickThrough(page, page.getByTestId('sort-matrix_rank'), /sort=matrix_rank/);
    // The URL changes before the sorted page renders: click the new link (it asks for desc), not the old one.
    await expect.poll(() => page.getByTestId('sort-matrix_rank').getAttribute('href')).toMatch(/dir=desc/);
    await clickThrough(page, page.getByTestId('sort-matrix_rank'), /dir=desc/);
    expect(await page.getByTestId('layer-name').allTextContents()).toEqual(expected);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trends, compare and metric-vs-accuracy pages show the sweep', async () => {
    const summaries = await rankedSummaries();
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/trends?sweep=${encodeURIComponent(sweep.id)}&family=mlp-a&family=mlp-b`);
    const inFamilies = summaries.filter((summary) =>
      ['mlp-a', 'mlp-b'].includes(summary.checkpoint.family ?? ''),
    );
    expect(await page.getByTestId('trend-count').textContent()).toContain(
      `${inFamilies.length} checkpoints in 2 series`,
    );
    await expect
      .poll(() => page.getByTestId('chart-trend').locator('svg circle').count())
      .toBe(inFamilies.length);
    await expect.poll(() => page.getByTestId('chart-heatmap').locator('svg rect').count()).toBeGreaterThan(0);
    await screenshot(page, 'trends');

    await page.goto(`${server.url}/?sweep=${encodeURIComponent(sweep.id)}`);
    const boxes = page.getByTestId('leaderboard-row').locator('input[type=checkbox]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await clickThrough(page, page.getByRole('button', { name: 'Compare selected' }), /\/compare\?/);
    expect(await page.getByTestId('compare-summary-row').count()).toBe(2);
    expect(await page.getByTestId('compare-layer-row').count()).toBeGreaterThan(0);
    await screenshot(page, 'compare');

    await page.goto(`${server.url}/accuracy?sweep=${encodeURIComponent(sweep.id)}`);
    const withAccuracy = summaries.filter((summary) => summary.checkpoint.knownTestAccuracy !== null);
    const tau = kendallTauB(
      withAccuracy.map((summary) => summary.alphaWeighted ?? Number.NaN),
      withAccuracy.map((summary) => summary.checkpoint.knownTestAccuracy!),
    );
    const row = page.locator('[data-testid=correlation-row][data-metric=alpha_weighted]');
    expect(await row.getByTestId('tau').textContent()).toBe(formatNumber(tau.value));
    await expect
      .poll(() => page.getByTestId('chart-accuracy-alpha_weighted').locator('svg circle').count())
      .toBe(tau.n);
    await screenshot(page, 'accuracy');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('sweep status shows progress, the failed layer with its reason and the Temporal link', async () => {
    const failed = await prisma.layerResult.findMany({
      where: {
        configHash: sweep.configHash,
        status: 'failed',
        checkpoint: { sweeps: { some: { sweepId: sweep.id } } },
      },
    });
    expect(failed.length).toBeGreaterThan(0);
    const { page } = await watchedPage(browser);
    await page.goto(`${server.url}/sweeps/${encodeURIComponent(sweep.id)}`);
    const status = (await prisma.sweep.findUniqueOrThrow({ where: { id: sweep.id } })).status;
    expect(await page.getByTestId('sweep-status').getAttribute('data-status')).toBe(status);
    expect(await page.getByTestId('sweep-status').textContent()).toBe(status.replaceAll('_', ' '));
    // Layers counted from their stored rows: every analyzable layer of the finished sweep is done.
    const stored = await sweepLayerProgress(prisma, sweep.id);
    expect(stored.layersTotal).toBeGreaterThan(0);
    if (status === 'completed') expect(stored.layersDone).toBe(stored.layersTotal);
    expect(await page.getByTestId('sweep-layer-progress').textContent()).toContain(
      `${stored.layersDone} / ${stored.layersTotal} layers stored`,
    );
    expect(await page.getByTestId('problem-layer-row').count()).toBe(failed.length);
    expect(await page.getByTestId('problem-layers').textContent()).toContain(failed[0]!.error ?? '');
    expect(await page.getByTestId('temporal-link').getAttribute('href')).toContain(
      encodeURIComponent(sweep.workflowId),
    );
    await screenshot(page, 'sweep-status');
    await page.close();
  });
});
