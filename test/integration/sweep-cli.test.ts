/**
 * README's main job through the real CLI: `weightlens sweep <local dir> --wait` with an in-process
 * worker prints a ranked table; `leaderboard` (json/csv) and `status` read the same sweep back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectClient } from '../../workers/sweep-client.ts';
import { runCli } from './cli-helpers.ts';
import { syntheticZoo, writeZoo } from './sweep-fixtures.ts';
import { servicesEnv } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);

describe('weightlens sweep --wait over a local directory', () => {
  let dir: string;
  const zoo = syntheticZoo(3, { seed: 23 });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'weightlens-sweep-cli-'));
    await writeZoo(dir, zoo);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the sweep in-process, then ranks it in table, json and csv, and reports its status', async () => {
    const name = `cli-${path.basename(dir)}`;
    const swept = await runCli(['sweep', dir, '--wait', '--local-worker', '--name', name], env);
    expect(swept.code, swept.stderr).toBe(0);
    const tableRows = swept.stdout.split('\n').filter((line) => /^\s*\d+\s+\d+\s+step-/.test(line));
    expect(tableRows).toHaveLength(zoo.length);
    expect(swept.stdout).toContain(
      `series synthetic-mlp (${zoo.length} checkpoints), ranked within the series`,
    );
    const sweepId = /\(id (\S+), workflow/.exec(swept.stderr)?.[1];
    expect(sweepId, swept.stderr).toBeDefined();
    expect(swept.stderr).toContain(`Dashboard: http://127.0.0.1:3000/?sweep=${encodeURIComponent(sweepId!)}`);
    expect(swept.stderr).toMatch(/3 analyzed, 0 failed; 9 layers computed/);

    const board = await runCli(['leaderboard', '--sweep', name, '--format', 'json'], env);
    expect(board.code, board.stderr).toBe(0);
    const rows = JSON.parse(board.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.rank_in_family)).toEqual([1, 2, 3]); // one family
    const scores = rows.map((r) => r.score as number);
    expect([...scores].sort((a, b) => a - b)).toEqual(scores); // lower alpha_weighted ranks first
    for (const row of rows) {
      expect(row.metric).toBe('alpha_weighted');
      expect(row.score).toBe(row.alpha_weighted);
      expect(row.family).toBe('synthetic-mlp');
      expect(typeof row.known_test_accuracy).toBe('number');
      expect(String(row.uri)).toMatch(
        new RegExp(`^${pathToFileURL(dir).href}/step-\\d{4}/model\\.safetensors$`),
      );
    }

    const byAlpha = await runCli(
      ['leaderboard', '--sweep', name, '--metric', 'alpha', '--format', 'csv'],
      env,
    );
    expect(byAlpha.code, byAlpha.stderr).toBe(0);
    const [header, ...lines] = byAlpha.stdout.trim().split('\n');
    expect(header!.split(',').slice(0, 8)).toEqual([
      'rank',
      'rank_in_family',
      'checkpoint',
      'uri',
      'family',
      'step',
      'score',
      'metric',
    ]);
    expect(lines).toHaveLength(zoo.length);

    const unknown = await runCli(['leaderboard', '--sweep', name, '--metric', 'no_such_metric'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown metric "no_such_metric"/);

    const status = await runCli(['status', name, '--format', 'json'], env);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { status: string; checkpoints: { succeeded: number } };
    expect(report.status).toBe('completed');
    expect(report.checkpoints.succeeded).toBe(zoo.length);
  });

  it('reports a sweep whose workflow was terminated outside weightlens as terminated, not running', async () => {
    const name = `cli-terminated-${path.basename(dir)}`;
    // No worker serves the queue in this file, so the workflow stays open until it is terminated.
    const started = await runCli(['sweep', dir, '--name', name], env);
    expect(started.code, started.stderr).toBe(0);
    const before = JSON.parse((await runCli(['status', name, '--format', 'json'], env)).stdout) as {
      status: string;
      workflow_id: string;
    };
    expect(['running', 'pending']).toContain(before.status);
    const temporal = await connectClient(services);
    try {
      await temporal.client.workflow.getHandle(before.workflow_id).terminate('test: ended from outside');
    } finally {
      await temporal.close();
    }
    const json = await runCli(['status', name, '--format', 'json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { status: string }).status).toBe('terminated');
    const table = await runCli(['status', name], env);
    expect(table.stdout).toMatch(new RegExp(`sweep ${name} \\(.*\\): terminated`));
    expect(table.stdout).toMatch(
      /its workflow was terminated outside weightlens, so the record stayed "(running|pending)"/,
    );
  });

  it('rejects contradictory curvature options with a clear one-line error instead of ignoring them', async () => {
    const two = await runCli(
      ['sweep', dir, '--curvature', 'gpu', '--curvature-random', '--curvature-distilled'],
      env,
    );
    expect(two.code).not.toBe(0);
    expect(two.stderr.trim()).toMatch(
      /^weightlens: choose at most one of --curvature-data <uri>, --curvature-random/,
    );
    const off = await runCli(['sweep', dir, '--curvature-random'], env);
    expect(off.code).not.toBe(0);
    expect(off.stderr.trim()).toMatch(
      /^weightlens: a curvature data source was given but --curvature is off$/,
    );
  });
});
