/**
 * Scheduled sweeps through the real CLI, a real Temporal server (its Schedules), a worker process,
 * Postgres and a local webhook receiver: a `--every` schedule runs repeatedly, a later run computes
 * only the checkpoints that appeared since, an alert rule fires once per offending checkpoint of a
 * planted run and is delivered once, `pause` stops the runs, and the schedule survives a Temporal
 * server restart.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sweepWorkflowId } from '../../contracts/sweep.ts';
import { buildDashboardIfStale, startDashboardServer } from '../../dashboard/control.ts';
import { createPrismaClient } from '../../db/client.ts';
import { startTemporal, stopTemporal } from '../../infra/temporal.ts';
import { connectClient } from '../../workers/sweep-client.ts';
import { freePort, runCli } from './cli-helpers.ts';
import { launchChromium, screenshot, watchedPage } from './dashboard-fixtures.ts';
import { safetensorsBytes } from './sweep-fixtures.ts';
import { servicesEnv, startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './sweep-harness.ts';

const services = inject('services');
const stackState = inject('stackState');
const env = servicesEnv(services);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An N×M layer whose ESD is exactly the quantiles of a Pareto law with exponent `alpha` (density
 * ∝ λ^-alpha): singular values on the diagonal. The power-law fit recovers roughly `alpha`.
 */
function plantedLayer(rows: number, cols: number, alpha: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < cols; i++) {
    const lambda = (1 - (i + 0.5) / cols) ** (-1 / (alpha - 1));
    out[i * cols + i] = Math.sqrt(lambda);
  }
  return out;
}

/** One checkpoint directory of the planted run, written elsewhere and renamed in (appears whole). */
async function addCheckpoint(root: string, step: number, alpha: number): Promise<void> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'weightlens-staging-'));
  const tensors = [0, 1].map((i) => ({
    name: `layers.${i}.weight`,
    shape: [128, 64],
    data: plantedLayer(128, 64, alpha + i * 0.1),
  }));
  await writeFile(path.join(staging, 'model.safetensors'), safetensorsBytes(tensors));
  await writeFile(
    path.join(staging, 'weightlens.json'),
    JSON.stringify({ family: 'planted', run: 'r', step }),
  );
  await rename(staging, path.join(root, `checkpoint-${step}`));
}

interface Received {
  key: string | undefined;
  body: { rule: string; checkpoint: { step: number | null }; schedule: string };
}

