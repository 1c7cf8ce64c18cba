/**
 * The checkpoint page of a mixture-of-experts checkpoint in Chromium against the production build,
 * after real sweeps from S3: the α heatmap has one cell per stored expert row (layer × expert) with
 * that row's α, and each layer's mean and spread across experts are the stored expert-group
 * summary, equal to the mean/std of the stored rows computed here. Swept again with --base, the
 * page of that config says which base its results are relative to; the plain config's does not.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { EXPERT_GROUPS_KEY } from '../../db/results.ts';
import { buildSafetensors } from '../unit/formats/builders.ts';
import { plantedExperts } from '../unit/formats/moe-builders.ts';
import { freePort, runCli } from './cli-helpers.ts';
import { launchChromium, screenshot, watchedPage } from './dashboard-fixtures.ts';
import { servicesEnv, uploadZoo } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const run = `${Date.now()}-${process.pid}`;
const [ROWS, COLS] = [96, 48];
const GROUPS = ['model.layers.0.mlp.experts.down_proj', 'model.layers.1.mlp.experts.down_proj'];
const PLANTED = [
  [2.0, 3.5, 4.5, 5.5],
  [5.0, 3.5, 2.0, 4.0],
];

function moeCheckpoint(seed: number): Uint8Array {
  return buildSafetensors(
    GROUPS.map((name, i) => ({
      name,
      shape: [PLANTED[i]!.length, ROWS, COLS],
      data: plantedExperts(ROWS, COLS, PLANTED[i]!, seed + 31 * i),
    })),
  );
}

let prisma: PrismaClient;
let server: RunningDashboard;
let browser: Browser;
let root: string;

async function sweep(name: string, extra: string[]) {
  const swept = await runCli(
    ['sweep', `${root}/moe`, ...extra, '--wait', '--local-worker', '--concurrency', '1', '--name', name],
    env,
  );
  expect(swept.code, swept.stderr).toBe(0);
  return prisma.sweep.findFirstOrThrow({ where: { name } });
}

beforeAll(async () => {
  prisma = createPrismaClient(services.databaseUrl);
  root = await uploadZoo(services, `dashboard-experts-${run}`, [
    { dir: 'moe', files: [{ name: 'model.safetensors', bytes: moeCheckpoint(11) }] },
    { dir: 'moe-base', files: [{ name: 'model.safetensors', bytes: moeCheckpoint(500) }] },
  ]);
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  server = await startDashboardServer(
    { databaseUrl: services.databaseUrl, s3: services.s3 },
    { port: await freePort() },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await prisma?.$disconnect();
});

describe('checkpoint page of a mixture-of-experts checkpoint', () => {
  it('shows α per layer × expert from the stored rows and the stored per-layer mean and spread', async () => {
    const plain = await sweep(`experts-${run}`, []);
    const rows = await prisma.layerResult.findMany({
      where: {
        configHash: plain.configHash,
        layerType: 'expert',
        checkpoint: { uri: { startsWith: `${root}/moe/` } },
      },
    });
    expect(rows).toHaveLength(GROUPS.length * PLANTED[0]!.length);
    const checkpointId = rows[0]!.checkpointId;
    const summary = await prisma.checkpointSummary.findUniqueOrThrow({
      where: { checkpointId_configHash: { checkpointId, configHash: plain.configHash } },
    });
    const stored = (summary.metrics as Record<string, unknown>)[EXPERT_GROUPS_KEY] as {
      group: string;
      experts: number;
      alpha_mean: number;
      alpha_std: number;
    }[];
    expect(stored.map((g) => g.group)).toEqual(GROUPS);

    const { page, errors } = await watchedPage(browser);
    await page.goto(
      `${server.url}/checkpoints/${encodeURIComponent(checkpointId)}?config=${plain.configHash}`,
    );
    await page.getByTestId('expert-heatmap').waitFor({ timeout: 60_000 });
    await screenshot(page, 'checkpoint-experts');
    expect(await page.getByTestId('checkpoint-base').count()).toBe(0);
    for (const group of GROUPS) {
      const row = page.locator(`[data-testid=expert-row][data-group="${group}"]`);
      const cells = row.getByTestId('expert-cell');
      expect(await cells.count()).toBe(PLANTED[0]!.length);
      const alphas: number[] = [];
      for (let expert = 0; expert < PLANTED[0]!.length; expert++) {
        const stored = rows.find((r) => r.layerName === `${group}[${expert}]`)!;
        const shown = Number(await cells.nth(expert).getAttribute('data-value'));
        expect(await cells.nth(expert).getAttribute('data-expert')).toBe(String(expert));
        expect(shown, `${group}[${expert}]`).toBe(stored.alpha);
        alphas.push(stored.alpha!);
      }
      const mean = alphas.reduce((s, a) => s + a, 0) / alphas.length;
      const std = Math.sqrt(alphas.reduce((s, a) => s + (a - mean) ** 2, 0) / alphas.length);
      const summaryOfGroup = stored.find((g) => g.group === group)!;
      expect(summaryOfGroup.experts).toBe(alphas.length);
      expect(Number(await row.getByTestId('expert-mean').getAttribute('data-value'))).toBe(
        summaryOfGroup.alpha_mean,
      );
      expect(summaryOfGroup.alpha_mean).toBeCloseTo(mean, 12);
      expect(Number(await row.getByTestId('expert-std').getAttribute('data-value'))).toBe(
        summaryOfGroup.alpha_std,
      );
      expect(summaryOfGroup.alpha_std).toBeCloseTo(std, 12);
      // The expert planted with the smallest α (≥ 1.5 below the others) shows the smallest α.
      const planted = PLANTED[GROUPS.indexOf(group)]!;
      expect(alphas.indexOf(Math.min(...alphas))).toBe(planted.indexOf(Math.min(...planted)));
    }

    // The same checkpoint against a base: that config's page names the base.
    const delta = await sweep(`experts-base-${run}`, ['--base', `${root}/moe-base`]);
    expect(delta.configHash).not.toBe(plain.configHash);
    await page.goto(
      `${server.url}/checkpoints/${encodeURIComponent(checkpointId)}?config=${delta.configHash}`,
    );
    const base = page.getByTestId('checkpoint-base');
    await base.waitFor({ timeout: 60_000 });
    expect(await base.textContent()).toContain(`${root}/moe-base/model.safetensors`);
    expect(await page.getByTestId('expert-cell').count()).toBe(GROUPS.length * PLANTED[0]!.length);
    await screenshot(page, 'checkpoint-experts-base');
    expect(errors).toEqual([]);
  });
});
