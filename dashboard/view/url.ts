/** Build page links that keep the current filters and change only what is given. */
export type QueryValues = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export function hrefWith(path: string, current: QueryValues, changes: QueryValues = {}): string {
  const merged: QueryValues = { ...current, ...changes };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) {
    if (value === null || value === undefined || value === '' || value === false) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
