/**
 * Secure connections to the services, configured by environment variables only (the same names for
 * the CLI, workers and dashboard):
 *
 * Temporal (the Temporal CLI's names): TEMPORAL_TLS=1 (TLS with the system roots),
 * TEMPORAL_TLS_CA (server CA file), TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY (client certificate and key
 * files, mTLS), TEMPORAL_TLS_SERVER_NAME (name to verify the server certificate against),
 * TEMPORAL_API_KEY (Temporal Cloud API key; implies TLS).
 * Postgres: DATABASE_URL with `sslmode=verify-full&sslrootcert=<CA file>` (pg's own parameters).
 *
 * Certificates are read and checked (readable, PEM, not expired) before connecting, so a wrong
 * setting is one line naming the variable and file rather than a transport error.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError } from '../lib/errors.ts';

export interface TemporalTlsOptions {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalConnectOptions {
  address: string;
  tls?: TemporalTlsOptions | true;
  apiKey?: string;
}

function readPemFile(variable: string, file: string, kind: 'certificate' | 'key'): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`${variable}=${file}: cannot read the ${kind} file (${reason})`);
  }
  const marker = kind === 'key' ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
  if (!marker.test(pem.toString('latin1'))) {
    throw new ConfigError(`${variable}=${file}: not a PEM ${kind === 'key' ? 'private key' : 'certificate'}`);
  }
  return pem;
}

/** Reads a PEM certificate and refuses one that is expired or not yet valid. */
export function readCertificate(variable: string, file: string, now = new Date()): Buffer {
  const pem = readPemFile(variable, file, 'certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(`${variable}=${file}: unreadable certificate (${(err as Error).message})`);
  }
  if (new Date(cert.validTo) < now) {
    throw new ConfigError(
      `${variable}=${file}: certificate ${cert.subject.replace(/\n/g, ', ')} expired on ${cert.validTo}`,
    );
  }
  if (new Date(cert.validFrom) > now) {
    throw new ConfigError(`${variable}=${file}: certificate is not valid before ${cert.validFrom}`);
  }
  return pem;
}

/** Temporal connection options for `address` from the TEMPORAL_TLS_* / TEMPORAL_API_KEY variables. */
export function temporalConnectOptions(
  address: string,
  env: NodeJS.ProcessEnv = process.env,
): TemporalConnectOptions {
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(
      `${cert ? 'TEMPORAL_TLS_CERT' : 'TEMPORAL_TLS_KEY'} is set but ${cert ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'} is not; mTLS needs both`,
    );
  }
  const flag = env.TEMPORAL_TLS;
  if (flag !== undefined && flag !== '' && !['0', '1', 'true', 'false'].includes(flag)) {
    throw new ConfigError(`TEMPORAL_TLS=${flag}: expected 1, true, 0 or false`);
  }
  const tls: TemporalTlsOptions = {};
  if (env.TEMPORAL_TLS_CA)
    tls.serverRootCACertificate = readCertificate('TEMPORAL_TLS_CA', env.TEMPORAL_TLS_CA);
  if (cert && key) {
    tls.clientCertPair = {
      crt: readCertificate('TEMPORAL_TLS_CERT', cert),
      key: readPemFile('TEMPORAL_TLS_KEY', key, 'key'),
    };
  }
  if (env.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = env.TEMPORAL_TLS_SERVER_NAME;
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const wantTls = Object.keys(tls).length > 0 || flag === '1' || flag === 'true' || apiKey !== undefined;
  if (!wantTls || flag === '0' || flag === 'false') {
    if (Object.keys(tls).length > 0 && (flag === '0' || flag === 'false')) {
      throw new ConfigError('TEMPORAL_TLS=0 contradicts the TEMPORAL_TLS_* certificate settings');
    }
    return apiKey ? { address, apiKey } : { address };
  }
  return {
    address,
    tls: Object.keys(tls).length > 0 ? tls : true,
    ...(apiKey ? { apiKey } : {}),
  };
}

// First match wins: an alert the server sent (client side refused) before the client's own checks.
const TLS_FAILURES: readonly [RegExp, string][] = [
  [
    /alert (unknown ca|certificate required|bad certificate|certificate expired|certificate revoked|handshake failure|access denied)|CertificateRequired|BadCertificate|closed the connection right after the TLS handshake/i,
    'the server rejected the client certificate (or none was sent)',
  ],
  [
    /UnknownIssuer|unable to (get local issuer|verify)|self[- ]signed/i,
    'the server certificate is not signed by the configured CA',
  ],
  [/Expired|certificate has expired/i, 'the server certificate has expired'],
  [
    /NotValidForName|Hostname\/IP does not match|altnames/i,
    'the server certificate does not name this host (set the server name)',
  ],
  [/does not support SSL|wrong version number|packet length too long/i, 'the server does not speak TLS here'],
];

/**
 * One line for a failed secure connection: which service, where, and the TLS reason when the
 * transport error names one (the error texts come from rustls, OpenSSL and Node's tls module).
 */
export function describeConnectionFailure(service: string, target: string, err: unknown): string {
  const text =
    err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err);
  const reason = TLS_FAILURES.find(([pattern]) => pattern.test(text))?.[1];
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return reason ? `${service} at ${target}: TLS: ${reason} (${first})` : `${service} at ${target}: ${first}`;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/**
 * A TLS handshake alone, with the options a gRPC client would use, to name why a secure connection
 * failed (the gRPC client only reports a deadline). Resolves to the handshake error, or undefined
 * when the handshake succeeds and the server keeps the connection open for `settleMs` (TLS 1.3
 * servers reject a client certificate only after the client's handshake finished).
 */
export function probeTls(
  address: string,
  options: TemporalTlsOptions | true,
  timeoutMs = 5_000,
  settleMs = 500,
): Promise<Error | undefined> {
  const { host, port } = splitAddress(address);
  const opts = options === true ? {} : options;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: Error | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    const servername = opts.serverNameOverride ?? (net.isIP(host) ? undefined : host);
    const socket = tls.connect({
      host,
      port,
      ...(servername ? { servername } : {}),
      ...(opts.serverRootCACertificate ? { ca: opts.serverRootCACertificate } : {}),
      ...(opts.clientCertPair ? { cert: opts.clientCertPair.crt, key: opts.clientCertPair.key } : {}),
      ALPNProtocols: ['h2'],
    });
    socket.setTimeout(timeoutMs, () => done(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('error', (err) => done(err));
    socket.once('secureConnect', () => setTimeout(() => done(undefined), settleMs));
    socket.once('close', () =>
      done(new Error('the server closed the connection right after the TLS handshake')),
    );
  });
}

/**
 * Runs `connect` (a Temporal Connection.connect or NativeConnection.connect with `options`); a
 * failure over TLS becomes a ConfigError of one line with the handshake's reason.
 */
export async function connectWithTlsDiagnosis<T>(
  service: string,
  options: TemporalConnectOptions,
  connect: () => Promise<T>,
): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    if (!options.tls) throw err;
    const handshake = await probeTls(options.address, options.tls);
    throw new ConfigError(describeConnectionFailure(service, options.address, handshake ?? err), {
      cause: err,
    });
  }
}
