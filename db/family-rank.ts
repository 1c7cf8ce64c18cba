/**
 * Ranking within a series. HT-SR metrics predict *trends* of quality within one family of models
 * (one architecture and task, different training); a number compared across a super-resolution
 * family and a classifier means nothing. So leaderboards rank within each family by default
 * (`rank_in_family`), list the families as groups (ordered by their best member), and rank across
 * families only when asked. `rank` stays the position in the overall ordering by the metric.
 */

/** Rows with no family form one group under this name. */
export const NO_FAMILY = '(no family)';

/** The one-line caveat printed when ranking across families. */
export const ACROSS_FAMILIES_NOTE =
  'note: ranked across families; these metrics compare models of one series (rank_in_family ranks within each)';

export interface FamilyRanked {
  rank_in_family: number;
}

export function familyOf(row: { family: string | null }): string {
  return row.family ?? NO_FAMILY;
}

/**
 * Rows already in overall rank order → the same rows with `rank_in_family`, grouped by family
 * (families in the order of their best-ranked member) unless `acrossFamilies`.
 */
export function rankWithinFamilies<T extends { rank: number; family: string | null }>(
  rows: readonly T[],
  options: { acrossFamilies?: boolean } = {},
): (T & FamilyRanked)[] {
  const counts = new Map<string, number>();
  const ranked = rows.map((row) => {
    const family = familyOf(row);
    const next = (counts.get(family) ?? 0) + 1;
    counts.set(family, next);
    return { ...row, rank_in_family: next };
  });
  if (options.acrossFamilies) return ranked;
  const order = [...counts.keys()];
  const byFamily = new Map(order.map((family) => [family, [] as (T & FamilyRanked)[]]));
  for (const row of ranked) byFamily.get(familyOf(row))!.push(row);
  return order.flatMap((family) => byFamily.get(family)!);
}

/** The families of ranked rows in display order, with their member counts. */
export function familyGroups(
  rows: readonly { family: string | null }[],
): { family: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(familyOf(row), (counts.get(familyOf(row)) ?? 0) + 1);
  return [...counts].map(([family, count]) => ({ family, count }));
}
