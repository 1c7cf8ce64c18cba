/**
 * Secure connections against real TLS endpoints made here: a PostgreSQL server with ssl=on and a
 * test CA (verify-full), and the test stack's Temporal behind a Node TLS-terminating proxy that
 * requires client certificates (mTLS, ALPN h2). Good settings connect; a wrong CA, a client
 * certificate from another CA and an expired client certificate each fail with one clear line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pendingMigrations } from '../../infra/migrations-status.ts';
import { connectWithTlsDiagnosis, temporalConnectOptions } from '../../infra/tls.ts';
import { ConfigError } from '../../lib/errors.ts';
import { makeTestPki, type TestPki } from './tls-certs.ts';

const services = inject('services');
const PG_BIN = process.env.WEIGHTLENS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${result.stderr || result.stdout}`);
}

let dir: string;
let pki: TestPki;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weightlens-tls-'));
  pki = makeTestPki(path.join(dir, 'pki'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pgSelect(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return rows[0]?.ssl ? 1 : 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('Postgres with ssl=on and a test CA', () => {
  let port: number;
  let data: string;
  beforeAll(async () => {
    data = path.join(dir, 'pg');
    port = await freePort();
    // Postgres refuses a key file readable by others; it also must not run as root.
    const asPostgres = process.getuid?.() === 0;
    run('mkdir', ['-p', data]);
    if (asPostgres) run('chown', ['-R', 'postgres', dir]);
    const sh = (command: string) =>
      asPostgres ? run('su', ['postgres', '-s', '/bin/sh', '-c', command]) : run('sh', ['-c', command]);
    sh(`${PG_BIN}/initdb -D ${data} -A trust -U weightlens >/dev/null`);
    writeFileSync(
      path.join(data, 'postgresql.auto.conf'),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${data}'`,
        'ssl = on',
        `ssl_cert_file = '${pki.serverCert}'`,
        `ssl_key_file = '${pki.serverKey}'`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(data, 'pg_hba.conf'),
      'hostssl all all 127.0.0.1/32 trust\nlocal all all trust\n',
    );
    run('chmod', ['600', pki.serverKey]);
    if (asPostgres) run('chown', ['-R', 'postgres', dir]);
    sh(`${PG_BIN}/pg_ctl -D ${data} -l ${data}/log -w -t 60 start >/dev/null`);
  });
  afterAll(() => {
    const stop = `${PG_BIN}/pg_ctl -D ${data} -m immediate stop >/dev/null`;
    spawnSync(
      process.getuid?.() === 0 ? 'su' : 'sh',
      process.getuid?.() === 0 ? ['postgres', '-s', '/bin/sh', '-c', stop] : ['-c', stop],
    );
  });

  const url = (ca: string, host = 'localhost') =>
    `postgresql://weightlens@${host}:${port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

  it('connects with sslmode=verify-full and the right CA, over TLS', async () => {
    expect(await pgSelect(url(pki.ca))).toBe(1);
  });

  it('migrations status reads the database over verify-full TLS', async () => {
    expect((await pendingMigrations(url(pki.ca))).length).toBeGreaterThan(0);
  });

  it('a wrong CA is one clear line', async () => {
    const err = await pendingMigrations(url(pki.otherCa)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const line = (err as ConfigError).message;
    expect(line).toMatch(
      /^Postgres at localhost:\d+: TLS: the server certificate is not signed by the configured CA/,
    );
    expect(line).not.toContain('\n');
  });

  it('a host the certificate does not name is one clear line', async () => {
    const err = await pendingMigrations(url(pki.ca, '127.0.0.1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      /^Postgres at 127\.0\.0\.1:\d+: TLS: the server certificate does not name this host/,
    );
  });

  it('a client that requires TLS against a server without it is one clear line', async () => {
    const plain = new URL(services.databaseUrl);
    plain.searchParams.set('sslmode', 'verify-full');
    plain.searchParams.set('sslrootcert', pki.ca);
    const err = await pendingMigrations(plain.toString()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      /^Postgres at [^:]+:\d+: TLS: the server does not speak TLS here/,
    );
  });
});

/** TLS-terminating proxy (mTLS required, ALPN h2) in front of the test stack's plaintext Temporal. */
function startMtlsProxy(upstream: string): Promise<tls.Server> {
  const [host, port] = [
    upstream.slice(0, upstream.lastIndexOf(':')),
    Number(upstream.slice(upstream.lastIndexOf(':') + 1)),
  ];
  const server = tls.createServer(
    {
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const backend = net.connect({ host, port });
      socket.pipe(backend).pipe(socket);
      const close = () => {
        socket.destroy();
        backend.destroy();
      };
      socket.on('error', close);
      backend.on('error', close);
    },
  );
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('Temporal through a TLS proxy that requires client certificates', () => {
  let proxy: tls.Server;
  let address: string;
  beforeAll(async () => {
    proxy = await startMtlsProxy(services.temporalAddress);
    address = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  const env = (cert: string, key: string, ca = pki.ca): NodeJS.ProcessEnv => ({
    TEMPORAL_TLS_CERT: cert,
    TEMPORAL_TLS_KEY: key,
    TEMPORAL_TLS_CA: ca,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });

  async function describeNamespace(options: ReturnType<typeof temporalConnectOptions>): Promise<string> {
    const connection = await connectWithTlsDiagnosis('Temporal', options, () =>
      Connection.connect({ ...options, connectTimeout: 5_000 }),
    );
    try {
      const reply = await connection.workflowService.describeNamespace({ namespace: services.namespace });
      return reply.namespaceInfo?.name ?? '';
    } finally {
      await connection.close();
    }
  }

  it('connects with mTLS (client cert, key, CA, server name from the environment)', async () => {
    const options = temporalConnectOptions(address, env(pki.clientCert, pki.clientKey));
    expect(options.tls).toMatchObject({ serverNameOverride: 'localhost' });
    expect(await describeNamespace(options)).toBe(services.namespace);
  });

  it('plaintext to the TLS port fails', async () => {
    await expect(describeNamespace(temporalConnectOptions(address, {}))).rejects.toThrow();
  });

  it('a wrong CA is one clear line', async () => {
    const err = await describeNamespace(
      temporalConnectOptions(address, env(pki.clientCert, pki.clientKey, pki.otherCa)),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const line = (err as ConfigError).message;
    expect(line).toMatch(
      /^Temporal at 127\.0\.0\.1:\d+: TLS: the server certificate is not signed by the configured CA/,
    );
    expect(line).not.toContain('\n');
  });

  it('a client certificate from another CA is one clear line', async () => {
    const err = await describeNamespace(
      temporalConnectOptions(address, env(pki.otherClientCert, pki.otherClientKey)),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const line = (err as ConfigError).message;
    expect(line).toMatch(/^Temporal at 127\.0\.0\.1:\d+: TLS: the server rejected the client certificate/);
    expect(line).not.toContain('\n');
  });

  it('an expired client certificate is refused before connecting, in one line naming the file', () => {
    expect(() => temporalConnectOptions(address, env(pki.expiredClientCert, pki.expiredClientKey))).toThrow(
      new RegExp(
        `^TEMPORAL_TLS_CERT=${pki.expiredClientCert.replace(/[.]/g, '\\.')}: certificate .*expired on Jan  2 00:00:00 2020 GMT$`,
      ),
    );
  });
});
