import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { loraCore, loraProduct, loraWeights } from '../../../lib/formats/lora-weights.ts';
import { seededRandom } from '../../../lib/random.ts';
import { analyzeLayer, defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { FileStorage } from '../../../storage/file.ts';
import { gaussian } from '../linalg/known-spectrum.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

interface Expected {
  rank: number;
  scale: number;
  eigenvalues: number[];
}

function expectedOf(dir: string): Record<string, Expected> {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}${dir}/expected.json`, 'utf8'));
}

/** Eigenvalues equal to numpy's: relative to the largest (the zero ones are round-off on both sides). */
function expectSameSpectrum(ours: Float64Array, numpy: number[], label: string): void {
  expect(ours.length, label).toBe(numpy.length);
  const top = numpy[numpy.length - 1]!;
  for (let i = 0; i < numpy.length; i++) {
    expect(Math.abs(ours[i]! - numpy[i]!) / top, `${label} eigenvalue ${i}`).toBeLessThan(1e-9);
  }
}

async function analyzeFixture(dir: string) {
  const eigenvalues = new Map<string, Float64Array>();
  const report = await analyzeCheckpoint(
    `${FIXTURES_DIR}${dir}/adapter_model.safetensors`,
    new FileStorage(),
    defaultAnalysisConfig,
    undefined,
    { onLayer: (analysis) => void eigenvalues.set(analysis.metrics.name, analysis.eigenvalues) },
  );
  return { report, eigenvalues };
}

describe('PEFT LoRA adapters', () => {
  for (const dir of ['lora', 'lora-rslora']) {
    it(`${dir}: one lora row per module with ΔW = scale·B·A's spectrum (numpy)`, async () => {
      const expected = expectedOf(dir);
      const { report, eigenvalues } = await analyzeFixture(dir);
      expect(report.errors).toEqual([]);
      expect(report.layers.map((r) => r.name).sort()).toEqual(Object.keys(expected).sort());
      for (const row of report.layers) {
        const want = expected[row.name]!;
        expect(row.layer_type).toBe('lora');
        expect(row.lora_rank).toBe(want.rank);
        expect(row.lora_scale).toBeCloseTo(want.scale, 12);
        expectSameSpectrum(eigenvalues.get(row.name)!, want.eigenvalues, row.name);
      }
      // The factors themselves are not rows of their own.
      expect(report.skipped.every((s) => /LoRA factor of /.test(s.reason))).toBe(true);
    });
  }

  it('bad adapters: a per-layer error naming the module (missing factor, ranks that disagree)', async () => {
    const { report, eigenvalues } = await analyzeFixture('lora-bad');
    const errors = new Map(report.errors.map((e) => [e.layer, e.error]));
    expect(errors.get('model.layers.0.self_attn.q_proj')).toMatch(
      /LoRA module model\.layers\.0\.self_attn\.q_proj has lora_A but no lora_B/,
    );
    expect(errors.get('model.layers.0.self_attn.k_proj')).toMatch(
      /k_proj: lora_A \[8, 96\] and lora_B \[128, 7\]/,
    );
    expect(report.layers.map((r) => r.name)).toEqual(['model.layers.0.self_attn.v_proj']);
    const want = expectedOf('lora-bad')['model.layers.0.self_attn.v_proj']!;
    expectSameSpectrum(eigenvalues.get('model.layers.0.self_attn.v_proj')!, want.eigenvalues, 'v_proj');
  });

  it('unknown scaling (no adapter_config.json) is a per-layer error naming the module', async () => {
    const bytes = new Uint8Array(readFileSync(`${FIXTURES_DIR}lora/adapter_model.safetensors`));
    const report = await analyzeCheckpoint(
      'mem://adapter/adapter_model.safetensors',
      new MemoryObjectOpener({ 'mem://adapter/adapter_model.safetensors': bytes }),
      defaultAnalysisConfig,
    );
    expect(report.layers).toEqual([]);
    expect(report.errors.map((e) => e.layer).sort()).toEqual([
      'model.layers.0.mlp.down_proj',
      'model.layers.0.self_attn.q_proj',
    ]);
    for (const e of report.errors) expect(e.error).toMatch(/unknown scaling \(no adapter_config\.json/);
  });
});

describe('ΔW through the r×r core', () => {
  const random = seededRandom(77);
  const [inDim, outDim, rank, scale] = [200, 300, 6, 2.5];
  const a = Float32Array.from({ length: rank * inDim }, () => gaussian(random));
  const b = Float32Array.from({ length: outDim * rank }, () => gaussian(random));

  it('gives the same ESD and metrics as the full product', async () => {
    const direct = loraWeights('m', { a, b, inDim, outDim, rank, scale });
    const viaCore = loraWeights('m', { a, b, inDim, outDim, rank, scale }, 0);
    expect(direct.lowRank).toBeUndefined();
    expect(viaCore.lowRank?.core.length).toBe(rank * rank);
    const config = { ...defaultAnalysisConfig, minEvals: 2 };
    const [d, c] = [await analyzeLayer(direct, config, 0), await analyzeLayer(viaCore, config, 0)];
    expect(c.eigenvalues.length).toBe(d.eigenvalues.length);
    const top = d.eigenvalues[d.eigenvalues.length - 1]!;
    for (let i = 0; i < d.eigenvalues.length; i++)
      expect(Math.abs(c.eigenvalues[i]! - d.eigenvalues[i]!) / top).toBeLessThan(1e-9);
    for (const column of ['N', 'M', 'num_evals', 'num_pl_spikes', 'lora_rank'] as const)
      expect(c.metrics[column], column).toBe(d.metrics[column]);
    for (const column of [
      'alpha',
      'xmin',
      'norm',
      'log_norm',
      'spectral_norm',
      'stable_rank',
      'alpha_weighted',
    ] as const) {
      const [ours, direct] = [c.metrics[column] as number, d.metrics[column] as number];
      expect(Math.abs(ours - direct) / Math.abs(direct), column).toBeLessThan(1e-9);
    }
  });

  it('the core squared singular values are the nonzero eigenvalues of (BᵀB)(AAᵀ)·scale²', () => {
    const core = loraCore({ a, b, inDim, outDim, rank, scale })!;
    const full = loraProduct({ a, b, inDim, outDim, rank, scale });
    // trace(CᵀC) = ‖ΔW‖_F² and trace((CᵀC)²) = ‖ΔWᵀΔW‖_F² pin down the spectrum's first two moments.
    let coreF = 0;
    for (const v of core) coreF += v * v;
    let fullF = 0;
    for (const v of full) fullF += v * v;
    expect(coreF / fullF).toBeCloseTo(1, 10);
  });

  it('falls back to the full product when a factor is rank-deficient', () => {
    const deficient = Float32Array.from(b);
    for (let i = 0; i < outDim; i++) deficient[i * rank + 2] = deficient[i * rank + 1]!;
    const weights = loraWeights('m', { a, b: deficient, inDim, outDim, rank, scale }, 0);
    expect(weights.lowRank).toBeUndefined();
    expect(weights.data.length).toBe(outDim * inDim);
  });
});
