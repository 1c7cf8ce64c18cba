import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../lib/analyze.ts';
import { defaultAnalysisConfig, hashAnalysisConfig, parseAnalysisConfig } from '../../lib/spectral/index.ts';
import { buildSafetensors } from './formats/builders.ts';
import { MemoryObjectOpener } from './formats/memory-opener.ts';
import { paretoSingularValues } from './formats/moe-builders.ts';
import { gaussian, matrixWithSingularValues, seededRandom } from './linalg/known-spectrum.ts';

const [rows, cols] = [400, 200];
const planted = { 'layers.0.q.weight': 2.5, 'layers.1.q.weight': 4.0 };

function gaussianMatrix(seed: number, scale: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: rows * cols }, () => scale * gaussian(random));
}

/** A base checkpoint and a fine-tune whose per-tensor update W − W_base has a planted ESD exponent. */
function checkpoints() {
  const base = Object.keys(planted).map((name, i) => ({
    name,
    data: gaussianMatrix(10 + i, 1),
    shape: [rows, cols],
  }));
  const tuned = base.map(({ name, data, shape }, i) => {
    const delta = matrixWithSingularValues(
      rows,
      cols,
      paretoSingularValues(cols, planted[name as keyof typeof planted], 40 + i),
      50 + i,
      3,
    );
    return { name, shape, data: Float32Array.from(data, (v, k) => v + delta[k]!) };
  });
  const opener = new MemoryObjectOpener({
    'mem://base/model.safetensors': buildSafetensors([
      ...base,
      { name: 'head.weight', shape: [cols, 64], data: gaussianMatrix(3, 1).subarray(0, cols * 64) },
    ]),
    'mem://tuned/model.safetensors': buildSafetensors([
      ...tuned,
      { name: 'head.weight', shape: [cols, 100], data: gaussianMatrix(4, 1).subarray(0, cols * 100) },
      { name: 'extra.weight', shape: [cols, 100], data: gaussianMatrix(5, 1).subarray(0, cols * 100) },
    ]),
  });
  return { opener, base, tuned };
}

describe('fine-tune deltas (--base)', () => {
  it('recovers planted ΔW exponents, reports ‖ΔW‖/‖W_base‖, and skips unpaired tensors with a reason', async () => {
    const { opener, base, tuned } = checkpoints();
    const config = parseAnalysisConfig({ base: 'mem://base/model.safetensors' });
    const report = await analyzeCheckpoint('mem://tuned/model.safetensors', opener, config);
    expect(report.errors).toEqual([]);
    expect(report.layers.map((r) => r.name)).toEqual(Object.keys(planted));
    for (const [i, row] of report.layers.entries()) {
      const alpha = planted[row.name as keyof typeof planted];
      const standardError = (row.alpha - 1) / Math.sqrt(row.num_pl_spikes);
      expect(Math.abs(row.alpha - alpha), `${row.name} α=${row.alpha}, planted ${alpha}`).toBeLessThan(
        3 * standardError,
      );
      let deltaSquares = 0;
      let baseSquares = 0;
      base[i]!.data.forEach((b, k) => {
        deltaSquares += (tuned[i]!.data[k]! - b) ** 2;
        baseSquares += b * b;
      });
      expect(row.delta_norm_ratio as number).toBeCloseTo(Math.sqrt(deltaSquares / baseSquares), 10);
    }
    const reasons = new Map(report.skipped.map((s) => [s.layer, s.reason]));
    expect(reasons.get('head.weight')).toBe("shape [200, 100] differs from the base's [200, 64]");
    expect(reasons.get('extra.weight')).toBe('not in the base checkpoint mem://base/model.safetensors');
  });

  it('without --base every tensor of the fine-tune is analyzed as itself', async () => {
    const { opener } = checkpoints();
    const report = await analyzeCheckpoint('mem://tuned/model.safetensors', opener, defaultAnalysisConfig);
    expect(report.layers.map((r) => r.name)).toEqual([
      ...Object.keys(planted),
      'head.weight',
      'extra.weight',
    ]);
    for (const row of report.layers) expect(row.delta_norm_ratio).toBeUndefined();
  });

  it('the base is part of the config hash (changing it recomputes); no base keeps the old hash', () => {
    const plain = hashAnalysisConfig(defaultAnalysisConfig);
    expect(hashAnalysisConfig(parseAnalysisConfig({}))).toBe(plain);
    const a = hashAnalysisConfig(parseAnalysisConfig({ base: 's3://b/base-a/model.safetensors' }));
    const b = hashAnalysisConfig(parseAnalysisConfig({ base: 's3://b/base-b/model.safetensors' }));
    expect(new Set([plain, a, b]).size).toBe(3);
    expect(() => parseAnalysisConfig({ base: 42 })).toThrow(/base must be a checkpoint URI/);
  });
});
