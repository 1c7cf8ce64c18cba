import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { BadInputError, errorLine } from '../../../lib/errors.ts';
import { parseExpertRowName } from '../../../lib/formats/experts.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensor, mapTensors, readLayerWeights } from '../../../lib/formats/layers.ts';
import type { TensorInfo } from '../../../lib/formats/types.ts';
import { planLayers } from '../../../lib/layer-plan.ts';
import { summarizeExpertGroups } from '../../../lib/spectral/expert-groups.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { buildSafetensors } from './builders.ts';
import { MemoryObjectOpener } from './memory-opener.ts';
import { buildGguf, plantedExperts } from './moe-builders.ts';

function info(name: string, shape: number[]): TensorInfo {
  return { name, dtype: 'F32', shape, uri: 'mem', byteOffset: 0, byteLength: 0 };
}

describe('fused expert tensors: mapping', () => {
  const cases: [string, TensorInfo, string][] = [
    ['HF gate_up_proj', info('model.layers.0.mlp.experts.gate_up_proj', [8, 512, 256]), 'expert'],
    ['HF down_proj', info('model.layers.0.mlp.experts.down_proj', [8, 256, 256]), 'expert'],
    ['HF with .weight', info('model.layers.1.mlp.experts.down_proj.weight', [8, 256, 256]), 'expert'],
    ['GGUF ffn_gate_exps', info('blk.0.ffn_gate_exps.weight', [8, 256, 512]), 'expert'],
    ['GGUF ffn_down_exps', info('blk.3.ffn_down_exps.weight', [8, 512, 256]), 'expert'],
    ['router', info('model.layers.0.mlp.router.weight', [8, 256]), 'dense'],
    ['gate', info('model.layers.0.block_sparse_moe.gate.weight', [8, 256]), 'dense'],
    ['expert bias', info('model.layers.0.mlp.experts.gate_up_proj_bias', [8, 512]), 'skipped'],
    ['non-expert 3-D stays conv1d', info('conv.weight', [64, 32, 5]), 'conv1d'],
  ];
  it.each(cases)('%s', (_label, tensor, expected) => {
    expect(mapTensor(tensor, 'safetensors', undefined).layerType).toBe(expected);
  });
});

const rows = 512;
const cols = 256;
const planted = [2.0, 2.75, 3.5, 4.5];

let moeBytes: Uint8Array | undefined;
function moeSafetensors(): Uint8Array {
  moeBytes ??= buildSafetensors([
    {
      name: 'model.layers.0.mlp.router.weight',
      shape: [4, cols],
      data: new Float32Array(4 * cols).fill(0.5),
    },
    {
      name: 'model.layers.0.mlp.experts.gate_up_proj',
      shape: [planted.length, rows, cols],
      data: plantedExperts(rows, cols, planted, 11),
    },
    {
      name: 'model.layers.0.mlp.experts.down_proj',
      shape: [planted.length, cols, cols],
      data: plantedExperts(cols, cols, [...planted].reverse(), 23),
    },
    { name: 'lm_head.weight', shape: [300, cols], data: plantedExperts(300, cols, [3], 5) },
  ]);
  return moeBytes;
}

function sameFloats(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('fused expert tensors: planning and reading', () => {
  it('plans one row per expert with unique layer ids and the per-expert shape', async () => {
    const ckpt = await openCheckpoint(
      'mem://moe.safetensors',
      new MemoryObjectOpener({ 'mem://moe.safetensors': moeSafetensors() }),
    );
    const plan = planLayers(ckpt, { ...defaultAnalysisConfig, minEvals: 2 });
    expect(plan.layers.map((l) => [l.layerId, l.name, l.layerType, l.shape])).toEqual([
      [0, 'model.layers.0.mlp.router.weight', 'dense', [4, cols]],
      ...planted.map((_, e) => [
        1 + e,
        `model.layers.0.mlp.experts.gate_up_proj[${e}]`,
        'expert',
        [rows, cols],
      ]),
      ...planted.map((_, e) => [5 + e, `model.layers.0.mlp.experts.down_proj[${e}]`, 'expert', [cols, cols]]),
      [9, 'lm_head.weight', 'dense', [300, cols]],
    ]);
  });

  it('reads each expert alone: exactly its slice of bytes, equal to that slice of the tensor', async () => {
    const opener = new MemoryObjectOpener({ 'mem://moe.safetensors': moeSafetensors() });
    const ckpt = await openCheckpoint('mem://moe.safetensors', opener);
    const fused = ckpt.tensors.find((t) => t.name.endsWith('gate_up_proj'))!;
    const whole = await ckpt.readTensor(fused);
    const experts = planLayers(ckpt, defaultAnalysisConfig).layers.filter((l) => l.name.includes('gate_up'));
    expect(experts).toHaveLength(planted.length);
    for (const [e, layer] of experts.entries()) {
      const before = opener.bytesRead;
      const weights = await readLayerWeights(ckpt, layer.mapped);
      expect(opener.bytesRead - before).toBe(rows * cols * 4);
      expect(weights.name).toBe(`model.layers.0.mlp.experts.gate_up_proj[${e}]`);
      expect(weights.layerType).toBe('expert');
      expect(weights.shape).toEqual([rows, cols]);
      expect(sameFloats(weights.data, whole.subarray(e * rows * cols, (e + 1) * rows * cols))).toBe(true);
    }
  });

  it('refuses to read a fused tensor without a chosen expert, naming it', async () => {
    const ckpt = await openCheckpoint(
      'mem://moe.safetensors',
      new MemoryObjectOpener({ 'mem://moe.safetensors': moeSafetensors() }),
    );
    const mapped = mapTensors(ckpt).find((m) => m.layerType === 'expert')!;
    const error = await readLayerWeights(ckpt, mapped).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BadInputError);
    expect(errorLine(error)).toMatch(/experts\.gate_up_proj: .*one expert at a time/);
  });

  it('reads GGUF *_exps slices (F32 and Q8_0 blocks) by range', async () => {
    const experts = 3;
    const f32 = Float32Array.from({ length: experts * 4 * 64 }, (_, i) => i);
    const q8 = Float32Array.from({ length: experts * 2 * 32 }, (_, i) => (i % 200) - 100);
    const opener = new MemoryObjectOpener({
      'mem://moe.gguf': buildGguf([
        { name: 'blk.0.ffn_up_exps.weight', shape: [experts, 4, 64], type: 'F32', values: f32 },
        { name: 'blk.0.ffn_down_exps.weight', shape: [experts, 2, 32], type: 'Q8_0', values: q8 },
      ]),
    });
    const ckpt = await openCheckpoint('mem://moe.gguf', opener);
    const plan = planLayers(ckpt, { ...defaultAnalysisConfig, minEvals: 1 });
    expect(plan.layers.map((l) => l.name)).toEqual([
      ...[0, 1, 2].map((e) => `blk.0.ffn_up_exps.weight[${e}]`),
      ...[0, 1, 2].map((e) => `blk.0.ffn_down_exps.weight[${e}]`),
    ]);
    for (const layer of plan.layers) {
      const { index } = parseExpertRowName(layer.name)!;
      const [source, per, blockBytes] = layer.name.includes('up')
        ? [f32, 4 * 64, 4 * 64 * 4]
        : [q8, 64, 2 * 34];
      const before = opener.bytesRead;
      const weights = await readLayerWeights(ckpt, layer.mapped);
      expect(opener.bytesRead - before, layer.name).toBe(blockBytes);
      expect(Array.from(weights.data), layer.name).toEqual(
        Array.from(source.subarray(index * per, (index + 1) * per)),
      );
    }
  });
});

