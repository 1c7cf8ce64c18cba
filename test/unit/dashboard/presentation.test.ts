/** Pure presentation helpers of the dashboard: URL parsing, names, ESD binning, MP edge, links. */
import { describe, expect, it } from 'vitest';
import { bulkEdge, esdPlotData, logHistogram } from '../../../dashboard/view/esd.ts';
import { formatNumber } from '../../../dashboard/view/format.ts';
import { hrefWith } from '../../../dashboard/view/url.ts';
import { checkpointDisplayName } from '../../../db/checkpoint-name.ts';
import { curvatureForLayer, curvaturePerLayer } from '../../../db/dashboard/checkpoint.ts';
import { LEADERBOARD_PAGE_SIZE, parseLeaderboardQuery } from '../../../db/dashboard/leaderboard.ts';
import { allParams } from '../../../db/dashboard/params.ts';

describe('parseLeaderboardQuery', () => {
  it('defaults to mean alpha_weighted, lower is better, rank order, page 1', () => {
    expect(parseLeaderboardQuery({})).toEqual({
      metric: 'alpha_weighted',
      lowerIsBetter: true,
      sweepId: null,
      family: null,
      search: null,
      acrossFamilies: false,
      sort: 'rank',
      direction: 'asc',
      page: 1,
      pageSize: LEADERBOARD_PAGE_SIZE,
    });
  });

  it('keeps whitelisted values and drops anything else (nothing user-typed reaches SQL text)', () => {
    const query = parseLeaderboardQuery({
      metric: 'log_norm',
      better: 'higher',
      sort: 'step',
      dir: 'desc',
      page: '3',
      q: '  resnet ',
      family: ['a', 'b'],
    });
    expect(query).toMatchObject({
      metric: 'log_norm',
      lowerIsBetter: false,
      sort: 'step',
      direction: 'desc',
      page: 3,
      search: 'resnet',
      family: 'a',
    });
    const hostile = parseLeaderboardQuery({ metric: 'alpha; DROP TABLE x', sort: 'c.uri; --', page: '-4' });
    expect(hostile.metric).toBe('alpha_weighted');
    expect(hostile.sort).toBe('rank');
    expect(hostile.page).toBe(1);
  });
});

describe('checkpointDisplayName', () => {
  it('prefers the sidecar name, keeps the parent of generic file names', () => {
    expect(checkpointDisplayName('s3://b/zoo/run/step-3/model.safetensors', 'nice')).toBe('nice');
    expect(checkpointDisplayName('s3://b/zoo/run/step-3/model.safetensors', null)).toBe(
      'step-3/model.safetensors',
    );
    expect(checkpointDisplayName('/data/resnet50.onnx', null)).toBe('resnet50.onnx');
    expect(checkpointDisplayName('model.safetensors', null)).toBe('model.safetensors');
  });
});

describe('formatNumber', () => {
  it('uses fixed digits in the usual range and exponents outside it', () => {
    expect(formatNumber(2.71234)).toBe('2.712');
    expect(formatNumber(12)).toBe('12');
    expect(formatNumber(123456.7)).toBe('1.23e+5');
    expect(formatNumber(0.00012)).toBe('1.20e-4');
    expect(formatNumber(null)).toBe('—');
  });
});

describe('logHistogram', () => {
  it('bins positive eigenvalues on log-spaced edges with densities that integrate to their share', () => {
    const values = Float64Array.from([0, 0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100, 1000]);
    const bins = logHistogram(values, 5);
    expect(bins).toHaveLength(5);
    expect(bins[0]!.x1).toBeCloseTo(0.01, 12);
    expect(bins[4]!.x2).toBeCloseTo(1000, 9);
    for (let i = 1; i < bins.length; i++) {
      expect(bins[i]!.x1).toBeCloseTo(bins[i - 1]!.x2, 12);
      expect(bins[i]!.x2 / bins[i]!.x1).toBeCloseTo(10, 9);
    }
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(10); // the zero is not on a log axis
    const mass = bins.reduce((sum, bin) => sum + bin.density * (bin.x2 - bin.x1), 0);
    expect(mass).toBeCloseTo(10 / 11, 12);
  });

  it('returns no bins when nothing is positive', () => {
    expect(logHistogram(Float64Array.from([0, -1]))).toEqual([]);
  });
});

