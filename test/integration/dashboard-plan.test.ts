/**
 * The plan page in Chromium against the production build (issue 14): a plan stored through
 * db/plans.ts (solved by lib/plan from planted per-layer inputs, with its budget sweep) on its own
 * database; the checkpoint page links to it; the plan page shows each layer's bits, sparsity,
 * sensitivity and α as stored, the Hessian trace from the checkpoint's stored curvature run, and a
 * Pareto chart with one point per budget of the stored sweep (the page's plan ringed). A failed
 * plan shows its error.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { createPlanRecord, failPlanRecord, storePlanResult } from '../../db/plans.ts';
import { applyMigrations } from '../../infra/migrate.ts';
import { type Plan, type PlanLayerInput, type PlanOptions, planLayers } from '../../lib/plan/plan.ts';
import { budgetFrontier, type FrontierPoint } from '../../lib/plan/stored.ts';
import { recreateDatabase } from '../seed/scratch-database.ts';
import { freePort } from './cli-helpers.ts';
import { clickThrough, launchChromium, screenshot, watchedPage } from './dashboard-fixtures.ts';

const services = inject('services');
const CHECKPOINT = 'plan-ckpt';
const TRACES: Record<string, number> = { dense_1: 41.5, dense_2: 7.25, dense_3: 0.875 };

const options: PlanOptions = {
  method: 'alpha',
  bits: [2, 4, 8],
  avgBits: 3.5,
  sparsity: 0.25,
  scheme: 'symmetric',
  epsilon: 0.3,
};
const inputs: PlanLayerInput[] = [
  ['dense_1/kernel', 784 * 64, 2.4, 0.5],
  ['dense_2/kernel', 64 * 64, 3.9, 0.2],
  ['dense_3/kernel', 64 * 10, 5.8, 0.05],
].map(([name, params, alpha, scale]) => ({
  name: name as string,
  params: params as number,
  alpha: alpha as number,
  squaredNorm: 1,
  perturbation: new Map([
    [2, (scale as number) * 0.4],
    [4, (scale as number) * 0.05],
    [8, (scale as number) * 0.0005],
  ]),
}));

let databaseUrl: string;
let prisma: PrismaClient;
let server: RunningDashboard;
let browser: Browser;
let plan: Plan;
let frontier: FrontierPoint[];

beforeAll(async () => {
  databaseUrl = await recreateDatabase(services.databaseUrl, 'weightlens_dashboard_plan');
  await applyMigrations(databaseUrl);
  prisma = createPrismaClient(databaseUrl);
  await prisma.checkpoint.create({
    data: {
      id: CHECKPOINT,
      uri: 's3://zoo/mlp/step-0003/model.safetensors',
      contentHash: 'h',
      format: 'safetensors',
      family: 'mlp',
    },
  });
  await prisma.curvatureResult.create({
    data: {
      checkpointId: CHECKPOINT,
      configHash: 'curv-hash-0123456789',
      status: 'succeeded',
      dataSource: 'distilled',
      topEigenvalues: [12],
      layers: Object.entries(TRACES).map(([name, trace]) => ({ name, trace, parameters: 1 })),
    },
  });
  const ratios = [0.25, 0.25, 0.25];
  plan = await planLayers(inputs, ratios, options);
  frontier = await budgetFrontier(inputs, ratios, options);
  await createPlanRecord(prisma, {
    id: 'p-good',
    checkpointId: CHECKPOINT,
    workflowId: 'plan-p-good',
    options,
    configHash: 'cfg',
  });
  await storePlanResult(prisma, 'p-good', {
    plan,
    inputs: 'α from the spectral analysis',
    frontier,
    alpha: new Map(inputs.map((l) => [l.name, l.alpha!])),
  });
  await createPlanRecord(prisma, {
    id: 'p-bad',
    checkpointId: CHECKPOINT,
    workflowId: 'plan-p-bad',
    options: { ...options, avgBits: 1 },
    configHash: 'cfg',
  });
  await failPlanRecord(
    prisma,
    'p-bad',
    'BadInput: budget below the minimum: the feasible range is 2.0000–8.0000',
  );
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  server = await startDashboardServer({ databaseUrl }, { port: await freePort() });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await prisma?.$disconnect();
});

describe('plan page', () => {
  it('is linked from the checkpoint page and shows the stored plan, traces and its budget sweep', async () => {
    // The planted inputs make a real allocation: not every layer at one width.
    expect(new Set(plan.layers.map((l) => l.bits)).size).toBeGreaterThan(1);
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${server.url}/checkpoints/${CHECKPOINT}`);
    const links = page.getByTestId('plan-link');
    expect(await links.count()).toBe(2);
    await clickThrough(
      page,
      page.locator('[data-testid=plan-link][href="/plans/p-good"]'),
      /\/plans\/p-good$/,
    );
    expect(await page.getByTestId('plan-status').textContent()).toBe('succeeded');
    expect(await page.getByTestId('plan-avg-bits').locator('.value').textContent()).toBe(
      plan.avg_bits.toFixed(4),
    );
    expect(await page.getByTestId('plan-bytes').locator('.value').textContent()).toBe(String(plan.bytes));

    const rows = page.getByTestId('plan-layer');
    expect(await rows.count()).toBe(plan.layers.length);
    for (const [i, layer] of plan.layers.entries()) {
      const row = rows.nth(i);
      expect(await row.getAttribute('data-layer')).toBe(layer.name);
      expect(await row.getByTestId('bits').textContent()).toBe(String(layer.bits));
      expect(Number(await row.getByTestId('sparsity').getAttribute('data-value'))).toBe(layer.sparsity);
      expect(Number(await row.getByTestId('sensitivity').getAttribute('data-value'))).toBe(layer.sensitivity);
      expect(Number(await row.getByTestId('alpha').getAttribute('data-value'))).toBe(inputs[i]!.alpha);
      // dense_1/kernel's trace is the curvature run's dense_1 block.
      expect(Number(await row.getByTestId('trace').getAttribute('data-value'))).toBe(
        TRACES[layer.name.split('/')[0]!],
      );
    }
    // One point per stored budget, the page's plan ringed once.
    expect(frontier.length).toBe(25);
    const chart = page.getByTestId('chart-plan-frontier');
    await expect.poll(() => chart.locator('svg circle').count(), { timeout: 60_000 }).toBe(frontier.length);
    expect(await chart.locator('svg circle[r="6"]').count()).toBe(1);
    await screenshot(page, 'plan');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a failed plan shows why', async () => {
    const { page } = await watchedPage(browser);
    await page.goto(`${server.url}/plans/p-bad`);
    expect(await page.getByTestId('plan-status').textContent()).toBe('failed');
    expect(await page.getByTestId('plan-error').textContent()).toContain('feasible range is 2.0000–8.0000');
    expect(await page.getByTestId('plan-layers').count()).toBe(0);
    await page.close();
  });
});
