/**
 * The metric-vs-accuracy page in Chromium against the production build: two series with known
 * accuracies (and a checkpoint without a family) on their own database; the page shows each series
 * as a group with Kendall τ per registered metric — summary columns (α, Hill α, FARMS α) and a layer
 * metric without one (detX_num, the mean over analyzed layers of the latest config) — equal to τ
 * computed here by an independent formula. An unknown metric is an error on the page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { formatNumber } from '../../dashboard/view/format.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { NO_FAMILY } from '../../db/family-rank.ts';
import { applyMigrations } from '../../infra/migrate.ts';
import { recreateDatabase } from '../seed/scratch-database.ts';
import { freePort } from './cli-helpers.ts';
import { launchChromium, screenshot, watchedPage } from './dashboard-fixtures.ts';

const services = inject('services');
const CONFIG = 'accuracy-config';
const OLD_CONFIG = 'accuracy-old-config';

interface Planted {
  id: string;
  family: string | null;
  accuracy: number | null;
  alpha: number;
  alphaHill: number;
  alphaFarms: number | null;
  /** detX_num of each analyzed layer (the page shows their mean). */
  detX: number[];
}

const SERIES_A = 'series-a';
const SERIES_B = 'series-b';
const PLANTED: Planted[] = [
  { id: 'a1', family: SERIES_A, accuracy: 0.6, alpha: 5.0, alphaHill: 3.0, alphaFarms: 4.0, detX: [9, 11] },
  { id: 'a2', family: SERIES_A, accuracy: 0.7, alpha: 4.2, alphaHill: 3.5, alphaFarms: 3.0, detX: [12, 12] },
  { id: 'a3', family: SERIES_A, accuracy: 0.8, alpha: 4.4, alphaHill: 2.0, alphaFarms: 3.0, detX: [11, 14] },
  { id: 'a4', family: SERIES_A, accuracy: 0.9, alpha: 3.1, alphaHill: 2.5, alphaFarms: 2.0, detX: [15, 15] },
  { id: 'a5', family: SERIES_A, accuracy: 0.95, alpha: 2.6, alphaHill: 1.0, alphaFarms: 2.0, detX: [19, 21] },
  // No accuracy: never on the page.
  { id: 'a6', family: SERIES_A, accuracy: null, alpha: 9.0, alphaHill: 9.0, alphaFarms: 9.0, detX: [1, 1] },
  { id: 'b1', family: SERIES_B, accuracy: 0.3, alpha: 2.0, alphaHill: 1.5, alphaFarms: 2.5, detX: [4, 6] },
  { id: 'b2', family: SERIES_B, accuracy: 0.5, alpha: 3.0, alphaHill: 1.5, alphaFarms: null, detX: [3, 3] },
  { id: 'b3', family: SERIES_B, accuracy: 0.4, alpha: 4.0, alphaHill: 2.5, alphaFarms: 1.5, detX: [8, 2] },
  { id: 'b4', family: SERIES_B, accuracy: 0.8, alpha: 5.0, alphaHill: 3.5, alphaFarms: 3.5, detX: [7, 7] },
  { id: 'n1', family: null, accuracy: 0.5, alpha: 3.0, alphaHill: 2.0, alphaFarms: 2.0, detX: [5, 5] },
];

/**
 * Kendall's τ-b written from its textbook form, apart from lib/stats: (P − Q) / sqrt((P + Q + T)(P + Q + U))
 * with P concordant, Q discordant, T tied only in x, U tied only in y (pairs tied in both count nowhere).
 */
function independentTauB(x: number[], y: number[]): number | null {
  let concordant = 0;
  let discordant = 0;
  let tiedOnlyX = 0;
  let tiedOnlyY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = x[i]! - x[j]!;
      const dy = y[i]! - y[j]!;
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiedOnlyX++;
      else if (dy === 0) tiedOnlyY++;
      else if (dx * dy > 0) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt(
    (concordant + discordant + tiedOnlyX) * (concordant + discordant + tiedOnlyY),
  );
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}

