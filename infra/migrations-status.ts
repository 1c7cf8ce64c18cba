/**
 * A fast "is anything left to migrate?" check straight from _prisma_migrations, so commands that
 * start the stack do not pay for a Prisma CLI run (~3 s) when the schema is already current.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ConfigError } from '../lib/errors.ts';
import { repoRoot } from './paths.ts';
import { describeConnectionFailure } from './tls.ts';

export const migrationsDir = path.join(repoRoot, 'prisma', 'migrations');

export function migrationNames(): string[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Migration folders not (successfully) applied to the database; all of them when it is empty. */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const table = await client.query("SELECT to_regclass('_prisma_migrations') AS name");
    if (table.rows[0]?.name === null) return migrationNames();
    const applied = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const done = new Set(applied.rows.map((row) => row.migration_name));
    return migrationNames().filter((name) => !done.has(name));
  } catch (err) {
    // A missing database is "everything pending": `migrate deploy` creates it.
    if ((err as { code?: string }).code === '3D000') return migrationNames();
    throw databaseConfigError(databaseUrl, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connection failures as one line that says what to do (other errors pass through). */
export function databaseConfigError(databaseUrl: string, err: unknown): unknown {
  const code = (err as { code?: string }).code;
  const url = new URL(databaseUrl);
  const where = `${url.hostname}:${url.port || 5432}`;
  if (code === '28P01' || code === '28000') {
    return new ConfigError(
      `Postgres at ${where} rejected user "${url.username}"; check the credentials in DATABASE_URL`,
      {
        cause: err,
      },
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return new ConfigError(
      `cannot reach Postgres at ${where}; start the local stack (npx weightlens stack up) or fix DATABASE_URL`,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : '';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code ?? '') || /does not support SSL/.test(message)) {
    return new ConfigError(describeConnectionFailure('Postgres', where, err), { cause: err });
  }
  return err;
}
