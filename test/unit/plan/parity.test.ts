/**
 * Parity with the anchors' published numbers: HAWQ-V3's ResNet18 ILP inputs → its nine bit
 * configurations (size, BOPs, latency at 0.25/0.5/0.75); AlphaPruning's LLaMA-7B α → its block-wise
 * ratios at 70 % and 80 % (and ours clipped to ≤ 1 at 80 %, where theirs exceed 1).
 * Fixtures and provenance: test/fixtures/gen/plan_fixtures.py.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alphaPruningRatios } from '../../../lib/plan/alpha.ts';
import { type AllocationLayer, type AllocationProblem, solveAllocation } from '../../../lib/plan/solver.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/plan/${name}`, import.meta.url), 'utf8'));

interface HawqFixture {
  layers: string[];
  per_parameter_trace: number[];
  perturbation_8bit: number[];
  perturbation_4bit: number[];
  parameters: number[];
  bops: number[];
  latency_int4: number[];
  latency_int8: number[];
  ties: [string, string][];
  published_weight_bits: Record<string, number[]>;
}

const hawq = fixture('hawq-resnet18.json') as HawqFixture;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function hawqProblem(constraint: string, ratio: number): AllocationProblem {
  const layers: AllocationLayer[] = hawq.layers.map((name, i) => ({
    name,
    params: hawq.parameters[i]!,
    bops: hawq.bops[i]!,
    // HAWQ-V2/V3: Ω_i(b) = (Tr(H_ii)/n_i) · ‖Q_b(W_i) − W_i‖².
    choices: [
      {
        bits: 4,
        sensitivity: hawq.per_parameter_trace[i]! * hawq.perturbation_4bit[i]!,
        latency: hawq.latency_int4[i]!,
      },
      {
        bits: 8,
        sensitivity: hawq.per_parameter_trace[i]! * hawq.perturbation_8bit[i]!,
        latency: hawq.latency_int8[i]!,
      },
    ],
  }));
  // The notebook's limits: all-4-bit total + r · (all-8-bit total − all-4-bit total).
  const between = (lo: number, hi: number) => lo + (hi - lo) * ratio;
  const budgets =
    constraint === 'modelsize'
      ? { maxWeightBits: between(4 * sum(hawq.parameters), 8 * sum(hawq.parameters)) }
      : constraint === 'bops'
        ? { maxBops: between(sum(hawq.bops) / 64, sum(hawq.bops) / 16) }
        : { maxLatency: between(sum(hawq.latency_int4), sum(hawq.latency_int8)) };
  return { layers, ties: hawq.ties, budgets };
}

describe('HAWQ-V3 ResNet18 ILP', () => {
  const configs = Object.entries(hawq.published_weight_bits);
  it('the fixture has the nine published configurations', () => {
    expect(configs.map(([k]) => k).sort()).toEqual([
      'bops_0.25',
      'bops_0.5',
      'bops_0.75',
      'latency_0.25',
      'latency_0.5',
      'latency_0.75',
      'modelsize_0.25',
      'modelsize_0.5',
      'modelsize_0.75',
    ]);
  });
  for (const [key, published] of configs) {
    it(`reproduces bit_config_resnet18_${key}`, async () => {
      const [constraint, ratio] = key.split('_');
      const problem = hawqProblem(constraint!, Number(ratio));
      const allocation = await solveAllocation(problem);
      expect(hawq.layers.map((name) => allocation.bits[name])).toEqual(published);
      const totals = allocation.totals;
      const b = problem.budgets;
      if (b.maxWeightBits !== undefined) expect(totals.weightBits).toBeLessThanOrEqual(b.maxWeightBits);
      if (b.maxBops !== undefined) expect(totals.bops).toBeLessThanOrEqual(b.maxBops);
      if (b.maxLatency !== undefined) expect(totals.latency).toBeLessThanOrEqual(b.maxLatency);
    });
  }
});

interface AlphaFixture {
  epsilon: number;
  block_size: number;
  layers: string[];
  parameters: number[];
  alpha: number[];
  unclipped_ratios: Record<string, number[]>;
}

describe('AlphaPruning LLaMA-7B allocation', () => {
  const ap = fixture('alphapruning-llama7b.json') as AlphaFixture;
  const layers = ap.layers.map((name, i) => ({ name, params: ap.parameters[i]!, alpha: ap.alpha[i]! }));
  const weightedMean = (ratios: number[]) =>
    ratios.reduce((acc, r, i) => acc + r * ap.parameters[i]!, 0) / sum(ap.parameters);

  it('reproduces its ratios at 70 % (block ratios 0.50…0.93, none clipped)', () => {
    const out = alphaPruningRatios(layers, { target: 0.7, epsilon: ap.epsilon, blockSize: ap.block_size });
    const theirs = ap.unclipped_ratios['0.7']!;
    out.unclipped.forEach((r, i) => {
      expect(r).toBeCloseTo(theirs[i]!, 12);
    });
    out.ratios.forEach((r, i) => {
      expect(r).toBeCloseTo(theirs[i]!, 12);
    });
    expect(Math.min(...theirs)).toBeCloseTo(0.5, 1);
    expect(Math.max(...theirs)).toBeCloseTo(0.93, 2);
    expect(weightedMean(out.ratios)).toBeCloseTo(0.7, 12);
  });

  it('at 80 % theirs exceed 1; ours are clipped to ≤ 1 and still average exactly 80 %', () => {
    const out = alphaPruningRatios(layers, { target: 0.8, epsilon: ap.epsilon, blockSize: ap.block_size });
    const theirs = ap.unclipped_ratios['0.8']!;
    out.unclipped.forEach((r, i) => {
      expect(r).toBeCloseTo(theirs[i]!, 12);
    });
    expect(Math.max(...theirs)).toBeGreaterThan(1.05);
    expect(Math.max(...out.ratios)).toBeLessThanOrEqual(1);
    expect(out.ratios.filter((r) => r === 1).length).toBeGreaterThan(0);
    expect(weightedMean(out.ratios)).toBeCloseTo(0.8, 12);
    // Unclipped layers keep their relative order and proportions (one common factor).
    const free = out.ratios.map((r, i) => [r, out.unclipped[i]!] as const).filter(([r]) => r < 1);
    const factor = free[0]![0] / free[0]![1];
    for (const [r, u] of free) expect(r / u).toBeCloseTo(factor, 12);
  });

  it('a target above the cap is an error naming the reachable maximum', () => {
    expect(() =>
      alphaPruningRatios(layers, { target: 0.9, epsilon: 0.3, blockSize: 7, maxRatio: 0.85 }),
    ).toThrow(/above the largest reachable mean 0.85/);
  });
});