describe('MP bulk edge and the power-law overlay', () => {
  const base = { storedBulkMax: null, sigmaMp: null, Q: null, mpSoftrank: null, lambdaMax: null };

  it('prefers the stored bulk_max, then mp_softrank·λmax, then σ_mp on the unit-mean scale', () => {
    expect(bulkEdge({ ...base, storedBulkMax: 2.5, mpSoftrank: 0.5, lambdaMax: 10 }, 1)).toBe(2.5);
    expect(bulkEdge({ ...base, mpSoftrank: 0.5, lambdaMax: 10 }, 1)).toBe(5);
    expect(bulkEdge({ ...base, sigmaMp: 1, Q: 4 }, 2)).toBeCloseTo(1.5 ** 2 * 2, 12);
    expect(bulkEdge(base, 1)).toBeNull();
  });

  it('draws p(x) = share·(α−1)/xmin·(x/xmin)^−α from xmin to λmax', () => {
    const eigenvalues = Float64Array.from([0.5, 1, 2, 3, 4, 8]);
    const plot = esdPlotData(
      { ...base, layerName: 'l', esdUri: 'x', alpha: 3, xmin: 2, lambdaMax: 8, mpSoftrank: 0.25 },
      eigenvalues,
    );
    const share = 4 / 6;
    expect(plot.powerLaw[0]!.x).toBeCloseTo(2, 12);
    expect(plot.powerLaw[0]!.density).toBeCloseTo((share * 2) / 2, 12);
    const last = plot.powerLaw[plot.powerLaw.length - 1]!;
    expect(last.x).toBeCloseTo(8, 9);
    expect(last.density).toBeCloseTo(share * (2 / 2) * 4 ** -3, 12);
    expect(plot.bulkEdge).toBe(2);
  });
});

describe('curvaturePerLayer', () => {
  it('reads both the list and the keyed form, keeping numeric fields only', () => {
    expect(curvaturePerLayer([{ name: 'fc1', top: 3, note: 'x' }, { nope: 1 }])).toEqual(
      new Map([['fc1', { top: 3 }]]),
    );
    expect(curvaturePerLayer({ fc2: { trace: 9 } })).toEqual(new Map([['fc2', { trace: 9 }]]));
    expect(curvaturePerLayer(null).size).toBe(0);
  });

  it("gives a weight tensor row its model layer's curvature when no row has the tensor's name", () => {
    const perLayer = curvaturePerLayer([
      { name: 'conv2d_1', top_eigenvalue: 5, trace: 40 },
      { name: 'dense_1/kernel', trace: 7 },
    ]);
    expect(curvatureForLayer(perLayer, 'conv2d_1/kernel')).toEqual({ top_eigenvalue: 5, trace: 40 });
    expect(curvatureForLayer(perLayer, 'dense_1/kernel')).toEqual({ trace: 7 });
    expect(curvatureForLayer(perLayer, 'conv2d_2/kernel')).toBeUndefined();
    expect(curvatureForLayer(perLayer, 'conv2d_1')).toEqual({ top_eigenvalue: 5, trace: 40 });
  });
});

describe('links', () => {
  it('keeps current filters, drops empty ones, repeats arrays', () => {
    expect(hrefWith('/', { sweep: 's1', q: null, page: 2 }, { page: 3, sort: 'step' })).toBe(
      '/?sweep=s1&page=3&sort=step',
    );
    expect(hrefWith('/compare', { ids: ['a', 'b'] })).toBe('/compare?ids=a&ids=b');
    expect(allParams({ ids: ['a,b', 'c'] }, 'ids')).toEqual(['a', 'b', 'c']);
  });
});
