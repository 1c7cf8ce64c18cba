/** Display helpers shared by pages and charts. */

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)) return value.toExponential(digits - 1);
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(digits);
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.round((100 * done) / total) : 0;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** A timestamp as "YYYY-MM-DD HH:MM:SS" (UTC), or an em dash when absent. */
export function formatWhen(d: Date | null): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 19) : '—';
}
