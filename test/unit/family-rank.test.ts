/**
 * Ranking within a series, as the CLI prints it: one table per family, and the across-families note.
 * (The ranks themselves come from SQL: test/integration/leaderboard.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { formatLeaderboardTable, renderLeaderboard } from '../../cli/commands/leaderboard.ts';
import { ACROSS_FAMILIES_NOTE } from '../../db/family-rank.ts';
import type { LeaderboardRow } from '../../db/leaderboard.ts';
import { leaderboardRow } from './leaderboard-row.ts';

function row(rank: number, rankInFamily: number, family: string | null, checkpoint: string): LeaderboardRow {
  return leaderboardRow({
    rank,
    rank_in_family: rankInFamily,
    checkpoint,
    family,
    score: rank,
    alpha: 3,
    alpha_weighted: rank,
  });
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
