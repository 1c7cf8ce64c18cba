/**
 * Building and serving the dashboard from Node (the CLI, the e2e test and the bench share this):
 * a production `next build` only when its inputs changed since the last build, then `next start`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportS3Env, type S3Settings } from '../infra/config.ts';
import { ConfigError } from '../lib/errors.ts';
import { accessPolicy } from './access.ts';
import { pageCacheLimits } from './page-cache.ts';

export const dashboardDir = path.dirname(fileURLToPath(import.meta.url));
const repositoryRoot = path.resolve(dashboardDir, '..');
const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
const fingerprintFile = path.join(dashboardDir, '.next', 'weightlens-build-fingerprint');

/** What the server bundle is built from (besides node_modules, covered by the lockfile). */
const BUILD_INPUTS = [
  'dashboard',
  'lib',
  'contracts',
  'storage',
  'db',
  'generated/prisma',
  'package-lock.json',
];
const SKIPPED = new Set(['.next', 'node_modules', 'next-env.d.ts', 'seed']);

async function collectFiles(absolute: string, out: string[]): Promise<void> {
  const info = await stat(absolute).catch(() => null);
  if (!info) return;
  if (info.isFile()) {
    out.push(`${path.relative(repositoryRoot, absolute)}\0${info.size}\0${info.mtimeMs}`);
    return;
  }
  if (!info.isDirectory()) return;
  for (const entry of await readdir(absolute)) {
    if (!SKIPPED.has(entry)) await collectFiles(path.join(absolute, entry), out);
  }
}

/** Hash of every input's path, size and mtime: cheap, and changes whenever a source does. */
export async function buildFingerprint(): Promise<string> {
  const entries: string[] = [];
  for (const input of BUILD_INPUTS) await collectFiles(path.join(repositoryRoot, input), entries);
  entries.sort();
  return createHash('sha256').update(entries.join('\n')).digest('hex');
}

function runToEnd(args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, ...args], { cwd: dashboardDir, env, stdio: 'pipe' });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        log(output);
        reject(new ConfigError(`next ${args[0]} failed with exit code ${code} (output above)`));
      }
    });
  });
}

/**
 * One build at a time per checkout (the CLI, the e2e test and the bench may race for .next): a lock
 * directory in the temp dir, taken over when older than the longest plausible build.
 */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const id = createHash('sha256').update(dashboardDir).digest('hex').slice(0, 12);
  const lock = path.join(os.tmpdir(), `weightlens-dashboard-build-${id}.lock`);
  const staleMs = 20 * 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(lock).catch(() => null);
      if (info && Date.now() - info.mtimeMs > staleMs) await rm(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Run `next build` unless the last build's fingerprint matches. Returns whether it built. */
export async function buildDashboardIfStale(
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<boolean> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return withBuildLock(async () => {
    // Checked under the lock: a build that finished while we waited is reused.
    const fingerprint = await buildFingerprint();
    const previous = await readFile(fingerprintFile, 'utf8').catch(() => null);
    const built = await stat(path.join(dashboardDir, '.next', 'BUILD_ID')).catch(() => null);
    if (!options.force && built && previous === fingerprint) return false;
    log('building the dashboard (next build, production)…');
    await runToEnd(['build'], { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, log);
    await writeFile(fingerprintFile, fingerprint);
    return true;
  });
}

export interface DashboardEnvironment {
  databaseUrl: string;
  s3?: S3Settings;
  temporalUiUrl?: string;
  temporalNamespace?: string;
  /** Required unless bound to loopback (WEIGHTLENS_DASHBOARD_TOKEN; see access.ts). */
  dashboardToken?: string;
  /** Bounds of the rendered-page cache (page-cache.ts); its defaults when absent, 0 entries: off. */
  pageCache?: { entries?: number; megabytes?: number };
}

export interface RunningDashboard {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `next start` on host:port with the services in its environment; resolves once it answers. */
export async function startDashboardServer(
  environment: DashboardEnvironment,
  options: { port: number; host?: string; stdio?: 'inherit' | 'pipe' },
): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: '1',
    NODE_ENV: 'production',
    DATABASE_URL: environment.databaseUrl,
    // The access policy (access.ts) allows anonymous use only on a loopback bind.
    WEIGHTLENS_DASHBOARD_HOST: host,
  };
  if (environment.s3) exportS3Env(environment.s3, env);
  if (environment.dashboardToken !== undefined) env.WEIGHTLENS_DASHBOARD_TOKEN = environment.dashboardToken;
  if (environment.temporalUiUrl) env.TEMPORAL_UI_URL = environment.temporalUiUrl;
  if (environment.temporalNamespace) env.TEMPORAL_NAMESPACE = environment.temporalNamespace;
  if (environment.pageCache?.entries !== undefined)
    env.WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES = String(environment.pageCache.entries);
  if (environment.pageCache?.megabytes !== undefined)
    env.WEIGHTLENS_DASHBOARD_PAGE_CACHE_MB = String(environment.pageCache.megabytes);
  const policy = accessPolicy(env);
  if (policy.mode === 'refuse') throw new ConfigError(`dashboard: ${policy.reason}`);
  // A bad bound is one line here, not an error on every leaderboard request.
  pageCacheLimits(env);
  const child = spawn(process.execPath, [nextBin, 'start', '-p', String(options.port), '-H', host], {
    cwd: dashboardDir,
    env,
    stdio: options.stdio ?? 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = `http://${host}:${options.port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${url}/login`, { signal: AbortSignal.timeout(5_000) })
      .then((response) => response.status < 500)
      .catch(() => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new ConfigError(
        `the dashboard did not start on ${url}: ${output.trim().split('\n').slice(-5).join(' | ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
