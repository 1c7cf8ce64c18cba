/**
 * A `@prisma/adapter-pg` factory fit for the schema engine (migrations), working around four
 * adapter-pg defects found in 7.10 (see ../shared/notes/infra.md §1a):
 * 1. Postgres' internal `"char"` columns (OID 18, e.g. pg_constraint.contype) are rejected by the
 *    adapter's column-type mapping → relabel them as TEXT (pg already parses them as strings).
 * 2. With a `connectionString`, the URL's database overrides the shadow database name, so shadow
 *    work would run on the main database → always pass discrete host/port/user/database fields.
 * 3. The shadow database is dropped before its pool closes (and so never dropped) → close first,
 *    then `DROP DATABASE … WITH (FORCE)`.
 * 4. `executeScript` splits scripts on every `;` (breaks `$$` bodies, not atomic) → send the whole
 *    script as one simple-protocol query, as the native engine does.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

type AnyFn = (...args: unknown[]) => unknown;

function charFieldsAsText<T>(result: T): T {
  const fields = (result as { fields?: { dataTypeID: number }[] } | undefined)?.fields;
  for (const field of fields ?? []) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  return result;
}

/** pg.Client whose results report `"char"` columns as TEXT (callback and promise forms). */
class CharAsTextClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = pg.Client.prototype.query.bind(this) as AnyFn;
    // pg.Client#query has many overloads; patching the instance keeps them all without restating them.
    (this as unknown as { query: AnyFn }).query = (...args: unknown[]) => {
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (err: unknown, res: unknown) => (callback as AnyFn)(err, charFieldsAsText(res));
        return query(...args);
      }
      const out = query(...args);
      return out instanceof Promise ? out.then(charFieldsAsText) : out;
    };
  }
}

/** Discrete pg pool fields from a postgres:// URL (never `connectionString`, see defect 2). */
export function poolConfigFromUrl(databaseUrl: string): pg.PoolConfig {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    Client: CharAsTextClient,
  };
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/** Defect 4: run a migration script as one query; errors go through the adapter's own mapping. */
function runScriptsWhole(adapter: PgAdapter): PgAdapter {
  // onError is `protected` in the typings but is how the adapter converts pg errors for the engine.
  const mapError = (adapter as unknown as { onError(err: unknown): never }).onError.bind(adapter);
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (err) {
      mapError(err);
    }
  };
  return adapter;
}

async function adminQuery(config: pg.PoolConfig, sql: string): Promise<void> {
  const { Client: _client, ...plain } = config;
  const client = new pg.Client(plain);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export class MigrationPgFactory extends PrismaPg {
  private readonly poolConfig: pg.PoolConfig;

  constructor(databaseUrl: string) {
    const poolConfig = poolConfigFromUrl(databaseUrl);
    super(poolConfig);
    this.poolConfig = poolConfig;
  }

  override async connect(): Promise<PgAdapter> {
    return runScriptsWhole(await super.connect());
  }

  override async connectToShadowDb(): Promise<PgAdapter> {
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
    await adminQuery(this.poolConfig, `CREATE DATABASE "${database}"`);
    const adapter = runScriptsWhole(await new PrismaPg({ ...this.poolConfig, database }).connect());
    const close = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await close();
      await adminQuery(this.poolConfig, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    };
    return adapter;
  }
}
