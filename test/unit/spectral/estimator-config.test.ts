/** The estimator options of AnalysisConfig: parsing, errors, and hashing that keeps older keys valid. */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import {
  defaultAnalysisConfig,
  hashAnalysisConfig,
  parseAnalysisConfig,
} from '../../../lib/spectral/index.ts';
import { trapSeverity } from '../../../lib/spectral/traps.ts';

describe('estimator options', () => {
  it('parses a list or a comma string into a sorted, unique list', () => {
    expect(parseAnalysisConfig({ estimators: 'hill,FARMS, detx,hill' }).estimators).toEqual([
      'detx',
      'farms',
      'hill',
    ]);
    expect(parseAnalysisConfig({ estimators: ['farms'] }).estimators).toEqual(['farms']);
    expect(parseAnalysisConfig({}).estimators).toEqual([]);
    expect(parseAnalysisConfig({ hillXmin: 'XMIN_PEAK' }).hillXmin).toBe('xmin_peak');
  });

  it.each([
    [{ estimators: 'hill,pickands' }, /estimators must be one of detx, farms, hill, traps/],
    [{ estimators: 3 }, /estimators must be a list/],
    [{ hillXmin: 'xmin_low' }, /hillXmin must be one of xmin_mid, xmin_peak/],
    [{ estimators: 'traps' }, /needs randomize/],
  ])('rejects %j', (bad, message) => {
    expect(() => parseAnalysisConfig(bad)).toThrow(BadInputError);
    expect(() => parseAnalysisConfig(bad)).toThrow(message);
  });

  it('keeps the hashes results were stored under before the options existed', () => {
    // Values of the hash at 6cd69bf, before estimators/hillXmin were added (min_evals 10 then; the
    // default became WeightWatcher 0.7.7's 8 later, which rightly keys default results anew).
    expect(hashAnalysisConfig(parseAnalysisConfig({ minEvals: 10 }))).toBe(
      '15ac5591f5f8fee1eb3661fb79e8eaa0',
    );
    expect(hashAnalysisConfig(parseAnalysisConfig({ randomize: true, mpFit: true, minEvals: 10 }))).toBe(
      'b1156150daf1eca1da6fdb180a0935b9',
    );
    expect(hashAnalysisConfig(parseAnalysisConfig({ estimators: [], minEvals: 10 }))).toBe(
      '15ac5591f5f8fee1eb3661fb79e8eaa0',
    );
    expect(hashAnalysisConfig(parseAnalysisConfig({ estimators: [] }))).toBe(
      hashAnalysisConfig(defaultAnalysisConfig),
    );
  });

  it('keys results by the estimators and the x_min rule (order-free)', () => {
    const hill = hashAnalysisConfig(parseAnalysisConfig({ estimators: 'hill,farms' }));
    expect(hashAnalysisConfig(parseAnalysisConfig({ estimators: ['farms', 'hill'] }))).toBe(hill);
    expect(hill).not.toBe(hashAnalysisConfig(defaultAnalysisConfig));
    expect(
      hashAnalysisConfig(parseAnalysisConfig({ estimators: 'hill,farms', hillXmin: 'xmin_peak' })),
    ).not.toBe(hill);
  });
});

describe('trapSeverity', () => {
  it('sums the relative excess of randomized eigenvalues over the bulk edge', () => {
    expect(trapSeverity(new Float64Array([0.5, 1, 2]), 2)).toBe(0);
    expect(trapSeverity(new Float64Array([0.5, 1, 3, 6]), 2)).toBeCloseTo(0.5 + 2, 12);
  });
});
