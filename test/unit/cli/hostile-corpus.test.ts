/**
 * Issue 18, the crafted-corpus harness: the real CLI (`weightlens analyze <case> --format json`) as
 * a subprocess on every crafted input test/fixtures/hostile/corpus.ts discovers. Each must end with
 * rc ≠ 0 or a per-layer error in the JSON, at most 3 stderr lines, each naming the input, under
 * 10 s of CPU and 512 MB peak RSS (GNU time) for an input under 2 MB, and no byte or size of the
 * planted secret beside it in any output. CPU time is limited, not only measured: the child runs
 * under RLIMIT_CPU (prlimit), so a runaway input is stopped at the limit (SIGXCPU) however loaded
 * the machine is; wall time only guards against a child that sleeps (killed after HANG_MS). After
 * the corpus, one table reports each input's size, CPU time and peak RSS.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverHostileCases, secretTells } from '../../fixtures/hostile/corpus.ts';

const launcher = fileURLToPath(new URL('../../../bin/weightlens.mjs', import.meta.url));
const GNU_TIME = '/usr/bin/time';
const PRLIMIT = '/usr/bin/prlimit';
const CPU_LIMIT_S = 10;
const RSS_LIMIT_KB = 512 * 1024;
/** The must-show limits are claimed for inputs under this size. */
const INPUT_LIMIT_BYTES = 2 << 20;
const HANG_MS = 60_000;
/** Subprocesses at once (the CLI is CPU-bound; the machine is shared). */
const PARALLEL = 2;
/** Each case waits its turn behind the others: the timeout covers the whole queue. */
const CASE_TIMEOUT_MS = 900_000;

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  cpuSeconds: number;
  wallSeconds: number;
  maxRssKb: number;
  /** The signal that ended the CLI (SIGXCPU at the CPU limit), as GNU time reports it. */
  signal: number | undefined;
}

let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function analyzeMeasured(target: string, timeFile: string): Promise<Measured> {
  return runMeasured([launcher, 'analyze', target, '--format', 'json'], timeFile, CPU_LIMIT_S);
}

/** `node <args>` under GNU time and RLIMIT_CPU = `cpuLimitS` (soft: SIGXCPU; hard 1 s later: SIGKILL). */
function runMeasured(args: string[], timeFile: string, cpuLimitS: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      GNU_TIME,
      [
        '-f',
        '%U %S %M',
        '-o',
        timeFile,
        PRLIMIT,
        `--cpu=${cpuLimitS}:${cpuLimitS + 1}`,
        process.execPath,
        ...args,
      ],
      // Its own process group: a hung CLI is killed with GNU time, not orphaned.
      { env: { ...process.env, WEIGHTLENS_PROGRESS: '0' }, detached: true },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), HANG_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Killed with GNU time (a hang), there is no report: signal 9.
      const report = existsSync(timeFile)
        ? readFileSync(timeFile, 'utf8').trim().split('\n')
        : ['terminated by signal 9', 'NaN NaN NaN'];
      const [user, system, rss] = report.at(-1)!.split(' ').map(Number);
      const signal = /terminated by signal (\d+)/.exec(report.join('\n'))?.[1];
      resolve({
        code,
        stdout,
        stderr,
        cpuSeconds: user! + system!,
        wallSeconds: (performance.now() - started) / 1000,
        maxRssKb: rss!,
        signal: signal === undefined ? undefined : Number(signal),
      });
    });
  });
}

/** A per-layer error anywhere in the JSON (one report, or an array of reports and failures). */
function reportsAnError(stdout: string): boolean {
  if (stdout.trim() === '') return false;
  const parsed = JSON.parse(stdout) as unknown;
  const entries = (Array.isArray(parsed) ? parsed : [parsed]) as { error?: string; errors?: unknown[] }[];
  return entries.some((e) => e.error !== undefined || (e.errors?.length ?? 0) > 0);
}

/** Bytes of the files under `target` (a file or a directory). */
function inputBytes(target: string): number {
  const info = statSync(target);
  if (!info.isDirectory()) return info.size;
  return readdirSync(target, { recursive: true })
    .map((entry) => statSync(path.join(target, String(entry))))
    .reduce((n, s) => n + (s.isFile() ? s.size : 0), 0);
}

const cases = await discoverHostileCases();
const roots: string[] = [];
const measured: { name: string; bytes: number; run: Measured }[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  if (measured.length === 0) return;
  const rows = measured
    .sort((a, b) => b.run.cpuSeconds - a.run.cpuSeconds)
    .map(
      ({ name, bytes, run }) =>
        `${run.cpuSeconds.toFixed(2).padStart(6)} s  ${(run.maxRssKb / 1024).toFixed(0).padStart(4)} MB  ${String(bytes).padStart(8)} B  ${run.wallSeconds.toFixed(1).padStart(5)} s wall  rc ${run.code}  ${name}`,
    );
  const worstRss = Math.max(...measured.map((m) => m.run.maxRssKb)) / 1024;
  console.log(
    `crafted corpus: ${measured.length} inputs, CPU limit ${CPU_LIMIT_S} s (RLIMIT_CPU), peak RSS at most ${worstRss.toFixed(0)} MB\n` +
      `   CPU   peak RSS     input\n${rows.join('\n')}`,
  );
});

describe('weightlens analyze on the crafted corpus', () => {
  it('discovers the crafted inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(16);
  });

  it('the CPU limit stops a runaway child (SIGXCPU), reported as its signal', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'wl-corpus-'));
    roots.push(root);
    const run = await runMeasured(['-e', 'for (;;) {}'], path.join(root, 'time.txt'), 1);
    expect(run.signal).toBe(24);
    expect(run.cpuSeconds).toBeGreaterThan(0.5);
  });

  it.concurrent.each(cases.map((c) => [c.name, c] as const))(
    '%s',
    { timeout: CASE_TIMEOUT_MS },
    async (_name, hostile) => {
      const root = mkdtempSync(path.join(tmpdir(), 'wl-corpus-'));
      roots.push(root);
      const target = hostile.write(root);
      expect(existsSync(target)).toBe(true);
      const bytes = inputBytes(target);
      expect(bytes, `${hostile.name}: input bytes`).toBeLessThan(INPUT_LIMIT_BYTES);
      const run = await limited(() => analyzeMeasured(target, path.join(root, 'time.txt')));
      measured.push({ name: hostile.name, bytes, run });
      const context = `${hostile.name}: rc ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 400)}`;
      expect(
        run.signal,
        `${hostile.name}: stopped by signal ${run.signal} (24: the CPU limit)`,
      ).toBeUndefined();
      expect(run.code !== 0 || reportsAnError(run.stdout), context).toBe(true);
      expect(run.code, context).not.toBeNull();
      const stderrLines = run.stderr.trim() === '' ? [] : run.stderr.trim().split('\n');
      expect(stderrLines.length, context).toBeLessThanOrEqual(3);
      if (run.code !== 0) expect(stderrLines.length, context).toBeGreaterThan(0);
      for (const line of stderrLines) expect(line, context).toContain(path.join(root, 'ckpt'));
      expect(run.cpuSeconds, `${hostile.name}: CPU s`).toBeLessThan(CPU_LIMIT_S);
      expect(run.maxRssKb, `${hostile.name}: peak RSS KB`).toBeLessThan(RSS_LIMIT_KB);
      for (const tell of secretTells()) {
        expect(run.stdout.includes(tell) || run.stderr.includes(tell), `${hostile.name} leaks ${tell}`).toBe(
          false,
        );
      }
    },
  );
});
