/**
 * BOPs and latency budgets: per-layer MACs from a TF.js model's output shapes (checked by hand),
 * the latency table's parser, and plans under both budgets — met when feasible, and a clear error
 * with the feasible range when a budget is below the minimum or above the maximum.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { BadInputError } from '../../../lib/errors.ts';
import { fp32Bops, parseLatencyTable } from '../../../lib/plan/cost.ts';
import { type PlanLayerInput, type PlanOptions, planLayers } from '../../../lib/plan/plan.ts';

beforeAll(async () => {
  await initCurvatureBackend('cpu', () => {});
});

describe('BOPs of a TF.js model', () => {
  it('dense: kernel size; conv: kernel size × output positions (× 32² for FP32)', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [10, 12, 3],
          filters: 4,
          kernelSize: 3,
          padding: 'valid',
          name: 'c',
        }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 5, name: 'd' }),
      ],
    });
    const bops = fp32Bops(model, ['c/kernel', 'd/kernel'], 'test://model.json');
    // valid 3×3 conv on 10×12 → 8×10 positions; 3·3·3·4 weights each.
    expect(bops.get('c/kernel')).toBe(3 * 3 * 3 * 4 * 8 * 10 * 1024);
    expect(bops.get('d/kernel')).toBe(8 * 10 * 4 * 5 * 1024);
    expect(() => fp32Bops(model, ['nope/kernel'], 'test://model.json')).toThrow(
      /nope\/kernel|its BOPs are unknown/,
    );
    model.dispose();
  });

  it('a model without a fixed input size is refused, naming the layer', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.conv2d({ inputShape: [null, null, 3], filters: 2, kernelSize: 1, name: 'free' })],
    });
    let err: unknown;
    try {
      fp32Bops(model, ['free/kernel'], 'test://model.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadInputError);
    expect(String((err as Error).message) + JSON.stringify((err as BadInputError).context)).toMatch(/free/);
    model.dispose();
  });
});

describe('latency table', () => {
  const names = ['a/kernel', 'b/kernel'];
  it('parses one number per layer and width', () => {
    const t = parseLatencyTable(
      '{"a/kernel":{"4":1,"8":2},"b/kernel":{"4":3,"8":5}}',
      't.json',
      names,
      [4, 8],
    );
    expect(t.get('b/kernel')!.get(8)).toBe(5);
  });
  it.each([
    ['not json', /not JSON/],
    ['[1]', /must be an object/],
    ['{"a/kernel":{"4":1,"8":2}}', /no entry for this layer/],
    ['{"a/kernel":{"4":1,"8":2},"b/kernel":{"4":3}}', /no non-negative number for 8 bits/],
    ['{"a/kernel":{"4":1,"8":2},"b/kernel":{"4":3,"8":-1}}', /no non-negative number for 8 bits/],
    ['{"a/kernel":{"4":1,"8":2},"b/kernel":{"4":3,"8":1},"c":{}}', /does not cover/],
    ['{"a/kernel":{"4":1,"8":2,"x":3},"b/kernel":{"4":3,"8":1}}', /not a bit width/],
  ])('%s is an error', (text, message) => {
    expect(() => parseLatencyTable(text, 't.json', names, [4, 8])).toThrow(message);
  });
});

describe('plans under BOPs and latency budgets', () => {
  const layer = (name: string, params: number, bops: number, lat: [number, number]): PlanLayerInput => ({
    name,
    params,
    perturbation: new Map([
      [4, 1],
      [8, 0.01],
    ]),
    squaredNorm: 1,
    trace: { trace: params, params },
    bops,
    latency: new Map([
      [4, lat[0]],
      [8, lat[1]],
    ]),
  });
  const layers = [layer('a', 100, 1024 * 1000, [1, 3]), layer('b', 100, 1024 * 4000, [2, 7])];
  const ratios = [0, 0];
  const base: PlanOptions = { method: 'hawq', bits: [4, 8], scheme: 'symmetric', epsilon: 0.3 };
  // BOPs = MACs · b²: a at 4/8 bits 16 000/64 000, b 64 000/256 000.

  it('meets a BOPs budget exactly as the solver reports it', async () => {
    const plan = await planLayers(layers, ratios, { ...base, maxBops: 130_000 });
    expect(plan.layers.map((l) => l.bits)).toEqual([8, 4]);
    expect(plan.bops).toBe(128_000);
    expect(plan.budget.max_bops).toBe(130_000);
  });

  it('meets a latency budget', async () => {
    const plan = await planLayers(layers, ratios, { ...base, maxLatency: 6 });
    expect(plan.layers.map((l) => l.bits)).toEqual([8, 4]);
    expect(plan.latency).toBe(5);
  });

  it.each([
    [{ maxBops: 1000 }, /--max-bops 1000 is below the minimum: the feasible range is 80000–320000 BOPs/],
    [{ maxBops: 1e9 }, /--max-bops 1000000000 is above the maximum: the feasible range is 80000–320000 BOPs/],
    [{ maxLatency: 2 }, /--max-latency 2 is below the minimum: the feasible range is 3–10/],
    [{ maxLatency: 11 }, /above the maximum: the feasible range is 3–10/],
    [{ maxBops: -1 }, /not positive/],
  ])('%o is a clear error with the feasible range', async (budget, message) => {
    await expect(planLayers(layers, ratios, { ...base, ...budget })).rejects.toThrow(message);
  });

  it('a BOPs budget without every layer’s BOPs names the layer', async () => {
    const partial = [layers[0]!, { ...layers[1]!, bops: undefined }];
    await expect(planLayers(partial, ratios, { ...base, maxBops: 1e5 })).rejects.toThrow(BadInputError);
  });

  it('uniform plans check their width against the BOPs budget', async () => {
    await expect(
      planLayers(layers, ratios, { ...base, method: 'uniform', avgBits: 8, maxBops: 100_000 }),
    ).rejects.toThrow(
      /uniform 8-bit needs 320000 \(--max-bops 100000\); uniform totals are 4 bits: 80000, 8 bits: 320000/,
    );
  });
});
