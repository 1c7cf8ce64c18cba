/**
 * analyzeCheckpoint and `weightlens analyze` end to end on safetensors files written here: the
 * reader's conv layout conversion against WeightWatcher's fixture rows, a bad layer reported in
 * `errors` without failing the run, the JSON/CSV shapes, and one stderr line for a broken file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { Storage } from '../../../storage/index.ts';
import { loadFixtureLayers, loadFixtureRun } from './ww-fixtures.ts';

const run = promisify(execFile);
const CLI = new URL('../../../bin/weightlens.mjs', import.meta.url).pathname;

interface TensorSpec {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A minimal safetensors writer: 8-byte header length, JSON header, little-endian F32 data. */
function writeSafetensors(path: string, tensors: TensorSpec[]): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  const body = Buffer.concat(
    tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  );
  writeFileSync(path, Buffer.concat([head, Buffer.from(json, 'utf8'), body]));
}

/** HWIO [kh, kw, in, out] → OIHW [out, in, kh, kw] (how torch stores conv kernels). */
function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < kh!; h++)
    for (let w = 0; w < kw!; w++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++)
          out[((o * cin! + i) * kh! + h) * kw! + w] = data[((h * kw! + w) * cin! + i) * cout! + o]!;
  return out;
}

function buildCheckpoint(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wl-analyze-'));
  const fixtures = loadFixtureLayers();
  const dense = fixtures.find((l) => l.name === 'student3_256x256')!;
  const conv = fixtures.find((l) => l.name === 'conv_64x32x3x3')!;
  const [kh, kw, cin, cout] = conv.shape as [number, number, number, number];
  const broken = new Float32Array(40 * 30).fill(0.5);
  broken[17] = Number.NaN;
  writeSafetensors(join(dir, 'model.safetensors'), [
    { name: 'dense.weight', shape: dense.shape, data: dense.data as Float32Array },
    { name: 'dense.bias', shape: [256], data: new Float32Array(256).fill(0.1) },
    {
      name: 'conv.weight',
      shape: [cout, cin, kh, kw],
      data: hwioToOihw(conv.data as Float32Array, conv.shape),
    },
    { name: 'broken.weight', shape: [40, 30], data: broken },
  ]);
  writeFileSync(join(dir, 'broken.safetensors'), Buffer.from('this is not a checkpoint at all, just text'));
  return dir;
}

describe('analyzeCheckpoint', () => {
  it('matches WeightWatcher through the reader, reports the bad layer, skips the bias', async () => {
    const dir = buildCheckpoint();
    const progress: number[] = [];
    const report = await analyzeCheckpoint(
      join(dir, 'model.safetensors'),
      new Storage(),
      defaultAnalysisConfig,
      (p) => progress.push(p.done),
    );
    expect(report.checkpoint.format).toBe('safetensors');
    expect(report.layers.map((l) => l.name)).toEqual(['dense.weight', 'conv.weight']);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.layer).toBe('broken.weight');
    expect(report.errors[0]!.error).toMatch(/NaN/);
    expect(report.skipped.map((s) => s.layer)).toContain('dense.bias');
    expect(progress.at(-1)).toBe(3);
    const ww = loadFixtureRun('default').rows;
    for (const [ours, fixtureName] of [
      ['dense.weight', 'student3_256x256'],
      ['conv.weight', 'conv_64x32x3x3'],
    ] as const) {
      const row = report.layers.find((l) => l.name === ours)!;
      const theirs = ww.find((r) => r.name === fixtureName)!;
      for (const column of ['alpha', 'D', 'xmin', 'lambda_max', 'log_norm', 'N', 'M', 'num_evals']) {
        expect(
          Math.abs(Number(row[column]) - Number(theirs[column])),
          `${ours}.${column}`,
        ).toBeLessThanOrEqual(1e-6 * Math.abs(Number(theirs[column])));
      }
    }
    expect(report.summary.alpha).toBeCloseTo((report.layers[0]!.alpha + report.layers[1]!.alpha) / 2, 12);
  });
});

describe('weightlens analyze (CLI)', () => {
  const dir = buildCheckpoint();
  it('prints the JSON report shape and exits 0 with a bad layer', async () => {
    const plots = join(dir, 'plots');
    const { stdout } = await run(process.execPath, [
      CLI,
      'analyze',
      join(dir, 'model.safetensors'),
      '--format',
      'json',
      '--mp-fit',
      '--plot',
      plots,
    ]);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual([
      'checkpoint',
      'errors',
      'layers',
      'layersAnalyzed',
      'layersFailed',
      'summary',
    ]);
    const layers = json.layers as Record<string, unknown>[];
    expect(layers).toHaveLength(2);
    expect(typeof layers[0]!.mp_softrank).toBe('number');
    expect((json.errors as { layer: string }[])[0]!.layer).toBe('broken.weight');
    expect(readdirSync(plots).filter((f) => f.endsWith('.svg'))).toHaveLength(2);
  });

  it('prints CSV with WeightWatcher column names', async () => {
    const { stdout } = await run(process.execPath, [
      CLI,
      'analyze',
      join(dir, 'model.safetensors'),
      '--format',
      'csv',
      '--layers',
      '^dense',
    ]);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header!.split(',')).toEqual(
      expect.arrayContaining([
        'checkpoint',
        'layer_id',
        'name',
        'alpha',
        'alpha_weighted',
        'log_norm',
        'warning',
      ]),
    );
    expect(rows).toHaveLength(1);
  });

  it('exits non-zero with one stderr line naming an unreadable checkpoint', async () => {
    const error = await run(process.execPath, [CLI, 'analyze', join(dir, 'broken.safetensors')]).catch(
      (e: unknown) => e,
    );
    const failure = error as { code: number; stderr: string };
    expect(failure.code).not.toBe(0);
    const lines = failure.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('broken.safetensors');
  });
});
