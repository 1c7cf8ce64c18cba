/**
 * `weightlens analyze --estimators detx` end to end: every WeightWatcher parity fixture layer is
 * written into one safetensors checkpoint (convs in torch's OIHW layout, as a .safetensors from
 * torch stores them), the CLI's JSON report is compared with WeightWatcher 0.7.7 (detX=True):
 * detX_val within 1e-6 relative, detX_num / num_ERG_spikes / ERG_gap equal. The library-level
 * parity lives in test/unit/spectral/estimators.test.ts; this checks the command a user runs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../../zoo/checkpoint-writer.ts';
import { closeRelative, loadFixtureLayers, loadFixtureRun } from '../spectral/ww-fixtures.ts';

const run = promisify(execFile);
const CLI = new URL('../../../bin/weightlens.mjs', import.meta.url).pathname;

/** HWIO [kh, kw, in, out] (the fixtures' conv layout) → OIHW [out, in, kh, kw]. */
function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < kh!; h++)
    for (let w = 0; w < kw!; w++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++)
          out[((o * cin! + i) * kh! + h) * kw! + w] = data[((h * kw! + w) * cin! + i) * cout! + o]!;
  return out;
}

function parityCheckpoint(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wl-analyze-detx-')), 'parity.safetensors');
  const tensors = loadFixtureLayers().map((layer) => {
    const data = layer.data as Float32Array;
    if (layer.layerType !== 'conv2d') return { name: `${layer.name}.weight`, shape: layer.shape, data };
    const [kh, kw, cin, cout] = layer.shape as [number, number, number, number];
    return { name: `${layer.name}.weight`, shape: [cout, cin, kh, kw], data: hwioToOihw(data, layer.shape) };
  });
  writeFileSync(file, encodeSafetensors(tensors));
  return file;
}

describe('weightlens analyze --estimators detx (CLI)', () => {
  it("gives WeightWatcher 0.7.7's four ERG/detX columns on every parity fixture layer", async () => {
    const theirs = loadFixtureRun('detx');
    expect(theirs.weightwatcher).toBe('0.7.7');
    const { stdout } = await run(
      process.execPath,
      [CLI, 'analyze', parityCheckpoint(), '--estimators', 'detx', '--format', 'json'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const report = JSON.parse(stdout) as { layers: Record<string, unknown>[]; errors: unknown[] };
    expect(report.errors).toEqual([]);
    const ours = new Map(report.layers.map((row) => [String(row.name).replace(/\.weight$/, ''), row]));
    expect([...ours.keys()].sort()).toEqual(theirs.rows.map((r) => String(r.name)).sort());
    const misses: string[] = [];
    for (const expected of theirs.rows) {
      const row = ours.get(String(expected.name))!;
      for (const column of ['detX_num', 'num_ERG_spikes', 'ERG_gap'] as const) {
        if (row[column] !== expected[column])
          misses.push(`${expected.name}.${column}: ${row[column]} vs ${expected[column]}`);
      }
      if (!closeRelative(row.detX_val, expected.detX_val!, 1e-6))
        misses.push(`${expected.name}.detX_val: ${row.detX_val} vs ${expected.detX_val}`);
    }
    expect(misses).toEqual([]);
  });
});
