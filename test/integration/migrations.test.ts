/**
 * Migrations offline (stock Prisma CLI + the WASM schema-engine shim): they apply to an empty
 * database, a second run is a no-op, the result matches schema.prisma exactly (so a schema edit
 * without a migration fails here), and no shadow database is left behind.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, runPrismaCli, schemaEngineShim } from '../../infra/migrate.ts';
import { migrationNames, pendingMigrations } from '../../infra/migrations-status.ts';
import { runCli } from './cli-helpers.ts';

const services = inject('services');

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: withDatabase(services.databaseUrl, 'postgres') });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe('migrations (offline, stock prisma CLI through the WASM engine shim)', () => {
  const database = `wl_migrate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const url = withDatabase(services.databaseUrl, database);

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE "${database}"`);
  });
  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('applies every migration to an empty database, then a second run is a no-op', async () => {
    expect(await pendingMigrations(url)).toEqual(migrationNames());
    await applyMigrations(url);
    expect(await pendingMigrations(url)).toEqual([]);
    const second = await applyMigrations(url);
    expect(second).toMatch(/No pending migrations/);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await client.query<{ migration_name: string; applied_steps_count: number }>(
        'SELECT migration_name, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
      );
      expect(rows.rows.map((r) => r.migration_name)).toEqual(migrationNames());
      const tables = await client.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );
      expect(tables.rows.map((r) => r.tablename)).toEqual(
        expect.arrayContaining([
          'Checkpoint',
          'LayerResult',
          'Sweep',
          'SweepCheckpoint',
          '_prisma_migrations',
        ]),
      );
    } finally {
      await client.end();
    }
  });

  it('leaves the database identical to schema.prisma (no schema edit without a migration)', async () => {
    const diff = await runPrismaCli(
      [
        'migrate',
        'diff',
        '--from-config-datasource',
        '--to-schema',
        'prisma/schema.prisma',
        '--script',
        '--exit-code',
      ],
      url,
    );
    expect(diff).toMatch(/empty migration/i);
    const status = await runPrismaCli(['migrate', 'status'], url);
    expect(status).toMatch(/up to date/i);
  });

  it('`weightlens db migrate` on a migrated database reports it up to date', async () => {
    const result = await runCli(['db', 'migrate'], { DATABASE_URL: url });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/up to date/);
  });

  it('the shim stands in for the engine version the CLI expects', async () => {
    const versions = await runPrismaCli(['-v']);
    const shim = /Schema Engine\s*:\s*schema-engine-cli (\w+) \(at infra\/prisma-schema-engine\.mjs/.exec(
      versions,
    );
    const expected = /Default Engines Hash\s*:\s*(\w+)/.exec(versions);
    expect(shim?.[1]).toBeDefined();
    expect(shim?.[1]).toBe(expected?.[1]);
  });

  it('the shim answers the CLI database commands with Prisma error codes', () => {
    const scratch = `wl_shim_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const shimCli = (command: string) =>
      spawnSync(
        process.execPath,
        [
          schemaEngineShim,
          '--datasource',
          JSON.stringify({ url: withDatabase(url, scratch) }),
          'cli',
          command,
        ],
        { encoding: 'utf8' },
      );
    const missing = shimCli('can-connect-to-database');
    expect(missing.status).toBe(1);
    // The CLI ignores the first stderr line and reads JSON log lines after it.
    const logged = missing.stderr
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line));
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'ERROR', fields: expect.objectContaining({ error_code: 'P1003' }) }),
    );
    expect(shimCli('create-database').status).toBe(0);
    expect(shimCli('can-connect-to-database').status).toBe(0);
    expect(shimCli('drop-database').status).toBe(0);
    expect(shimCli('can-connect-to-database').status).toBe(1);
  });

  it('leaves no shadow database behind', async () => {
    const shadows = await adminQuery<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'",
    );
    expect(shadows).toEqual([]);
  });
});