describe('weightlens schedule (Temporal Schedules)', () => {
  const prisma = createPrismaClient(services.databaseUrl);
  const name = `sched-${process.pid}-${Date.now() % 100000}`;
  const received: Received[] = [];
  let root: string;
  let worker: WorkerProcess;
  let receiver: http.Server;
  let webhook: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'weightlens-schedule-'));
    await mkdir(root, { recursive: true });
    receiver = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString();
      });
      req.on('end', () => {
        received.push({ key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(text) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    webhook = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
    worker = await startWorkerProcess(services, { concurrency: 1 });
    // Built before the timed runs below (reused when other tests built it already).
    await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  });

  afterAll(async () => {
    await runCli(['schedule', 'delete', name], env);
    await stopWorkerProcess(worker);
    await new Promise((resolve) => receiver.close(resolve));
    await prisma.$disconnect();
    await rm(root, { recursive: true, force: true });
  });

  async function completedRuns() {
    return prisma.sweep.findMany({
      where: { scheduleName: name, status: { in: ['completed', 'failed'] } },
      orderBy: { createdAt: 'asc' },
    });
  }

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 120_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\n${worker.output().slice(-2000)}`);
      await sleep(500);
    }
  }

  it('refuses bad rules, timings and names with one clear line, creating nothing', async () => {
    const badRule = await runCli(
      ['schedule', 'create', name, root, '--every', '3s', '--alert', 'median(alpha) < 2'],
      env,
    );
    expect(badRule.code).not.toBe(0);
    expect(badRule.stderr.trim()).toBe(
      "weightlens: alert rule 'median(alpha) < 2': unknown function 'median' (known: min, max, mean, delta)",
    );
    const badEvery = await runCli(['schedule', 'create', name, root, '--every', 'often'], env);
    expect(badEvery.stderr).toMatch(/--every 'often' is not a duration/);
    const neither = await runCli(['schedule', 'create', name, root], env);
    expect(neither.stderr).toMatch(/needs --every <duration> or --cron/);
    const badName = await runCli(['schedule', 'create', 'a b', root, '--every', '3s'], env);
    expect(badName.stderr).toMatch(/schedule name 'a b' must be/);
    const missing = await runCli(['schedule', 'describe', name], env);
    expect(missing.stderr).toMatch(new RegExp(`no schedule named '${name}'`));
  });

  it('runs on its interval, computes only new checkpoints, fires each alert once, and pauses', async () => {
    await addCheckpoint(root, 100, 4.0);
    const created = await runCli(
      ['schedule', 'create', name, root, '--every', '3s', '--alert', 'min(alpha) < 2', '--webhook', webhook],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const duplicate = await runCli(['schedule', 'create', name, root, '--every', '3s'], env);
    expect(duplicate.stderr).toMatch(/already exists/);

    const first = await waitFor('the first run', async () => (await completedRuns())[0]);
    expect(first.status).toBe('completed');
    expect(first.checkpointsTotal).toBe(1);

    // α drifts below 2 at step 300 of the planted run.
    await addCheckpoint(root, 200, 3.0);
    await addCheckpoint(root, 300, 1.6);
    const seeingAll = await waitFor('a run that sees the new checkpoints', async () =>
      (await completedRuns()).find((s) => s.checkpointsTotal === 3),
    );
    // And one more run after it: nothing new, so nothing computed and no alert again.
    await waitFor('a later run', async () => {
      const runs = await completedRuns();
      return runs.findIndex((s) => s.id === seeingAll.id) < runs.length - 1 ? true : undefined;
    });

    const temporal = await connectClient(services);
    try {
      const runs = await completedRuns();
      expect(runs.length).toBeGreaterThanOrEqual(3);
      const results = [];
      for (const run of runs) {
        results.push(await temporal.client.workflow.getHandle(sweepWorkflowId(run.id)).result());
      }
      // Every layer is computed exactly once over all runs: later runs reuse what earlier ones stored.
      expect(results.reduce((n, r) => n + r.layersComputed, 0)).toBe(6);
      const index = runs.findIndex((s) => s.id === seeingAll.id);
      expect(results[index]).toMatchObject({ succeeded: 3, failed: 0, layersComputed: 4, layersReused: 2 });
      for (const r of results.slice(index + 1)) expect(r.layersComputed).toBe(0);
    } finally {
      await temporal.close();
    }

    // The planted step fired once, was delivered once, with its idempotency key; nothing else fired.
    const alerts = JSON.parse(
      (await runCli(['schedule', 'alerts', name, '--format', 'json'], env)).stdout,
    ) as {
      rule: string;
      step: number;
      delivered_at: string | null;
    }[];
    expect(alerts.map((a) => [a.rule, a.step])).toEqual([['min(alpha) < 2', 300]]);
    expect(alerts[0]!.delivered_at).not.toBeNull();
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toMatchObject({
      rule: 'min(alpha) < 2',
      schedule: name,
      checkpoint: { step: 300 },
    });
    expect(received[0]!.key).toMatch(/\S+/);

    // The schedule's leaderboard: every checkpoint its runs have seen, once, with its latest result.
    const board = await runCli(['leaderboard', '--schedule', name, '--format', 'json'], env);
    expect(board.code, board.stderr).toBe(0);
    const boardRows = JSON.parse(board.stdout) as { step: number; rank_in_family: number; score: number }[];
    expect(boardRows.map((r) => r.step).sort((a, b) => a - b)).toEqual([100, 200, 300]);
    expect(boardRows.map((r) => r.rank_in_family)).toEqual([1, 2, 3]);
    const noRuns = await runCli(['leaderboard', '--schedule', 'no-such-schedule'], env);
    expect(noRuns.stderr).toMatch(/schedule "no-such-schedule" has no runs yet/);

    // The dashboard shows the schedule, its alert and its runs (real Chromium on the production build).
    const server = await startDashboardServer(
      { databaseUrl: services.databaseUrl, s3: services.s3, temporalUiUrl: 'http://127.0.0.1:1' },
      { port: await freePort() },
    );
    const browser = await launchChromium();
    try {
      const { page, errors } = await watchedPage(browser);
      await page.goto(`${server.url}/schedules`);
      await expect.poll(() => page.getByTestId('schedule-row').filter({ hasText: name }).count()).toBe(1);
      await page.goto(`${server.url}/schedules/${encodeURIComponent(name)}`);
      const alertRows = page.getByTestId('alert-row');
      await expect.poll(() => alertRows.count()).toBe(1);
      expect(await alertRows.first().textContent()).toContain('min(alpha) < 2');
      expect(await alertRows.first().textContent()).toContain('checkpoint-300');
      expect(await page.getByTestId('run-row').count()).toBeGreaterThanOrEqual(3);
      await expect
        .poll(() => page.getByTestId('chart-schedule-trend').locator('svg').count())
        .toBeGreaterThan(0);
      await screenshot(page, 'schedule');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.stop();
    }

    const paused = await runCli(['schedule', 'pause', name], env);
    expect(paused.code, paused.stderr).toBe(0);
    await sleep(1_000); // a run already started when pausing may still finish
    const before = (await prisma.sweep.findMany({ where: { scheduleName: name } })).length;
    await sleep(7_000); // more than two intervals
    expect((await prisma.sweep.findMany({ where: { scheduleName: name } })).length).toBe(before);

    const described = JSON.parse(
      (await runCli(['schedule', 'describe', name, '--format', 'json'], env)).stdout,
    );
    expect(described).toMatchObject({ name, paused: true, timing: 'every 3s', alerts: ['min(alpha) < 2'] });
    expect(described.sweeps.length).toBe(before);
    // The dashboard's mirror of the schedule follows: paused, no next run, last run recorded.
    const record = await prisma.scheduleRecord.findUniqueOrThrow({ where: { name } });
    expect(record).toMatchObject({
      paused: true,
      nextRunAt: null,
      timing: 'every 3s',
      alerts: ['min(alpha) < 2'],
    });
    expect(record.lastRunAt).not.toBeNull();
  }, 480_000);

  it('survives a Temporal server restart (the dev server persists schedules)', async () => {
    await stopTemporal(stackState);
    await startTemporal(stackState);
    const listed = await waitFor('the schedule after the restart', async () => {
      const out = await runCli(['schedule', 'list', '--format', 'json'], env);
      if (out.code !== 0) return undefined;
      const rows = JSON.parse(out.stdout) as { name: string; paused: boolean }[];
      return rows.find((r) => r.name === name);
    });
    expect(listed.paused).toBe(true);
    const before = (await completedRuns()).length;
    const triggered = await runCli(['schedule', 'trigger', name], env);
    expect(triggered.code, triggered.stderr).toBe(0);
    // A triggered run starts even while paused, and (nothing new) computes nothing.
    await waitFor('the triggered run', async () =>
      (await completedRuns()).length > before ? true : undefined,
    );
    const deleted = await runCli(['schedule', 'delete', name], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await runCli(['schedule', 'describe', name], env);
    expect(gone.stderr).toMatch(/no schedule named/);
    expect((await prisma.scheduleRecord.findUniqueOrThrow({ where: { name } })).deletedAt).not.toBeNull();
  });
});
