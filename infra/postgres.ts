/**
 * The stack's own PostgreSQL cluster: the machine's PostgreSQL 15 binaries, `initdb` into
 * <state>/postgres/data, listening on 127.0.0.1 only (no unix socket), never the system cluster.
 * initdb and postgres refuse to run as root, so as root the cluster belongs to an unprivileged
 * OS user (`postgres` if it exists, else a created `weightlens` system user).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ConfigError } from '../lib/errors.ts';
import { DEV_CREDENTIALS, type StackState } from './paths.ts';
import { ensurePortFree, waitUntil } from './ports.ts';
import { livePidFromFile, logTail } from './processes.ts';
import { pidServiceStatus, type ServiceStatus, serviceFiles } from './service.ts';

const PG_BIN_CANDIDATES = ['/usr/lib/postgresql/15/bin'];

export function postgresPaths(state: StackState) {
  const files = serviceFiles(state, 'postgres');
  return { ...files, pidFile: path.join(files.data, 'postmaster.pid') };
}

function postgresBinDir(): string {
  const candidates = process.env.WEIGHTLENS_PG_BIN ? [process.env.WEIGHTLENS_PG_BIN] : PG_BIN_CANDIDATES;
  const found = candidates.find((dir) => existsSync(path.join(dir, 'pg_ctl')));
  if (!found) {
    throw new ConfigError(
      `PostgreSQL binaries not found in ${candidates.join(', ')}; run \`apt-get install postgresql-15\` (npm run setup) or set WEIGHTLENS_PG_BIN`,
    );
  }
  return found;
}

const isRoot = () => process.getuid?.() === 0;

/** The OS user that owns and runs the cluster when we are root (created on first use). */
function clusterOsUser(): string | undefined {
  if (!isRoot()) return undefined;
  const exists = (name: string) => spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
  if (exists('postgres')) return 'postgres';
  if (!exists('weightlens')) {
    const made = spawnSync('useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'weightlens',
    ]);
    if (made.status !== 0) {
      throw new ConfigError(
        'cannot create the `weightlens` OS user for PostgreSQL; create it (useradd) or run as non-root',
      );
    }
  }
  return 'weightlens';
}

