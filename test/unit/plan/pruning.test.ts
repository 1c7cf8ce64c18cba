/**
 * How a target sparsity is split over layers: one global magnitude threshold (checked against a
 * brute-force sort of all weights), and α-guided ratios when some layers have no α.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { type PlanOptions, pruningRatios } from '../../../lib/plan/plan.ts';
import { globalMagnitudeCounts, magnitudePrune } from '../../../lib/plan/prune.ts';

function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

describe('global magnitude pruning', () => {
  it('prunes the globally smallest weights: one threshold for all layers', () => {
    const next = seeded(7);
    // Layers at different scales: a global threshold prunes the small-scale layer much harder.
    const layers = [200, 50, 300].map((n, i) => Float32Array.from({ length: n }, () => next() * 10 ** -i));
    for (const target of [0.1, 0.5, 0.9]) {
      const counts = globalMagnitudeCounts(layers, target);
      const total = layers.reduce((a, l) => a + l.length, 0);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(Math.round(target * total));
      const all = layers.flatMap((l) => [...l].map(Math.abs)).sort((a, b) => a - b);
      const threshold = all[Math.round(target * total) - 1]!;
      layers.forEach((l, i) => {
        const pruned = magnitudePrune(l, counts[i]!);
        for (let k = 0; k < l.length; k++) {
          // Every surviving weight is at least the threshold; every pruned one at most.
          if (pruned[k] === 0 && l[k] !== 0) expect(Math.abs(l[k]!)).toBeLessThanOrEqual(threshold);
          else expect(Math.abs(l[k]!)).toBeGreaterThanOrEqual(threshold);
        }
      });
      expect(counts[2]! / layers[2]!.length).toBeGreaterThan(counts[0]! / layers[0]!.length);
    }
  });

  it('ties at the threshold still give the exact count', () => {
    const layers = [new Float32Array([1, 1, 1, 1]), new Float32Array([1, 1, 2, 2])];
    expect(globalMagnitudeCounts(layers, 0.5)).toEqual([4, 0]);
    expect(globalMagnitudeCounts(layers, 0)).toEqual([0, 0]);
  });

  it('a target outside [0, 1] is an error', () => {
    expect(() => globalMagnitudeCounts([new Float32Array(4)], 1.5)).toThrow(BadInputError);
  });
});

describe('α-guided pruning ratios', () => {
  const options: PlanOptions = {
    method: 'alpha',
    bits: [8],
    avgBits: 8,
    scheme: 'symmetric',
    epsilon: 0.3,
    sparsity: 0.6,
  };

  it('a layer without α is pruned at the target and the total still meets it', () => {
    const layers = [
      { name: 'small', params: 72 },
      { name: 'a', params: 1000, alpha: 2.5 },
      { name: 'b', params: 4000, alpha: 4.5 },
    ];
    const ratios = pruningRatios(layers, options);
    expect(ratios[0]).toBe(0.6);
    const pruned = layers.reduce((s, l, i) => s + l.params * ratios[i]!, 0);
    expect(pruned / layers.reduce((s, l) => s + l.params, 0)).toBeCloseTo(0.6, 10);
    // Heavier-tailed (smaller α) layers are pruned less (AlphaPruning).
    expect(ratios[1]!).toBeLessThan(ratios[2]!);
  });

  it('no layer with α is an error naming a layer', () => {
    expect(() => pruningRatios([{ name: 'x', params: 10 }], options)).toThrow(/at least one planned layer/);
  });

  it('global ratios are not computed from α or parameter counts', () => {
    expect(() => pruningRatios([{ name: 'x', params: 10 }], { ...options, pruneBy: 'global' })).toThrow(
      BadInputError,
    );
  });
});