function expectedTau(family: string | null, value: (planted: Planted) => number | null) {
  const members = PLANTED.filter(
    (planted) => planted.family === family && planted.accuracy !== null && value(planted) !== null,
  );
  return {
    n: members.length,
    tau: independentTauB(
      members.map((planted) => value(planted)!),
      members.map((planted) => planted.accuracy!),
    ),
  };
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

let databaseUrl: string;
let prisma: PrismaClient;
let server: RunningDashboard;
let browser: Browser;

beforeAll(async () => {
  databaseUrl = await recreateDatabase(services.databaseUrl, 'weightlens_dashboard_accuracy');
  await applyMigrations(databaseUrl);
  prisma = createPrismaClient(databaseUrl);
  await prisma.checkpoint.createMany({
    data: PLANTED.map((planted) => ({
      id: planted.id,
      uri: `s3://zoo/${planted.family ?? 'loose'}/${planted.id}/model.safetensors`,
      contentHash: `hash-${planted.id}`,
      format: 'safetensors',
      family: planted.family,
      knownTestAccuracy: planted.accuracy,
    })),
  });
  const latest = new Date();
  await prisma.checkpointSummary.createMany({
    data: PLANTED.map((planted) => ({
      checkpointId: planted.id,
      configHash: CONFIG,
      alpha: planted.alpha,
      alphaHill: planted.alphaHill,
      alphaFarms: planted.alphaFarms,
      computedAt: latest,
    })),
  });
  await prisma.layerResult.createMany({
    data: PLANTED.flatMap((planted) =>
      planted.detX.map((detXNum, layerId) => ({
        checkpointId: planted.id,
        configHash: CONFIG,
        layerName: `layers.${layerId}.weight`,
        layerId,
        layerType: 'dense',
        status: 'succeeded' as const,
        detXNum,
      })),
    ),
  });
  // An older analysis of a1 (another config): neither its summary nor its layers may reach the page.
  await prisma.checkpointSummary.create({
    data: {
      checkpointId: 'a1',
      configHash: OLD_CONFIG,
      alpha: 0.1,
      alphaHill: 0.1,
      computedAt: new Date(latest.getTime() - 3_600_000),
    },
  });
  await prisma.layerResult.create({
    data: {
      checkpointId: 'a1',
      configHash: OLD_CONFIG,
      layerName: 'layers.0.weight',
      layerId: 0,
      layerType: 'dense',
      status: 'succeeded',
      detXNum: 1000,
    },
  });
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  server = await startDashboardServer({ databaseUrl }, { port: await freePort() });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await prisma?.$disconnect();
});

async function shownCorrelation(page: Page, series: string, metric: string) {
  const row = page
    .locator(`[data-testid=accuracy-series][data-series="${series}"]`)
    .locator(`[data-testid=series-correlation-row][data-metric="${metric}"]`);
  const tau = row.getByTestId('tau');
  const value = await tau.getAttribute('data-value');
  return {
    n: Number(await row.getByTestId('n').textContent()),
    text: await tau.textContent(),
    value: value === '' || value === null ? null : Number(value),
  };
}

async function expectSeriesTau(
  page: Page,
  series: string | null,
  metric: string,
  value: (planted: Planted) => number | null,
): Promise<void> {
  const expected = expectedTau(series, value);
  const shown = await shownCorrelation(page, series ?? NO_FAMILY, metric);
  const where = `${series ?? NO_FAMILY} ${metric}`;
  expect(shown.n, where).toBe(expected.n);
  expect(shown.text, where).toBe(formatNumber(expected.tau));
  if (expected.tau === null) expect(shown.value, where).toBeNull();
  else expect(shown.value!, where).toBeCloseTo(expected.tau, 12);
}

describe('metric vs accuracy page', () => {
  it('groups by series and shows Kendall τ per series for summary metrics, estimators included', async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/accuracy`);
    expect(await page.getByTestId('accuracy-count').textContent()).toContain(
      '10 checkpoints with a known test accuracy in 3 series',
    );
    expect(await page.getByTestId('series-header').allTextContents()).toEqual([
      `series ${SERIES_A} (5 checkpoints)`,
      `series ${SERIES_B} (4 checkpoints)`,
      `series ${NO_FAMILY} (1 checkpoints)`,
    ]);
    for (const series of [SERIES_A, SERIES_B, null]) {
      await expectSeriesTau(page, series, 'alpha', (planted) => planted.alpha);
      await expectSeriesTau(page, series, 'alpha_hill', (planted) => planted.alphaHill);
      await expectSeriesTau(page, series, 'alpha_farms', (planted) => planted.alphaFarms);
    }
    // The planted series disagree: α falls with accuracy in one and rises in the other.
    expect((await shownCorrelation(page, SERIES_A, 'alpha')).value!).toBeLessThan(-0.5);
    expect((await shownCorrelation(page, SERIES_B, 'alpha')).value!).toBeGreaterThan(0.5);
    // Pooled across series too, below the groups.
    const pooled = PLANTED.filter((planted) => planted.accuracy !== null);
    const pooledTau = independentTauB(
      pooled.map((planted) => planted.alpha),
      pooled.map((planted) => planted.accuracy!),
    );
    const pooledRow = page.locator('[data-testid=correlation-row][data-metric=alpha]');
    expect(await pooledRow.getByTestId('tau').textContent()).toBe(formatNumber(pooledTau));
    await expect
      .poll(() => page.getByTestId('chart-accuracy-alpha_hill').locator('svg circle').count())
      .toBe(pooled.length);
    await screenshot(page, 'accuracy-series');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a layer metric without a summary column (detX_num): τ of its mean over the latest analysis', async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/accuracy?metric=detX_num`);
    expect(await page.getByTestId('series-correlation-row').count()).toBe(3);
    for (const series of [SERIES_A, SERIES_B, null]) {
      await expectSeriesTau(page, series, 'detX_num', (planted) => mean(planted.detX));
    }
    expect(await page.getByTestId('metric-select').inputValue()).toBe('detX_num');
    await expect
      .poll(() => page.getByTestId('chart-accuracy-detX_num').locator('svg circle').count())
      .toBe(10);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an unknown metric is an error naming it and the choices', async () => {
    const { page } = await watchedPage(browser);
    await page.goto(`${server.url}/accuracy?metric=alpha_bogus`);
    const error = await page.getByTestId('accuracy-error').textContent();
    expect(error).toContain('unknown metric "alpha_bogus"');
    expect(error).toContain('alpha_farms');
    expect(error).toContain('detX_num');
    expect(await page.getByTestId('series-correlation-row').count()).toBe(0);
    await page.close();
  });
});
