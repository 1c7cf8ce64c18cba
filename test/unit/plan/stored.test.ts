/** Planning from stored rows: α and the reasons for its absence; the budget sweep's grid and points. */
import { describe, expect, it } from 'vitest';
import type { PlanLayerInput, PlanOptions } from '../../../lib/plan/plan.ts';
import { alphaFromLayerRows, budgetFrontier, frontierBudgets } from '../../../lib/plan/stored.ts';

describe('alphaFromLayerRows', () => {
  it('keeps finite α of succeeded rows and names every other layer with its reason', () => {
    const { alpha, missing } = alphaFromLayerRows([
      { name: 'a', status: 'succeeded', alpha: 3.5, error: null },
      { name: 'b', status: 'succeeded', alpha: null, error: null },
      { name: 'c', status: 'succeeded', alpha: Number.NaN, error: null },
      { name: 'd', status: 'skipped', alpha: null, error: 'fewer than 50 eigenvalues' },
      { name: 'e', status: 'failed', alpha: null, error: 'BadInput: all NaN' },
    ]);
    expect([...alpha!]).toEqual([['a', 3.5]]);
    expect(Object.fromEntries(missing!)).toEqual({
      b: 'α is not finite',
      c: 'α is not finite',
      d: 'no α: fewer than 50 eigenvalues',
      e: 'no α: BadInput: all NaN',
    });
  });
});

describe('budget frontier', () => {
  it('spans the candidate widths in quarter bits', () => {
    expect(frontierBudgets([8, 2, 4])).toEqual(Array.from({ length: 25 }, (_, k) => 2 + k / 4));
    expect(frontierBudgets([4])).toEqual([4]);
  });

  const layer = (name: string, params: number, alpha: number): PlanLayerInput => ({
    name,
    params,
    alpha,
    squaredNorm: 1,
    perturbation: new Map([
      [2, 0.4],
      [4, 0.1],
      [8, 0.001],
    ]),
  });
  const options: PlanOptions = {
    method: 'alpha',
    bits: [2, 4, 8],
    avgBits: 4,
    scheme: 'symmetric',
    epsilon: 0.3,
  };

  it('re-solves under each budget: within it, sensitivity never rising with more bits', async () => {
    const layers = [layer('a', 100, 2.5), layer('b', 300, 4), layer('c', 50, 6)];
    const points = await budgetFrontier(layers, [0, 0, 0], options);
    expect(points).toHaveLength(25);
    for (const p of points) expect(p.avg_bits).toBeLessThanOrEqual(p.budget_avg_bits + 1e-12);
    for (let k = 1; k < points.length; k++)
      expect(points[k]!.objective).toBeLessThanOrEqual(points[k - 1]!.objective);
    // At the extremes every layer sits at the narrowest / widest width.
    expect(points[0]!.avg_bits).toBe(2);
    expect(points.at(-1)!.avg_bits).toBe(8);
    expect(points[0]!.objective).toBeGreaterThan(points.at(-1)!.objective);
  });

  it('uniform plans have no frontier; budgets the fixed layers rule out are left out', async () => {
    const layers = [layer('a', 100, 2.5), layer('b', 300, 4), layer('c', 50, 6)];
    expect(await budgetFrontier(layers, [0, 0, 0], { ...options, method: 'uniform' })).toEqual([]);
    const fixed = await budgetFrontier(layers, [0, 0, 0], { ...options, keepFirstLast: true });
    // a and c at 8 bits: at least (150·8 + 300·2)/450 = 4 average bits.
    expect(fixed[0]!.budget_avg_bits).toBe(4);
  });
});
