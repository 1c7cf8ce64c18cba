/**
 * LoRA adapters with a base (--base): besides each module's ΔW row (`lora`, named by the module),
 * the merged W_base + ΔW (`lora_merged`, named `<module>.weight`) with numpy's spectrum and
 * ‖ΔW‖/‖W_base‖; modules whose base weight is missing or of another shape are skipped with the reason.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { resolveBaseCheckpoint } from '../../../lib/deltas.ts';
import { parseAnalysisConfig } from '../../../lib/spectral/index.ts';
import { FileStorage } from '../../../storage/file.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';

const DIR = `${FIXTURES_DIR}lora-merged`;
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as {
  lora: Record<string, { eigenvalues: number[] }>;
  merged: Record<string, { eigenvalues: number[]; delta_norm_ratio: number; rank: number; scale: number }>;
};

function expectSameSpectrum(ours: Float64Array | undefined, numpy: number[], label: string): void {
  expect(ours?.length, label).toBe(numpy.length);
  const top = numpy[numpy.length - 1]!;
  for (let i = 0; i < numpy.length; i++) {
    expect(Math.abs(ours![i]! - numpy[i]!) / top, `${label} eigenvalue ${i}`).toBeLessThan(1e-9);
  }
}

describe('LoRA adapters against a base: merged W_base + ΔW rows', () => {
  it('adds a lora_merged row per module whose base weight has ΔW’s shape (numpy), keeps the ΔW rows', async () => {
    const storage = new FileStorage();
    const base = await resolveBaseCheckpoint(`${DIR}/base`, storage);
    const config = parseAnalysisConfig({ base: base.uri, baseContentHash: base.contentHash });
    const eigenvalues = new Map<string, Float64Array>();
    const report = await analyzeCheckpoint(
      `${DIR}/adapter/adapter_model.safetensors`,
      storage,
      config,
      undefined,
      {
        onLayer: (analysis) => void eigenvalues.set(analysis.metrics.name, analysis.eigenvalues),
      },
    );
    expect(report.errors).toEqual([]);
    const byType = (type: string) =>
      report.layers.filter((row) => row.layer_type === type).map((row) => row.name);
    expect(byType('lora').sort()).toEqual(Object.keys(expected.lora).sort());
    expect(byType('lora_merged')).toEqual(Object.keys(expected.merged));
    for (const [module, want] of Object.entries(expected.lora)) {
      expectSameSpectrum(eigenvalues.get(module), want.eigenvalues, `ΔW ${module}`);
    }
    for (const [name, want] of Object.entries(expected.merged)) {
      const row = report.layers.find((r) => r.name === name)!;
      expectSameSpectrum(eigenvalues.get(name), want.eigenvalues, `merged ${name}`);
      expect(row.delta_norm_ratio as number).toBeCloseTo(want.delta_norm_ratio, 9);
      expect([row.lora_rank, row.lora_scale]).toEqual([want.rank, want.scale]);
    }
    // Layer ids stay unique: merged rows come after every tensor of the adapter.
    const ids = report.layers.map((row) => row.layer_id);
    expect(new Set(ids).size).toBe(ids.length);
    const reasons = new Map(report.skipped.map((s) => [s.layer, s.reason]));
    expect(reasons.get('model.layers.0.mlp.down_proj.weight')).toBe(
      "merged W + ΔW: the base's [160, 96] is not ΔW's [96, 160]",
    );
    expect(reasons.get('model.layers.0.self_attn.v_proj.weight')).toBe(
      `merged W + ΔW: model.layers.0.self_attn.v_proj.weight is not in the base ${base.uri}`,
    );
  });

  it('without a base only the ΔW rows', async () => {
    const report = await analyzeCheckpoint(
      `${DIR}/adapter/adapter_model.safetensors`,
      new FileStorage(),
      parseAnalysisConfig({}),
    );
    expect(report.layers.map((row) => row.layer_type)).toEqual(['lora', 'lora', 'lora']);
  });
});
