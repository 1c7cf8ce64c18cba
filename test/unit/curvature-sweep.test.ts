/**
 * Pure pieces of curvature in sweeps: the configHash, where a checkpoint's model.json is, model
 * size from a model.json, the sweep request (flags → SweepCurvature) and the activity's timeout.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  curvatureConfigHash,
  curvatureModelUri,
  describeCurvatureData,
  modelJsonSize,
} from '../../activities/curvature-config.ts';
import {
  addCurvatureOptions,
  type CurvatureFlags,
  curvatureRequestFromFlags,
} from '../../cli/commands/sweep-curvature.ts';
import { resolveSweepCurvature } from '../../workers/curvature-request.ts';
import {
  curvatureHeartbeatMs,
  curvatureProductBudget,
  curvatureTimeoutMs,
} from '../../workflows/curvature.ts';

const zooModel = (name: string) => new URL(`../../zoo/default/${name}/`, import.meta.url);

describe('curvature configHash', () => {
  const data = { random: true, samples: 32, seed: 1, epsilon: 0.1 };
  it('ignores key order and undefined fields, and changes with any setting', () => {
    const a = curvatureConfigHash(data, { topK: 1, trace: true });
    expect(
      curvatureConfigHash({ epsilon: 0.1, seed: 1, samples: 32, random: true }, { trace: true, topK: 1 }),
    ).toBe(a);
    expect(
      curvatureConfigHash({ ...data, data: undefined }, { topK: 1, trace: true, density: undefined }),
    ).toBe(a);
    expect(curvatureConfigHash({ ...data, seed: 2 }, { topK: 1, trace: true })).not.toBe(a);
    expect(curvatureConfigHash(data, { topK: 2, trace: true })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('curvature model location', () => {
  it('is the model.json beside a checkpoint file, or the checkpoint itself', () => {
    expect(curvatureModelUri('file:///z/run/model.safetensors')).toBe('file:///z/run/model.json');
    expect(curvatureModelUri('s3://bucket/zoo/a/weights.h5')).toBe('s3://bucket/zoo/a/model.json');
    expect(curvatureModelUri('s3://bucket/zoo/a/model.json')).toBe('s3://bucket/zoo/a/model.json');
    expect(curvatureModelUri('file:///z/run/other.JSON')).toBe('file:///z/run/other.JSON');
    expect(curvatureModelUri('model.pt')).toBe('model.json');
  });

  it('describes data sources the way stored rows name them', () => {
    expect(describeCurvatureData({ random: true, samples: 16, seed: 1, epsilon: 0.1 })).toBe('random:16');
    expect(describeCurvatureData({ distilled: true, samples: 8, seed: 1, epsilon: 0.1 })).toBe('distilled:8');
    expect(
      describeCurvatureData({ data: 'fashion-mnist', samples: 8, seed: 1, epsilon: 0.2, adversarial: 'pgd' }),
    ).toBe('fashion-mnist[0:8]+pgd(0.2)');
  });

  it('reads parameter and weight-tensor counts from a real zoo model.json', () => {
    const dir = zooModel('fmnist-mlp-base-ep00');
    const sidecar = JSON.parse(readFileSync(new URL('weightlens.json', dir), 'utf8')) as {
      parameters: number;
    };
    const text = readFileSync(new URL('model.json', dir), 'utf8');
    const size = modelJsonSize(text);
    expect(size.parameters).toBe(sidecar.parameters);
    // An MLP: every Dense layer of the topology stores a kernel and a bias.
    const layers = (JSON.parse(text) as { modelTopology: { config: { layers: { class_name: string }[] } } })
      .modelTopology.config.layers;
    const dense = layers.filter((l) => l.class_name === 'Dense').length;
    expect(dense).toBeGreaterThan(1);
    expect(size.weightTensors).toBe(2 * dense);
  });

  it('answers nulls for text that is not a layers model', () => {
    const nothing = { parameters: null, weightTensors: null };
    expect(modelJsonSize('{not json')).toEqual(nothing);
    expect(modelJsonSize('{"modelTopology": {}}')).toEqual(nothing);
    expect(modelJsonSize('{"weightsManifest": [{"weights": [{"shape": [2, -1]}]}]}')).toEqual(nothing);
  });
});

describe('sweep curvature request', () => {
  it('is undefined when off, and refuses a data source without curvature', () => {
    expect(resolveSweepCurvature({ mode: 'off' })).toBeUndefined();
    expect(() => resolveSweepCurvature({ mode: 'off', random: true })).toThrow(/--curvature is off/);
  });

  it('defaults to data-free random inputs, the top eigenvalue and the trace', () => {
    const c = resolveSweepCurvature({ mode: 'gpu' })!;
    expect(c.data).toEqual({ random: true, samples: 256, seed: 1, epsilon: 0.1 });
    expect(c.settings).toEqual({ topK: 1, trace: true });
    expect(c.configHash).toBe(curvatureConfigHash(c.data, c.settings));
    // The mode says where it runs, not what is computed: both modes share results.
    expect(resolveSweepCurvature({ mode: 'cpu' })!.configHash).toBe(c.configHash);
  });

  it('refuses two data sources and requests that compute nothing', () => {
    expect(() => resolveSweepCurvature({ mode: 'cpu', random: true, distilled: true })).toThrow(
      /at most one/,
    );
    expect(() => resolveSweepCurvature({ mode: 'cpu', settings: { topK: 0, trace: false } })).toThrow(
      /asks for nothing/,
    );
    expect(() => resolveSweepCurvature({ mode: 'cpu', samples: 0 })).toThrow(/samples/);
  });

  it('makes local .npz paths absolute file:// URIs and keeps data-set names', () => {
    expect(resolveSweepCurvature({ mode: 'cpu', data: 'data/batch.npz' }, '/work/x')!.data.data).toBe(
      'file:///work/x/data/batch.npz',
    );
    expect(resolveSweepCurvature({ mode: 'cpu', data: 's3://b/batch.npz' })!.data.data).toBe(
      's3://b/batch.npz',
    );
    expect(resolveSweepCurvature({ mode: 'cpu', data: 'fashion-mnist' })!.data.data).toBe('fashion-mnist');
  });

  it('maps CLI flags onto the same request (defaults hash alike, flags change it)', () => {
    const parse = (args: string[]) => {
      const command = addCurvatureOptions(new Command().exitOverride());
      command.parse(args, { from: 'user' });
      return resolveSweepCurvature(curvatureRequestFromFlags(command.opts<CurvatureFlags>()));
    };
    expect(parse([])).toBeUndefined();
    expect(parse(['--curvature', 'cpu', '--curvature-random'])!.configHash).toBe(
      resolveSweepCurvature({ mode: 'cpu' })!.configHash,
    );
    const custom = parse([
      '--curvature',
      'gpu',
      '--curvature-distilled',
      '--curvature-samples',
      '64',
      '--curvature-top-k',
      '3',
      '--no-curvature-trace',
      '--curvature-per-layer',
      '--curvature-seed',
      '7',
    ])!;
    expect(custom.mode).toBe('gpu');
    expect(custom.data).toEqual({ distilled: true, samples: 64, seed: 7, epsilon: 0.1 });
    expect(custom.settings).toEqual({ topK: 3, trace: false, perLayer: true });
    expect(() => parse(['--curvature', 'cpu', '--curvature-samples', '-1'])).toThrow();
  });
});

describe('curvature activity timeout', () => {
  const curvature = resolveSweepCurvature({ mode: 'cpu', samples: 32 })!;

  it('counts the products the methods ask for', () => {
    // Lanczos top-1: max(2, 21) steps; trace: up to 100 probes; plus set-up passes.
    expect(curvatureProductBudget({ topK: 1, trace: true }, curvature.data, 4)).toBe(2 + 21 + 100);
    expect(curvatureProductBudget({ topK: 2, eigenMethod: 'power' }, curvature.data, 4)).toBe(2 + 200);
    const perLayer = curvatureProductBudget(
      { topK: 0, perLayer: true, traceMaxProbes: 10 },
      curvature.data,
      6,
    );
    expect(perLayer).toBe(2 + 6 * (20 + 10));
    expect(curvatureProductBudget({ topK: 1 }, { ...curvature.data, distilled: true }, 4)).toBeGreaterThan(
      500,
    );
  });

  it('has a floor, grows with the batch and the model, and is capped', () => {
    const small = curvatureTimeoutMs(curvature, { parameters: 1_000, weightTensors: 2 });
    expect(small).toBeGreaterThanOrEqual(10 * 60_000);
    const big = curvatureTimeoutMs(curvature, { parameters: 5_000_000, weightTensors: 20 });
    expect(big).toBeGreaterThan(small * 2);
    const biggerBatch = curvatureTimeoutMs(
      { ...curvature, data: { ...curvature.data, samples: 64 } },
      { parameters: 5_000_000, weightTensors: 20 },
    );
    expect(biggerBatch).toBeGreaterThan(big);
    expect(curvatureTimeoutMs(curvature, { parameters: 1e12, weightTensors: 20 })).toBe(6 * 3600_000);
    expect(curvatureTimeoutMs(curvature, { parameters: null, weightTensors: null })).toBe(6 * 3600_000);
  });

  it('allows three pessimistic products between heartbeats, within [5 min, 1 h]', () => {
    expect(curvatureHeartbeatMs(curvature, { parameters: 100_000 })).toBe(5 * 60_000);
    const big = { ...curvature, data: { ...curvature.data, samples: 256 } };
    // 256 samples × 2M parameters × 1e-6 s = 512 s a product: three of them.
    expect(curvatureHeartbeatMs(big, { parameters: 2_000_000 })).toBe(3 * 512_000);
    expect(curvatureHeartbeatMs(big, { parameters: 1e9 })).toBe(3600_000);
    expect(curvatureHeartbeatMs(big, { parameters: null })).toBe(3600_000);
  });
});
