/**
 * The per-channel quantizers against the numpy reference (test/fixtures/gen/plan_fixtures.py), the
 * ≤ 2^b distinct values per channel property, pruning counts, and the solver's constraints/errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { magnitudePrune, pruneCounts } from '../../../lib/plan/prune.ts';
import {
  distinctPerChannel,
  type QuantScheme,
  quantizePerChannel,
  roundHalfEven,
} from '../../../lib/plan/quantize.ts';
import { InfeasibleBudgetError, solveAllocation } from '../../../lib/plan/solver.ts';

interface QuantFixture {
  tensors: { name: string; shape: number[]; channel_axis: number; data: number[] }[];
  cases: {
    tensor: string;
    scheme: QuantScheme;
    bits: number;
    codes: number[];
    scales: number[];
    zero_points: number[];
    values: number[];
    perturbation: number;
  }[];
}
const fx = JSON.parse(
  readFileSync(new URL('../../fixtures/plan/quantizer.json', import.meta.url), 'utf8'),
) as QuantFixture;

describe('per-output-channel quantizer vs numpy', () => {
  for (const c of fx.cases) {
    it(`${c.tensor} ${c.scheme} ${c.bits}-bit`, () => {
      const t = fx.tensors.find((x) => x.name === c.tensor)!;
      const q = quantizePerChannel(Float32Array.from(t.data), t.shape, t.channel_axis, c.bits, c.scheme);
      expect(Array.from(q.codes)).toEqual(c.codes);
      expect(Array.from(q.zeroPoints)).toEqual(c.zero_points);
      q.scales.forEach((s, i) => {
        expect(s).toBeCloseTo(c.scales[i]!, 14);
      });
      expect(Array.from(q.values)).toEqual(c.values.map(Math.fround));
      expect(q.perturbation / c.perturbation).toBeCloseTo(1, 10);
      const distinct = distinctPerChannel(q.values, t.shape, t.channel_axis);
      for (const d of distinct) expect(d).toBeLessThanOrEqual(2 ** c.bits);
    });
  }

  it('rounds half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, -2, 2, -3,
    ]);
  });

  it('more bits never perturb more (symmetric)', () => {
    const t = fx.tensors[0]!;
    const data = Float32Array.from(t.data);
    const p = [2, 3, 4, 8].map((b) => quantizePerChannel(data, t.shape, t.channel_axis, b).perturbation);
    for (let i = 1; i < p.length; i++) expect(p[i]!).toBeLessThan(p[i - 1]!);
  });

  it('bad input names the tensor', () => {
    const data = Float32Array.from([1, Number.NaN, 0, 2]);
    expect(() => quantizePerChannel(data, [2, 2], 1, 4, 'symmetric', { tensor: 'dense/kernel' })).toThrow(
      /non-finite weight/,
    );
    expect(() => quantizePerChannel(new Float32Array(4), [2, 2], 1, 1)).toThrow(BadInputError);
    expect(() => quantizePerChannel(new Float32Array(4), [2, 2], 2, 4)).toThrow(/channel axis/);
  });
});

describe('magnitude pruning', () => {
  it('per-layer counts sum exactly to the target', () => {
    const params = [1000, 333, 77, 5];
    const ratios = [0.51, 0.49, 0.7, 0.2];
    const counts = pruneCounts(ratios, params);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(
      Math.round(ratios.reduce((a, r, i) => a + r * params[i]!, 0)),
    );
    counts.forEach((c, i) => {
      expect(Math.abs(c - ratios[i]! * params[i]!)).toBeLessThan(1);
    });
  });
  it('zeros the smallest magnitudes', () => {
    const out = magnitudePrune(Float32Array.from([0.3, -0.1, 2, -0.05, 1]), 2);
    expect(Array.from(out)).toEqual([Math.fround(0.3), 0, 2, 0, 1]);
  });
});

describe('allocation solver', () => {
  const layers = [
    { name: 'a', params: 100, choices: [2, 4, 8].map((b) => ({ bits: b, sensitivity: 10 / 4 ** b })) },
    { name: 'b', params: 300, choices: [2, 4, 8].map((b) => ({ bits: b, sensitivity: 1 / 4 ** b })) },
    { name: 'c', params: 50, choices: [2, 4, 8].map((b) => ({ bits: b, sensitivity: 5 / 4 ** b })) },
  ];
  it('meets an average-bits budget and prefers the sensitive layers', async () => {
    const total = 450;
    const out = await solveAllocation({ layers, budgets: { maxWeightBits: 4 * total } });
    expect(out.totals.weightBits).toBeLessThanOrEqual(4 * total);
    expect(out.bits.a).toBeGreaterThanOrEqual(out.bits.b!);
  });
  it('ties and fixed layers are constraints', async () => {
    const out = await solveAllocation({
      layers: layers.map((l) => (l.name === 'c' ? { ...l, fixedBits: 8 } : l)),
      ties: [['a', 'b']],
      budgets: { maxWeightBits: 4 * 450 },
    });
    expect(out.bits.c).toBe(8);
    expect(out.bits.a).toBe(out.bits.b);
    expect(out.totals.weightBits).toBeLessThanOrEqual(4 * 450);
  });
  it('a budget below the minimum is an error with the feasible range', async () => {
    const err = await solveAllocation({ layers, budgets: { maxWeightBits: 1 * 450 } }).catch((e) => e);
    expect(err).toBeInstanceOf(InfeasibleBudgetError);
    expect((err as InfeasibleBudgetError).range).toEqual([900, 3600]);
    expect(String(err.message)).toMatch(/feasible range \[900, 3600\]/);
  });
});
