import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { kendallTauB, midRanks, spearmanRho } from '../../../lib/stats/rank-correlation.ts';

// Reference values from scipy.stats.kendalltau / spearmanr (scipy 1.x, tau-b, mid-ranks).
describe('kendallTauB', () => {
  it('matches scipy with ties on both sides', () => {
    const tau = kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]);
    expect(tau.n).toBe(5);
    expect(tau.value).toBeCloseTo(-0.4714045207910316, 12);
  });

  it('matches scipy without ties (tau-a = tau-b)', () => {
    expect(kendallTauB([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 4, 3, 6, 5, 8, 7]).value).toBeCloseTo(5 / 7, 12);
  });

  it('is +1 / -1 for monotone relations and invariant under monotone transforms', () => {
    const x = [0.3, 1.5, -2, 7, 4.2];
    expect(
      kendallTauB(
        x,
        x.map((v) => Math.exp(v)),
      ).value,
    ).toBeCloseTo(1, 12);
    expect(
      kendallTauB(
        x,
        x.map((v) => -v * v * v),
      ).value,
    ).toBeCloseTo(-1, 12);
  });

  it('drops non-finite pairs and returns null when undefined', () => {
    const r = kendallTauB([1, Number.NaN, 3, 4], [1, 2, Number.POSITIVE_INFINITY, 5]);
    expect(r.n).toBe(2);
    expect(r.value).toBeCloseTo(1, 12);
    expect(kendallTauB([1], [2]).value).toBeNull();
    expect(kendallTauB([1, 2, 3], [5, 5, 5]).value).toBeNull();
  });

  it('rejects unpaired samples', () => {
    expect(() => kendallTauB([1, 2], [1])).toThrow(BadInputError);
  });
});

describe('spearmanRho', () => {
  it('matches scipy with ties', () => {
    expect(spearmanRho([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]).value).toBeCloseTo(-0.5407380704358752, 12);
  });

  it('matches scipy without ties and the 1 - 6Σd²/(n(n²-1)) formula', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const y = [2, 1, 4, 3, 6, 5, 8, 7];
    const n = x.length;
    const sumD2 = x.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0);
    const rho = spearmanRho(x, y).value;
    expect(rho).toBeCloseTo(0.9047619047619048, 12);
    expect(rho).toBeCloseTo(1 - (6 * sumD2) / (n * (n * n - 1)), 12);
  });

  it('is null for a constant side', () => {
    expect(spearmanRho([1, 2, 3], [4, 4, 4]).value).toBeNull();
  });
});

describe('midRanks', () => {
  it('gives tied values the mean of their ranks', () => {
    expect(midRanks([10, 20, 10, 30, 20, 20])).toEqual([1.5, 4, 1.5, 6, 4, 4]);
  });
});
