import { describe, expect, it } from 'vitest';
import {
  correlate,
  groupCorrelations,
  kendallPValue,
  withDerivedMetrics,
  type ZooPoint,
} from '../../../zoo/trends/analysis.ts';
import {
  abbreviateArgs,
  type LeaderboardEntry,
  parseLeaderboard,
  rowsByCheckpointDir,
} from '../../../zoo/trends/pipeline.ts';
import { verdict } from '../../../zoo/trends/report.ts';

function point(
  id: string,
  varies: string,
  epoch: number,
  accuracy: number,
  alpha: number,
  shuffledAlpha = 6,
): ZooPoint {
  return {
    id,
    set: 'fmnist-mlp',
    varies,
    run: varies === 'epochs' || varies === 'base' ? 'fmnist-mlp-base' : id,
    epoch,
    finalEpoch: 3,
    accuracy,
    hyperparameters: {},
    trained: { alpha, alpha_weighted: alpha * 2, log_spectral_norm: 1 },
    shuffled: { alpha: shuffledAlpha },
  };
}

describe('kendallPValue', () => {
  it('matches the normal approximation and shrinks with n', () => {
    // n = 10, τ = 0.6: z = 0.6 / sqrt(2·25/(9·90)) = 2.415 → p ≈ 0.0157
    expect(kendallPValue(0.6, 10)).toBeCloseTo(0.01573, 3);
    expect(kendallPValue(0.6, 30)!).toBeLessThan(kendallPValue(0.6, 10)!);
    expect(kendallPValue(0, 10)).toBeCloseTo(1, 6);
    expect(kendallPValue(1, 2)).toBeNull();
  });
});

describe('correlate and verdict', () => {
  it('aligns the sign with the expected direction', () => {
    const accuracy = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95];
    const falling = correlate('alpha', [7, 6, 5, 4, 3.5, 3, 2], accuracy);
    expect(falling.tau).toBeCloseTo(-1, 12);
    expect(falling.tauAligned).toBeCloseTo(1, 12);
    expect(verdict(falling)).toBe('agrees');
    const rising = correlate('alpha', [2, 3, 3.5, 4, 5, 6, 7], accuracy);
    expect(verdict(rising)).toBe('opposite');
    const flat = correlate('alpha', [null, 3, null, 3.1, 2.9, null, null], accuracy);
    expect(flat.n).toBe(3);
    expect(verdict(flat)).toBe('none');
  });
});

describe('withDerivedMetrics', () => {
  it('computes delta_alpha = shuffled α − trained α, null without a control', () => {
    expect(withDerivedMetrics(point('a', 'base', 3, 0.8, 3.5, 5)).trained.delta_alpha).toBeCloseTo(1.5, 12);
    expect(
      withDerivedMetrics({ ...point('a', 'base', 3, 0.8, 3.5), shuffled: null }).trained.delta_alpha,
    ).toBeNull();
  });
});

describe('groupCorrelations', () => {
  it('builds controlled groups around the base run and an epochs group', () => {
    const points = [
      point('base-ep00', 'epochs', 0, 0.1, 8),
      point('base-ep01', 'epochs', 1, 0.7, 5),
      point('base-ep03', 'base', 3, 0.8, 4),
      point('bs256', 'batch_size', 3, 0.75, 4.5),
      point('bs1024', 'batch_size', 3, 0.6, 6),
      point('noise0.4', 'label_noise', 3, 0.7, 3),
    ];
    const groups = new Map(groupCorrelations(points).map((g) => [g.group, g]));
    expect(groups.get('all')!.ids).toHaveLength(6);
    expect(groups.get('all-trained')!.ids).not.toContain('base-ep00');
    expect(groups.get('fmnist-mlp/batch_size')!.ids).toEqual(['base-ep03', 'bs256', 'bs1024']);
    expect(groups.get('fmnist-mlp/label_noise')!.ids).toEqual(['base-ep03', 'noise0.4']);
    expect(groups.get('fmnist-mlp/epochs')!.ids).toEqual(['base-ep00', 'base-ep01', 'base-ep03']);
    const alphaInBatch = groups.get('fmnist-mlp/batch_size')!.trained.find((c) => c.metric === 'alpha')!;
    expect(alphaInBatch.tau).toBeCloseTo(-1, 12);
  });
});

describe('rowsByCheckpointDir', () => {
  it('keeps one row per directory, preferring model.json', () => {
    const row = (uri: string, alpha: number): LeaderboardEntry => ({
      uri,
      known_test_accuracy: 0.8,
      layers_analyzed: 3,
      layers_failed: 0,
      correlation_traps: 0,
      metrics: { alpha },
    });
    const rows = rowsByCheckpointDir([
      row('file:///z/a/model.safetensors', 1),
      row('file:///z/a/model.json', 2),
      row('file:///z/b/model.safetensors', 3),
    ]);
    expect(rows.size).toBe(2);
    expect(rows.get('a')!.metrics.alpha).toBe(2);
    expect(rows.get('b')!.format).toBe('safetensors');
  });

  it('parses the leaderboard JSON fields it needs', () => {
    const parsed = parseLeaderboard(
      JSON.stringify([
        { uri: 'file:///z/a/model.json', alpha: 3.2, mp_softrank: null, known_test_accuracy: 0.5 },
      ]),
    );
    expect(parsed[0]!.metrics.alpha).toBe(3.2);
    expect(parsed[0]!.metrics.mp_softrank).toBeNull();
    expect(parsed[0]!.known_test_accuracy).toBe(0.5);
  });
});

describe('abbreviateArgs', () => {
  it('shows two of many source paths and keeps the options', () => {
    const sources = ['/z/a', '/z/b', '/z/c', '/z/d'];
    expect(abbreviateArgs(['sweep', ...sources, '--wait', '--config', '/tmp/c.json'])).toBe(
      'sweep /z/a /z/b …(2 more) --wait --config /tmp/c.json',
    );
    expect(abbreviateArgs(['leaderboard', '--sweep', 'x'])).toBe('leaderboard --sweep x');
  });
});
