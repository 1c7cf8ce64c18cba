/**
 * Runs the zoo through the real pipeline, exactly as a user would: `weightlens sweep <dir> --wait`
 * (Temporal workers, S3, Postgres) and then `weightlens leaderboard --format json` to read what
 * was stored. Nothing here computes a metric.
 */
import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../lib/errors.ts';
import { type MetricValues, SUMMARY_METRIC_NAMES } from './analysis.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'bin', 'weightlens.mjs');

/** The command line for messages: a sweep over the zoo lists dozens of directories; show two. */
export function abbreviateArgs(args: string[]): string {
  const out: string[] = [];
  let shown = 0;
  let hidden = 0;
  for (const arg of args) {
    const isSource = arg.startsWith('/') && !arg.endsWith('.json');
    if (isSource && shown < 2) shown++;
    else if (isSource) {
      hidden++;
      continue;
    }
    if (hidden > 0 && !isSource) {
      out.push(`…(${hidden} more)`);
      hidden = 0;
    }
    out.push(arg);
  }
  if (hidden > 0) out.push(`…(${hidden} more)`);
  return out.join(' ');
}

/** Run the CLI; stdout is returned, stderr passes through so the sweep's progress stays visible. */
export function runWeightlens(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(chunks).toString('utf8');
      if (code === 0) resolve(stdout);
      else
        reject(
          new ConfigError(`weightlens ${abbreviateArgs(args)} exited with ${code}:\n${stdout.slice(-2000)}`),
        );
    });
  });
}

/** The leaderboard JSON fields we use (see db/leaderboard.ts LeaderboardRow). */
export interface LeaderboardEntry {
  uri: string;
  known_test_accuracy: number | null;
  layers_analyzed: number;
  layers_failed: number;
  correlation_traps: number;
  metrics: MetricValues;
}

export function parseLeaderboard(json: string): LeaderboardEntry[] {
  const rows = JSON.parse(json) as Record<string, unknown>[];
  if (!Array.isArray(rows)) throw new ConfigError('leaderboard --format json did not return an array');
  return rows.map((row) => {
    const metrics: MetricValues = {};
    for (const name of SUMMARY_METRIC_NAMES) {
      const v = row[name];
      metrics[name] = typeof v === 'number' ? v : null;
    }
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    return {
      uri: String(row.uri),
      known_test_accuracy: typeof row.known_test_accuracy === 'number' ? row.known_test_accuracy : null,
      layers_analyzed: num(row.layers_analyzed),
      layers_failed: num(row.layers_failed),
      correlation_traps: num(row.correlation_traps),
      metrics,
    };
  });
}

/**
 * Sweep checkpoint directories through the pipeline and return the leaderboard rows. Each zoo
 * checkpoint directory is passed as its own source, so only the listed checkpoints are swept
 * (never a half-written one from a training run still going on in the same folder).
 */
export async function sweepAndRead(
  sources: string[],
  sweepName: string,
  configFile: string,
): Promise<{ name: string; rows: LeaderboardEntry[] }> {
  // On a loaded machine the stack's readiness probes can time out before the sweep starts; such a
  // failure creates no sweep, so retry under a fresh name rather than give up.
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    const name = attempt === 1 ? sweepName : `${sweepName}-retry${attempt}`;
    try {
      await runWeightlens(['sweep', ...sources, '--wait', '--name', name, '--config', configFile]);
      return {
        name,
        rows: parseLeaderboard(await runWeightlens(['leaderboard', '--sweep', name, '--format', 'json'])),
      };
    } catch (err) {
      if (attempt >= attempts) throw err;
      console.error(`sweep ${name} failed (${String(err).split('\n')[0]}); retrying`);
    }
  }
}

/**
 * One row per checkpoint directory. A zoo directory holds the same weights as model.json (tfjs)
 * and model.safetensors; if discovery returns both, keep the tfjs one, whose reader knows the
 * HWIO conv layout for certain (the safetensors one must trust `__metadata__.kernel_layout`).
 */
export function rowsByCheckpointDir(
  rows: LeaderboardEntry[],
): Map<string, LeaderboardEntry & { format: string }> {
  const byDir = new Map<string, LeaderboardEntry & { format: string }>();
  for (const row of rows) {
    const path = row.uri.replace(/^file:\/\//, '');
    const dir = basename(dirname(path));
    const format = path.endsWith('.json') ? 'tfjs' : path.endsWith('.safetensors') ? 'safetensors' : 'other';
    const existing = byDir.get(dir);
    if (existing === undefined || (existing.format !== 'tfjs' && format === 'tfjs'))
      byDir.set(dir, { ...row, format });
  }
  return byDir;
}
