/** Ranking within a series: rank_in_family, grouping, and the across-families note. */
import { describe, expect, it } from 'vitest';
import { formatLeaderboardTable, renderLeaderboard } from '../../cli/commands/leaderboard.ts';
import { ACROSS_FAMILIES_NOTE, rankWithinFamilies } from '../../db/family-rank.ts';
import type { LeaderboardRow } from '../../db/leaderboard.ts';

const overall = [
  { rank: 1, family: 'esrgan-slim', id: 'x4' },
  { rank: 2, family: 'fmnist-mlp', id: 'ep03' },
  { rank: 3, family: 'esrgan-slim', id: 'x2' },
  { rank: 4, family: null, id: 'loose' },
  { rank: 5, family: 'fmnist-mlp', id: 'ep00' },
];

describe('rankWithinFamilies', () => {
  it('groups families by their best member and ranks within each', () => {
    const rows = rankWithinFamilies(overall);
    expect(rows.map((r) => [r.id, r.rank, r.rank_in_family])).toEqual([
      ['x4', 1, 1],
      ['x2', 3, 2],
      ['ep03', 2, 1],
      ['ep00', 5, 2],
      ['loose', 4, 1],
    ]);
  });

  it('keeps the overall order across families when asked, with rank_in_family still set', () => {
    const rows = rankWithinFamilies(overall, { acrossFamilies: true });
    expect(rows.map((r) => [r.id, r.rank_in_family])).toEqual([
      ['x4', 1],
      ['ep03', 1],
      ['x2', 2],
      ['loose', 1],
      ['ep00', 2],
    ]);
  });
});

function row(rank: number, family: string | null, checkpoint: string): LeaderboardRow {
  return {
    rank,
    rank_in_family: 0,
    checkpoint,
    uri: `file:///${checkpoint}`,
    family,
    step: null,
    score: rank,
    metric: 'alpha_weighted',
    alpha: 3,
    alpha_weighted: rank,
    log_norm: null,
    log_alpha_norm: null,
    log_spectral_norm: null,
    stable_rank: null,
    mp_softrank: null,
    layers_analyzed: 1,
    layers_failed: 0,
    over_trained: 0,
    under_trained: 0,
    correlation_traps: 0,
    known_test_accuracy: null,
  };
}

describe('leaderboard table', () => {
  const rows = rankWithinFamilies([row(1, 'b', 'b1'), row(2, 'a', 'a1'), row(3, 'b', 'b2')]);

  it('prints one table per series, saying which', () => {
    const text = formatLeaderboardTable(rows, 'alpha_weighted');
    const titles = text.split('\n').filter((l) => l.startsWith('series '));
    expect(titles).toEqual([
      'series b (2 checkpoints), ranked within the series',
      'series a (1 checkpoint), ranked within the series',
    ]);
    expect(text).not.toContain(ACROSS_FAMILIES_NOTE);
  });

  it('notes the caveat when ranking across families', () => {
    const across = rankWithinFamilies([row(1, 'b', 'b1'), row(2, 'a', 'a1')], { acrossFamilies: true });
    const text = renderLeaderboard(across, 'alpha_weighted', 'table', true);
    expect(text.split('\n')[0]).toBe(ACROSS_FAMILIES_NOTE);
    expect(text).not.toContain('ranked within the series');
    const json = JSON.parse(renderLeaderboard(across, 'alpha_weighted', 'json', true)) as LeaderboardRow[];
    expect(json.map((r) => [r.rank, r.rank_in_family])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });
});
