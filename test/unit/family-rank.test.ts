/**
 * Ranking within a series, as the CLI prints it: one table per family, and the across-families note.
 * (The ranks themselves come from SQL: test/integration/leaderboard.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { formatLeaderboardTable, renderLeaderboard } from '../../cli/commands/leaderboard.ts';
import { ACROSS_FAMILIES_NOTE } from '../../db/family-rank.ts';
import type { LeaderboardRow } from '../../db/leaderboard.ts';

function row(rank: number, rankInFamily: number, family: string | null, checkpoint: string): LeaderboardRow {
  return {
    rank,
    rank_in_family: rankInFamily,
    checkpoint,
    checkpoint_id: checkpoint,
    config_hash: 'c',
    uri: `file:///${checkpoint}`,
    family,
    run: null,
    step: null,
    epoch: null,
    score: rank,
    metric: 'alpha_weighted',
    alpha: 3,
    alpha_weighted: rank,
    log_norm: null,
    log_alpha_norm: null,
    log_spectral_norm: null,
    stable_rank: null,
    mp_softrank: null,
    alpha_hill: null,
    alpha_farms: null,
    layers_analyzed: 1,
    layers_failed: 0,
    over_trained: 0,
    under_trained: 0,
    correlation_traps: 0,
    known_test_accuracy: null,
    hessian_top: null,
    hessian_trace: null,
  };
}

describe('leaderboard table', () => {
  const rows = [row(1, 1, 'b', 'b1'), row(3, 2, 'b', 'b2'), row(2, 1, 'a', 'a1')];

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
    const across = [row(1, 1, 'b', 'b1'), row(2, 1, 'a', 'a1')];
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
