/**
 * npm run bench:experts — memory while analyzing a fused mixture-of-experts tensor. Writes a
 * safetensors checkpoint with one (E, rows, cols) float32 expert tensor to a temporary directory,
 * then in fresh child processes (so nothing of the writer counts):
 * - `analyze`: analyzeCheckpoint over the file (every expert read alone by range, one ESD each);
 * - `whole`: the reference, reading the whole fused tensor at once (what a per-tensor reader holds).
 * Prints each child's peak RSS, the bytes read, and the ratio of the two peaks above a baseline
 * child that only imports the library.
 * Options: --experts E (default 16), --rows R (2048), --cols C (1024).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCheckpoint } from '../lib/analyze.ts';
import { openCheckpoint } from '../lib/formats/index.ts';
import { defaultAnalysisConfig } from '../lib/spectral/index.ts';
import { FileStorage } from '../storage/file.ts';

const TENSOR = 'model.layers.0.mlp.experts.gate_up_proj';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Write the checkpoint expert by expert (the writer never holds the whole tensor either). */
function writeCheckpoint(path: string, experts: number, rows: number, cols: number): number {
  const perExpert = rows * cols * 4;
  const dataBytes = experts * perExpert;
  let header = JSON.stringify({
    [TENSOR]: { dtype: 'F32', shape: [experts, rows, cols], data_offsets: [0, dataBytes] },
  });
  while ((header.length + 8) % 8 !== 0) header += ' ';
  const fd = openSync(path, 'w');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  writeSync(fd, prefix);
  writeSync(fd, Buffer.from(header));
  let state = 12345;
  const slice = new Float32Array(rows * cols);
  for (let e = 0; e < experts; e++) {
    for (let i = 0; i < slice.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      slice[i] = state / 4294967296 - 0.5;
    }
    writeSync(fd, new Uint8Array(slice.buffer));
  }
  closeSync(fd);
  return dataBytes;
}

async function child(mode: string, path: string): Promise<void> {
  const storage = new FileStorage();
  let layers = 0;
  if (mode === 'analyze') {
    const report = await analyzeCheckpoint(path, storage, defaultAnalysisConfig);
    if (report.errors.length > 0) throw new Error(`analysis errors: ${JSON.stringify(report.errors[0])}`);
    layers = report.layers.length;
  } else if (mode === 'whole') {
    const ckpt = await openCheckpoint(path, storage);
    const data = await ckpt.readTensor(ckpt.tensors[0]!);
    layers = data.length > 0 ? 1 : 0;
  }
  process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, layers })}\n`);
}

function runChild(mode: string, path: string): { maxRssKiB: number; layers: number } {
  const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', mode, path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return child(process.argv[childAt + 1]!, process.argv[childAt + 2]!);
  const experts = option('experts', 16);
  const rows = option('rows', 2048);
  const cols = option('cols', 1024);
  const dir = mkdtempSync(join(tmpdir(), 'weightlens-bench-experts-'));
  try {
    const path = join(dir, 'moe.safetensors');
    const bytes = writeCheckpoint(path, experts, rows, cols);
    const mib = (kib: number) => (kib / 1024).toFixed(0);
    const base = runChild('baseline', path);
    const started = Date.now();
    const analyzed = runChild('analyze', path);
    const analyzeSeconds = (Date.now() - started) / 1000;
    const whole = runChild('whole', path);
    const sliceMiB = (rows * cols * 4) / 2 ** 20;
    console.log(
      `fused tensor (${experts}, ${rows}, ${cols}) f32: ${(bytes / 2 ** 20).toFixed(0)} MiB, one expert ${sliceMiB.toFixed(0)} MiB`,
    );
    console.log(`baseline (library imported):    peak RSS ${mib(base.maxRssKiB)} MiB`);
    console.log(
      `analyze, expert by expert:      peak RSS ${mib(analyzed.maxRssKiB)} MiB (${analyzed.layers} expert rows, ${analyzeSeconds.toFixed(1)} s)`,
    );
    console.log(`reference, whole tensor read:   peak RSS ${mib(whole.maxRssKiB)} MiB`);
    const above = (kib: number) => Math.max(1, kib - base.maxRssKiB);
    console.log(
      `RSS above baseline: analyze ${mib(above(analyzed.maxRssKiB))} MiB vs whole-tensor read ${mib(above(whole.maxRssKiB))} MiB ` +
        `(ratio ${(above(analyzed.maxRssKiB) / above(whole.maxRssKiB)).toFixed(3)})`,
    );
    if (analyzed.layers !== experts)
      throw new Error(`expected ${experts} expert rows, got ${analyzed.layers}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
