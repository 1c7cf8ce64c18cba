/**
 * Whether the dashboard's database answers, for its error page: a page that failed because
 * Postgres is down says so (where it was looked for, what it answered, what to run), instead of a
 * stack trace or a blank page. The target is host:port/database only: never credentials.
 */
import { db } from './client.ts';

export interface DatabaseHealth {
  reachable: boolean;
  /** host:port/database of DATABASE_URL, or why there is none. */
  target: string;
  /** The error's last line (the cause) when unreachable. */
  detail: string | null;
}

/** How long the probe waits for `SELECT 1` (a black-holed database never answers). */
const PROBE_TIMEOUT_MS = 5_000;

export function databaseTarget(url: string | undefined = process.env.DATABASE_URL): string {
  if (!url) return 'DATABASE_URL is not set';
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL (not a URL)';
  }
}

/** Prisma's messages open with an invocation and a code frame; the cause is the last line. */
function causeLine(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const last = lines[lines.length - 1] ?? (err instanceof Error ? err.name : 'unknown error');
  // The driver adapter wraps the cause: "Raw query failed. Code: `N/A`. Message: `<cause>`".
  return /Message: `(.+)`$/.exec(last)?.[1] ?? last;
}

export async function databaseHealth(timeoutMs = PROBE_TIMEOUT_MS): Promise<DatabaseHealth> {
  const target = databaseTarget();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await Promise.race([db().$queryRaw`SELECT 1`, timeout]);
    return { reachable: true, target, detail: null };
  } catch (err) {
    return { reachable: false, target, detail: causeLine(err) };
  } finally {
    clearTimeout(timer);
  }
}
