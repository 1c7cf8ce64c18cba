/**
 * Ranking within a series. HT-SR metrics predict *trends* of quality within one family of models
 * (one architecture and task, different training); a number compared across a super-resolution
 * family and a classifier means nothing. So leaderboards rank within each family by default
 * (`rank_in_family`), list the families as groups (ordered by their best member), and rank across
 * families only when asked. `rank` stays the rank in the overall ordering by the metric. The
 * ranking itself is SQL (`db/leaderboard.ts`); these are the words and groups around it.
 */

/** Rows with no family form one group under this name. */
export const NO_FAMILY = '(no family)';

/** The one-line caveat printed when ranking across families. */
export const ACROSS_FAMILIES_NOTE =
  'note: ranked across families; these metrics compare models of one series (rank_in_family ranks within each)';

/** The one-line caveat shown above rows grouped per family (the dashboard's default view). */
export const WITHIN_FAMILIES_NOTE =
  'ranked within each series: these metrics compare models of one series, not across series';

export interface FamilyRanked {
  rank_in_family: number;
}

export function familyOf(row: { family: string | null }): string {
  return row.family ?? NO_FAMILY;
}

/** The families of ranked rows in display order, with their member counts. */
export function familyGroups(
  rows: readonly { family: string | null }[],
): { family: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(familyOf(row), (counts.get(familyOf(row)) ?? 0) + 1);
  return [...counts].map(([family, count]) => ({ family, count }));
}
