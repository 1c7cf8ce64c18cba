import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../lib/analyze.ts';
import { resolveBaseCheckpoint } from '../../lib/deltas.ts';
import { defaultAnalysisConfig, hashAnalysisConfig, parseAnalysisConfig } from '../../lib/spectral/index.ts';
import { deltaNormRatio, deltaPair, PLANTED_DELTA_ALPHAS as planted } from './formats/delta-builders.ts';
import { MemoryObjectOpener } from './formats/memory-opener.ts';

function checkpoints() {
  const { base, tuned, baseBytes, tunedBytes } = deltaPair();
  const opener = new MemoryObjectOpener({
    'mem://base/model.safetensors': baseBytes,
    'mem://tuned/model.safetensors': tunedBytes,
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
      const alpha = planted[row.name]!;
      const standardError = (row.alpha - 1) / Math.sqrt(row.num_pl_spikes);
      expect(Math.abs(row.alpha - alpha), `${row.name} α=${row.alpha}, planted ${alpha}`).toBeLessThan(
        3 * standardError,
      );
      expect(row.delta_norm_ratio as number).toBeCloseTo(deltaNormRatio(tuned[i]!.data, base[i]!.data), 10);
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

  it('a base overwritten in place since the analysis was configured is refused (its content hash is in the key)', async () => {
    const { opener } = checkpoints();
    const resolved = await resolveBaseCheckpoint('mem://base/model.safetensors', opener);
    const config = parseAnalysisConfig({ base: resolved.uri, baseContentHash: resolved.contentHash });
    expect(hashAnalysisConfig(config)).not.toBe(
      hashAnalysisConfig(parseAnalysisConfig({ base: resolved.uri })),
    );
    await expect(analyzeCheckpoint('mem://tuned/model.safetensors', opener, config)).resolves.toBeDefined();
    const changed = new MemoryObjectOpener({
      'mem://base/model.safetensors': deltaPair(77).baseBytes,
      'mem://tuned/model.safetensors': deltaPair().tunedBytes,
    });
    await expect(analyzeCheckpoint('mem://tuned/model.safetensors', changed, config)).rejects.toThrow(
      /base checkpoint changed since the analysis was configured/,
    );
    expect(() => parseAnalysisConfig({ baseContentHash: resolved.contentHash })).toThrow(/needs a base/);
  });
});
