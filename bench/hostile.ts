/**
 * `npm run bench:hostile`: each crafted input of the corpus (test/fixtures/hostile/corpus.ts: every
 * generator and committed file, per reader) measured against a benign input of the same size in
 * the same run: a safetensors checkpoint of one float32 matrix, as many bytes as the crafted input.
 * Each measurement is a fresh process (bench/hostile-probe.ts: discover, open, plan, read the layers);
 * the CPU time and the peak RSS growth of the crafted input per input byte are printed with their
 * ratios to the benign one's. Ratios near 1 mean the reader's work is linear in the bytes it was
 * given; below ~100 KB the fixed cost of a read (~10 ms) dominates both. A peak RSS growth under
 * RSS_RESOLUTION is below what maxRSS resolves (no ratio printed). BENCH_HOSTILE_ROUNDS (default 1)
 * takes the best of several rounds.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { discoverHostileCases } from '../test/fixtures/hostile/corpus.ts';
import { buildSafetensors } from '../test/unit/formats/builders.ts';

const run = promisify(execFile);
const probe = fileURLToPath(new URL('./hostile-probe.ts', import.meta.url));
const rounds = Number(process.env.BENCH_HOSTILE_ROUNDS ?? 1);

const RSS_RESOLUTION = 2 ** 20;

interface Probe {
  format: string;
  tensors: number;
  cpuMs: number;
  peakRssGrowthBytes: number;
  error: string | null;
}

async function measure(target: string): Promise<Probe> {
  let best: Probe | undefined;
  for (let r = 0; r < rounds; r++) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', probe, target], {
      maxBuffer: 1 << 20,
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Probe;
    if (!best || result.cpuMs < best.cpuMs)
      best = {
        ...result,
        peakRssGrowthBytes: Math.min(result.peakRssGrowthBytes, best?.peakRssGrowthBytes ?? Infinity),
      };
  }
  return best!;
}

function bytesUnder(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(target).reduce((sum, name) => sum + bytesUnder(path.join(target, name)), 0);
}

/** A safetensors file of one float32 [rows, 256] matrix, about `bytes` long. */
function benignOfSize(dir: string, bytes: number): string {
  const cols = 256;
  const rows = Math.max(1, Math.round(bytes / 4 / cols));
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.618);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.safetensors');
  writeFileSync(file, buildSafetensors([{ name: 'fc.weight', shape: [rows, cols], data }]));
  return file;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

const cases = await discoverHostileCases();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'wl-bench-hostile-'));
const rows: string[][] = [];
try {
  for (const [i, hostile] of cases.entries()) {
    const root = path.join(scratch, String(i));
    mkdirSync(root);
    const target = hostile.write(root);
    const bytes = bytesUnder(target);
    const crafted = await measure(target);
    const benign = await measure(benignOfSize(path.join(root, 'benign'), bytes));
    const benignBytes = bytesUnder(path.join(root, 'benign'));
    const perByte = (value: number, size: number) => (size > 0 ? value / size : Number.NaN);
    const cpuRatio = perByte(crafted.cpuMs, bytes) / perByte(benign.cpuMs, benignBytes);
    const rssRatio =
      benign.peakRssGrowthBytes >= RSS_RESOLUTION
        ? fmt(perByte(crafted.peakRssGrowthBytes, bytes) / perByte(benign.peakRssGrowthBytes, benignBytes))
        : '—';
    rows.push([
      hostile.name.replace(/^.*\//, ''),
      crafted.format,
      String(bytes),
      String(crafted.tensors),
      fmt(crafted.cpuMs, 1),
      fmt(benign.cpuMs, 1),
      fmt(cpuRatio),
      fmt(crafted.peakRssGrowthBytes / 2 ** 20, 1),
      fmt(benign.peakRssGrowthBytes / 2 ** 20, 1),
      rssRatio,
      crafted.error ? 'refused' : 'read',
    ]);
    process.stderr.write(`${hostile.name}: done\n`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const header = [
  'case',
  'format',
  'bytes',
  'tensors',
  'CPU ms',
  'benign CPU ms',
  'CPU/byte vs benign',
  'peak RSS MB',
  'benign peak RSS MB',
  'RSS/byte vs benign',
  'outcome',
];
console.log(
  `bench:hostile — ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}, best of ${rounds}`,
);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