function chownTree(target: string, user: string): void {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  const walk = (p: string) => {
    chownSync(p, uid, gid);
    if (statSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(path.join(p, entry));
  };
  walk(target);
}

/** Run a PostgreSQL tool as the cluster's user; throws ConfigError with the output on failure. */
function runPgTool(tool: string, args: string[], what: string, logFile: string): void {
  const bin = path.join(postgresBinDir(), tool);
  const user = clusterOsUser();
  const asUser = user ? ['runuser', '-u', user, '--', bin, ...args] : [bin, ...args];
  // setsid: the postmaster would stay in our session otherwise, and a Ctrl-C would reach it.
  const result = spawnSync('setsid', asUser, { encoding: 'utf8', cwd: '/', timeout: 120_000 });
  if (result.status !== 0) {
    const output = `${result.stderr ?? ''} ${result.stdout ?? ''}`.replace(/\s+/g, ' ').trim();
    throw new ConfigError(
      `PostgreSQL ${what} failed: ${output || result.error?.message} (log: ${logFile} ${logTail(logFile, 3)})`,
    );
  }
}

function initCluster(state: StackState): void {
  const paths = postgresPaths(state);
  mkdirSync(paths.root, { recursive: true });
  mkdirSync(path.dirname(paths.logFile), { recursive: true });
  const pwFile = path.join(paths.root, 'initdb.pw');
  writeFileSync(pwFile, `${DEV_CREDENTIALS.pgPassword}\n`, { mode: 0o600 });
  writeFileSync(paths.logFile, '', { flag: 'a' });
  const user = clusterOsUser();
  if (user) {
    chownTree(paths.root, user);
    chownTree(paths.logFile, user);
    // Every parent folder must be traversable by that user (a state folder under /root is not).
    if (spawnSync('runuser', ['-u', user, '--', 'test', '-w', paths.root]).status !== 0) {
      throw new ConfigError(
        `PostgreSQL runs as OS user "${user}", who cannot reach ${paths.root}; set WEIGHTLENS_STATE_DIR to a folder whose parents are world-traversable`,
      );
    }
  }
  runPgTool(
    'initdb',
    [
      '-D',
      paths.data,
      '-U',
      DEV_CREDENTIALS.pgUser,
      `--pwfile=${pwFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=peer',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ],
    'initdb',
    paths.logFile,
  );
  // Settings that depend on the stack (port) go in a file rewritten on every start.
  writeFileSync(path.join(paths.data, 'postgresql.conf'), "\ninclude_if_exists = 'weightlens.conf'\n", {
    flag: 'a',
  });
}

function writeRuntimeConfig(state: StackState): void {
  const file = path.join(postgresPaths(state).data, 'weightlens.conf');
  writeFileSync(
    file,
    [
      `port = ${state.ports.postgres}`,
      `listen_addresses = '${state.host}'`,
      "unix_socket_directories = ''",
      // A dev/test cluster: durability across OS crashes is not worth the fsync cost on shared disks.
      'synchronous_commit = off',
      '',
    ].join('\n'),
  );
  const user = clusterOsUser();
  if (user) chownTree(file, user);
}

function adminConfig(state: StackState, database: string): pg.ClientConfig {
  return {
    host: state.host,
    port: state.ports.postgres,
    user: DEV_CREDENTIALS.pgUser,
    password: DEV_CREDENTIALS.pgPassword,
    database,
    connectionTimeoutMillis: 3_000,
  };
}

async function canQuery(state: StackState, database: string): Promise<boolean> {
  const client = new pg.Client(adminConfig(state, database));
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(state: StackState): Promise<void> {
  const client = new pg.Client(adminConfig(state, 'postgres'));
  try {
    await client.connect();
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DEV_CREDENTIALS.pgDatabase,
    ]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${DEV_CREDENTIALS.pgDatabase}"`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '28P01' || code === '28000') {
      throw new ConfigError(
        `PostgreSQL on port ${state.ports.postgres} rejected the dev credentials; it is not this stack's cluster — stop it or set WEIGHTLENS_PG_PORT`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function postgresPid(state: StackState): number | undefined {
  return livePidFromFile(postgresPaths(state).pidFile, 'postgres');
}

/** Start the cluster (initdb on first use) and create the `weightlens` database. Idempotent. */
export async function startPostgres(state: StackState): Promise<void> {
  const paths = postgresPaths(state);
  if (postgresPid(state) === undefined) {
    await ensurePortFree(state.host, state.ports.postgres, 'PostgreSQL', 'WEIGHTLENS_PG_PORT');
    if (!existsSync(path.join(paths.data, 'PG_VERSION'))) initCluster(state);
    writeRuntimeConfig(state);
    runPgTool(
      'pg_ctl',
      ['-D', paths.data, '-l', paths.logFile, '-w', '-t', '60', 'start'],
      'start',
      paths.logFile,
    );
  }
  const healthy = await waitUntil(() => canQuery(state, 'postgres'), { timeoutMs: 30_000, intervalMs: 250 });
  if (!healthy) {
    throw new ConfigError(
      `PostgreSQL did not accept connections on port ${state.ports.postgres} within 30 s; see ${paths.logFile}`,
    );
  }
  await ensureDatabase(state);
}

export async function stopPostgres(state: StackState): Promise<void> {
  const paths = postgresPaths(state);
  if (postgresPid(state) === undefined) return;
  runPgTool('pg_ctl', ['-D', paths.data, '-m', 'fast', '-w', '-t', '60', 'stop'], 'stop', paths.logFile);
}

export function postgresStatus(state: StackState): Promise<ServiceStatus> {
  const endpoint = `postgresql://${state.host}:${state.ports.postgres}/${DEV_CREDENTIALS.pgDatabase}`;
  const listen = { host: state.host, port: state.ports.postgres };
  return pidServiceStatus('postgres', postgresPid(state), listen, endpoint);
}