describe('planted per-expert exponents', () => {
  it('recovers each expert α within its statistical error, and summarizes the expert groups', async () => {
    const report = await analyzeCheckpoint(
      'mem://moe.safetensors',
      new MemoryObjectOpener({ 'mem://moe.safetensors': moeSafetensors() }),
      defaultAnalysisConfig,
    );
    expect(report.errors).toEqual([]);
    const byName = new Map(report.layers.map((r) => [r.name, r]));
    const groups = [
      ['model.layers.0.mlp.experts.gate_up_proj', planted],
      ['model.layers.0.mlp.experts.down_proj', [...planted].reverse()],
    ] as const;
    for (const [group, alphas] of groups) {
      alphas.forEach((alpha, e) => {
        const row = byName.get(`${group}[${e}]`)!;
        expect(row.layer_type).toBe('expert');
        // The MLE's standard error (α̂ − 1)/√n over the n tail eigenvalues (WeightWatcher's sigma).
        const standardError = (row.alpha - 1) / Math.sqrt(row.num_pl_spikes);
        expect(row.sigma).toBeCloseTo(standardError, 6);
        expect(Math.abs(row.alpha - alpha), `${group}[${e}] α=${row.alpha} planted ${alpha}`).toBeLessThan(
          3 * standardError,
        );
      });
    }
    expect(report.expertGroups.map((g) => [g.group, g.experts])).toEqual(
      groups.map(([g]) => [g, planted.length]),
    );
    for (const summary of report.expertGroups) {
      const alphas = planted.map((_, e) => byName.get(`${summary.group}[${e}]`)!.alpha);
      const mean = alphas.reduce((a, b) => a + b, 0) / alphas.length;
      expect(summary.alpha_mean).toBeCloseTo(mean, 12);
      expect(summary.alpha_std).toBeCloseTo(
        Math.sqrt(alphas.reduce((s, a) => s + (a - mean) ** 2, 0) / alphas.length),
        12,
      );
      expect(summary.alpha_min).toBe(Math.min(...alphas));
      expect(summary.alpha_max).toBe(Math.max(...alphas));
    }
    // Flatter planted tails (smaller α) are the smallest recovered α: the experts are told apart.
    expect(report.expertGroups[0]!.alpha_min_expert).toBe(0);
    expect(report.expertGroups[0]!.alpha_max_expert).toBe(planted.length - 1);
    expect(report.expertGroups[1]!.alpha_min_expert).toBe(planted.length - 1);
  });

  it('expert groups ignore rows that are not experts', () => {
    const row = (name: string, layerType: 'dense' | 'expert', alpha: number) =>
      ({ name, layer_type: layerType, alpha, alpha_weighted: alpha }) as never;
    const groups = summarizeExpertGroups([
      row('a[0]', 'expert', 2),
      row('a[1]', 'expert', 4),
      row('b', 'dense', 9),
    ]);
    expect(groups).toEqual([
      {
        group: 'a',
        experts: 2,
        alpha_mean: 3,
        alpha_std: 1,
        alpha_min: 2,
        alpha_max: 4,
        alpha_min_expert: 0,
        alpha_max_expert: 1,
        alpha_weighted_mean: 3,
      },
    ]);
  });
});
