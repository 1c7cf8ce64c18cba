/** The metric-vs-accuracy page's pure parts: which metrics it offers and τ grouped by series. */
import { describe, expect, it } from 'vitest';
import { type AccuracyPoint, seriesCorrelations } from '../../../db/dashboard/accuracy.ts';
import { NO_FAMILY } from '../../../db/family-rank.ts';
import { ACCURACY_METRICS, accuracyMetric, isAccuracyMetric } from '../../../lib/metrics/display.ts';
import { CHECKPOINT_METRICS, LAYER_METRICS } from '../../../lib/metrics/registry.ts';
import { kendallTauB } from '../../../lib/stats/rank-correlation.ts';

describe('ACCURACY_METRICS', () => {
  it('offers every registered metric once: summaries from their columns, other layer metrics as layer means', () => {
    const names = ACCURACY_METRICS.map((metric) => metric.name);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of CHECKPOINT_METRICS) {
      expect(accuracyMetric(metric.name).source).toEqual({ kind: 'summary', column: expect.any(String) });
    }
    const summarized = new Set<string>(CHECKPOINT_METRICS.map((metric) => metric.of));
    for (const metric of LAYER_METRICS) {
      expect(isAccuracyMetric(metric.name), metric.name).toBe(true);
      if (!summarized.has(metric.name)) expect(accuracyMetric(metric.name).source.kind).toBe('layer-mean');
    }
    for (const estimator of [
      'alpha_hill',
      'alpha_farms',
      'detX_num',
      'detX_val',
      'num_ERG_spikes',
      'ERG_gap',
    ]) {
      expect(isAccuracyMetric(estimator), estimator).toBe(true);
    }
    expect(accuracyMetric('detX_num').source).toEqual({ kind: 'layer-mean', column: 'detXNum' });
    expect(isAccuracyMetric('alpha_bogus')).toBe(false);
  });
});

describe('seriesCorrelations', () => {
  const point = (family: string | null, accuracy: number, alpha: number | null): AccuracyPoint => ({
    checkpointId: `${family}-${accuracy}`,
    name: `${family}-${accuracy}`,
    family,
    accuracy,
    values: { alpha },
  });

  it('computes τ within each family, families by name and checkpoints without one last', () => {
    const points = [
      point(null, 0.5, 1),
      point('b', 0.1, 1),
      point('b', 0.2, 2),
      point('b', 0.3, 3),
      point('a', 0.1, 3),
      point('a', 0.2, 1),
      point('a', 0.3, 2),
      point('a', 0.4, null),
    ];
    const groups = seriesCorrelations(points, ['alpha']);
    expect(groups.map((group) => [group.series, group.checkpoints])).toEqual([
      ['a', 4],
      ['b', 3],
      [NO_FAMILY, 1],
    ]);
    expect(groups[0]!.rows[0]).toMatchObject({
      metric: 'alpha',
      n: 3,
      kendallTau: kendallTauB([3, 1, 2], [0.1, 0.2, 0.3]).value,
    });
    expect(groups[1]!.rows[0]).toMatchObject({ n: 3, kendallTau: 1 });
    expect(groups[2]!.rows[0]).toMatchObject({ n: 1, kendallTau: null });
  });
});
