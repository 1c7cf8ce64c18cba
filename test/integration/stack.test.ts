/**
 * `weightlens stack up|down|status` through the real CLI on a private stack (own state folder, free
 * ports): cold start, idempotent second up, truthful status in every state, restart of one
 * service, down leaving no process behind, and one-line errors for bad configuration.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3Settings, type StackState, stackStateFromEnv } from '../../infra/paths.ts';
import { ensureBucket } from '../../infra/s3.ts';
import type { ServiceStatus } from '../../infra/service.ts';
import { stackDown, stackStatus, stackUp } from '../../infra/stack.ts';
import { type CliResult, freePort, occupyPort, runCli } from './cli-helpers.ts';

function byName(rows: ServiceStatus[]): Record<string, ServiceStatus> {
  return Object.fromEntries(rows.map((row) => [row.name, row]));
}

/** `stack status --json` from the CLI (each CLI run costs seconds on a loaded machine: used sparingly). */
function statusOf(result: CliResult): Record<string, ServiceStatus> {
  return byName(JSON.parse(result.stdout) as ServiceStatus[]);
}

/** Processes whose command line mentions `needle` (our services all carry the state folder). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function expectOneLineError(result: CliResult, mustMention: RegExp): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^weightlens: /);
  expect(lines[0]).toMatch(mustMention);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('stack lifecycle (real CLI, private stack)', () => {
  let env: NodeJS.ProcessEnv;
  let stateDir: string;
  let state: StackState;
  const statusNow = async () => byName(await stackStatus(state));

  beforeAll(async () => {
    // Postgres runs as an unprivileged user when we are root: the folder must be traversable.
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'weightlens-stack-test-'));
    chmodSync(stateDir, 0o755);
    env = {
      WEIGHTLENS_STATE_DIR: stateDir,
      WEIGHTLENS_TEMPORAL_PORT: String(await freePort()),
      WEIGHTLENS_TEMPORAL_UI_PORT: '0',
      WEIGHTLENS_S3_PORT: String(await freePort()),
      WEIGHTLENS_PG_PORT: String(await freePort()),
    };
    state = stackStateFromEnv({}, env);
  });

  afterAll(async () => {
    await runCli(['stack', 'down'], env);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports everything stopped before the first up', async () => {
    const status = await statusNow();
    expect(Object.keys(status).sort()).toEqual(['postgres', 's3', 'temporal']);
    for (const service of Object.values(status))
      expect(service).toMatchObject({ running: false, healthy: false });
  });

  it('starts from cold, then a second up is a no-op, and status tells the truth', async () => {
    const up = await runCli(['stack', 'up'], env);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`TEMPORAL_ADDRESS=127.0.0.1:${env.WEIGHTLENS_TEMPORAL_PORT}`);

    const first = await runCli(['stack', 'status', '--json'], env);
    expect(first.code).toBe(0);
    const before = statusOf(first);
    for (const service of Object.values(before)) {
      expect(service).toMatchObject({ running: true, healthy: true });
      expect(processesMentioning(stateDir)).toContain(service.pid);
    }

    const again = await runCli(['stack', 'up'], env);
    expect(again.code).toBe(0);
    const after = await statusNow();
    for (const name of ['postgres', 's3', 'temporal']) expect(after[name]?.pid).toBe(before[name]?.pid);
  });

  it('notices a service that died and restarts only that one', async () => {
    const before = await statusNow();
    process.kill(before.temporal!.pid!, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const broken = await runCli(['stack', 'status', '--json'], env);
    expect(broken.code).toBe(3);
    expect(statusOf(broken).temporal?.running).toBe(false);
    expect(statusOf(broken).postgres?.running).toBe(true);

    expect((await runCli(['stack', 'up', 'temporal'], env)).code).toBe(0);
    const healed = await statusNow();
    expect(healed.temporal?.running).toBe(true);
    expect(healed.temporal?.pid).not.toBe(before.temporal?.pid);
    expect(healed.s3?.pid).toBe(before.s3?.pid);
  });

  it('refuses a port that someone else holds, in one line that says what to do', async () => {
    await stackDown(state, ['s3']);
    const release = await occupyPort(Number(env.WEIGHTLENS_S3_PORT));
    try {
      expectOneLineError(await runCli(['stack', 'up', 's3'], env), /in use.*WEIGHTLENS_S3_PORT/);
    } finally {
      await release();
    }
    await stackUp(state, ['s3']);
    expect((await statusNow()).s3).toMatchObject({ running: true, healthy: true });
  });

  it('explains a missing binary in one line', async () => {
    await stackDown(state, ['temporal']);
    const missing = await runCli(['stack', 'up', 'temporal'], {
      ...env,
      WEIGHTLENS_TEMPORAL_BIN: path.join(stateDir, 'no-such-temporal'),
    });
    expectOneLineError(missing, /WEIGHTLENS_TEMPORAL_BIN/);
  });

  it('explains wrong S3 credentials in one line', async () => {
    const wrong = { ...localS3Settings(state), secretAccessKey: 'not-the-secret' };
    await expect(ensureBucket(wrong)).rejects.toThrow(/rejected the credentials.*AWS_SECRET_ACCESS_KEY/);
    await expect(ensureBucket(localS3Settings(state))).resolves.toBeUndefined();
  });

  it('explains wrong database credentials in one line', async () => {
    const url = `postgresql://weightlens:wrong-password@127.0.0.1:${env.WEIGHTLENS_PG_PORT}/weightlens`;
    expectOneLineError(
      await runCli(['db', 'migrate'], { ...env, DATABASE_URL: url }),
      /rejected.*DATABASE_URL/,
    );
  });

  it('down stops everything and leaves no process of ours', async () => {
    const down = await runCli(['stack', 'down'], env);
    expect(down.code).toBe(0);
    expect(processesMentioning(stateDir)).toEqual([]);
    const status = await runCli(['stack', 'status', '--json'], env);
    expect(status.code).toBe(3);
    for (const service of Object.values(statusOf(status))) expect(service).toMatchObject({ running: false });
  });
});
