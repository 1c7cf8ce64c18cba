/** Display helpers shared by pages and charts. */

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)) return value.toExponential(digits - 1);
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(digits);
}

/**
 * A short human name: the sidecar's name if any, else the end of the URI. Checkpoints are often
 * directories of generic files (step-0003/model.safetensors), so a generic file name keeps its parent.
 */
export function checkpointDisplayName(uri: string, metadataName: string | null | undefined): string {
  if (metadataName) return metadataName;
  const segments = uri.replace(/\/+$/, '').split('/');
  const last = segments[segments.length - 1] ?? uri;
  const parent = segments.length > 3 ? segments[segments.length - 2] : undefined;
  const generic = /^(model|pytorch_model|tf_model|weights|checkpoint|adapter_model)([.-]|$)/i.test(last);
  return generic && parent ? `${parent}/${last}` : last;
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
