/**
 * Issue 18, the crafted-corpus harness: the real CLI (`weightlens analyze <case> --format json`) as
 * a subprocess on every crafted input test/fixtures/hostile/corpus.ts discovers. Each must end with
 * rc ≠ 0 or a per-layer error in the JSON, at most 3 stderr lines naming the input, under 10 s of
 * CPU and 512 MB peak RSS (GNU time), and no byte or size of the planted secret beside it in any
 * output. CPU time rather than wall time: the shared machine's load stretches wall time (a hang
 * is still caught: the child is killed after HANG_MS).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverHostileCases, secretTells } from '../../fixtures/hostile/corpus.ts';

const launcher = fileURLToPath(new URL('../../../bin/weightlens.mjs', import.meta.url));
const GNU_TIME = '/usr/bin/time';
const CPU_LIMIT_S = 10;
const RSS_LIMIT_KB = 512 * 1024;
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
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      GNU_TIME,
      ['-f', '%U %S %M', '-o', timeFile, process.execPath, launcher, 'analyze', target, '--format', 'json'],
      {
        env: { ...process.env, WEIGHTLENS_PROGRESS: '0' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const [user, system, rss] = readFileSync(timeFile, 'utf8')
        .trim()
        .split('\n')
        .at(-1)!
        .split(' ')
        .map(Number);
      resolve({
        code,
        stdout,
        stderr,
        cpuSeconds: user! + system!,
        wallSeconds: (performance.now() - started) / 1000,
        maxRssKb: rss!,
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

const cases = await discoverHostileCases();
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('weightlens analyze on the crafted corpus', () => {
  it('discovers the crafted inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(16);
  });

  it.concurrent.each(cases.map((c) => [c.name, c] as const))(
    '%s',
    { timeout: CASE_TIMEOUT_MS },
    async (_name, hostile) => {
      const root = mkdtempSync(path.join(tmpdir(), 'wl-corpus-'));
      roots.push(root);
      const target = hostile.write(root);
      expect(existsSync(target)).toBe(true);
      const run = await limited(() => analyzeMeasured(target, path.join(root, 'time.txt')));
      const context = `${hostile.name}: rc ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout.slice(0, 400)}`;
      expect(run.code !== 0 || reportsAnError(run.stdout), context).toBe(true);
      expect(run.code, context).not.toBeNull();
      const stderrLines = run.stderr.trim() === '' ? [] : run.stderr.trim().split('\n');
      expect(stderrLines.length, context).toBeLessThanOrEqual(3);
      if (run.code !== 0) expect(run.stderr, context).toContain(path.join(root, 'ckpt'));
      expect(run.cpuSeconds, `${hostile.name}: CPU s`).toBeLessThan(CPU_LIMIT_S);
      expect(run.maxRssKb, `${hostile.name}: peak RSS KB`).toBeLessThan(RSS_LIMIT_KB);
      for (const tell of secretTells()) {
        expect(run.stdout.includes(tell) || run.stderr.includes(tell), `${hostile.name} leaks ${tell}`).toBe(
          false,
        );
      }
      console.log(
        `${hostile.name}: rc ${run.code}, ${run.cpuSeconds.toFixed(2)} s CPU, ${run.wallSeconds.toFixed(1)} s wall, ${(run.maxRssKb / 1024).toFixed(0)} MB peak RSS`,
      );
    },
  );
});
