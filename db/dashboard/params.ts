/**
 * The dashboard pages' URL parameters, parsed one way: the first value of a key, every value of a
 * repeated or comma-separated key, a value from a fixed set (anything else is the fallback, so
 * nothing user-typed reaches SQL text), and the sweep/family filter every ranked or plotted view has.
 */
export type SearchParams = Record<string, string | string[] | undefined>;

/** The first value of `key`, or null when it is missing or empty. */
export function firstParam(params: SearchParams, key: string): string | null {
  const value = params[key];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first;
}

/** Every value of `key`, repeated (`?ids=a&ids=b`) or comma-separated (`?ids=a,b`). */
export function allParams(params: SearchParams, key: string): string[] {
  const value = params[key];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.flatMap((item) => item.split(',')).filter((item) => item !== '');
}

/** The value of `key` when it is one of `allowed` (a list or a type guard), else `fallback`. */
export function choiceParam<T extends string>(
  params: SearchParams,
  key: string,
  allowed: readonly T[] | ((value: string) => value is T),
  fallback: T,
): T {
  const value = firstParam(params, key);
  if (value === null) return fallback;
  const known =
    typeof allowed === 'function' ? allowed(value) : (allowed as readonly string[]).includes(value);
  return known ? (value as T) : fallback;
}

export interface SweepFamilyFilter {
  sweepId: string | null;
  family: string | null;
}

/** `?sweep=<id>&family=<name>`: the filter of the leaderboard, trends and metric-vs-accuracy pages. */
export function sweepFamilyParams(params: SearchParams): SweepFamilyFilter {
  return { sweepId: firstParam(params, 'sweep'), family: firstParam(params, 'family') };
}
