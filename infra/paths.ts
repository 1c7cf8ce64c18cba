/**
 * Where the local stack lives: repository root, state folder, ports and fixed dev credentials.
 * Everything here is derived from the environment at call time so tests can point a second,
 * independent stack at another folder and other ports.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../lib/errors.ts';

/** The repository root (this file lives in <root>/infra/). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Directory holding the Go-built service binaries, keyed by name and version. */
export const binaryCacheDir: string =
  process.env.WEIGHTLENS_BIN_CACHE ?? path.join(process.env.HOME ?? '/root', '.cache', 'weightlens', 'bin');

export const DEFAULT_PORTS = { temporal: 17233, temporalUi: 17234, s3: 17070, postgres: 15432 } as const;

/** Fixed development credentials of the local stack (loopback only, never used for real data). */
export const DEV_CREDENTIALS = {
  s3AccessKeyId: 'weightlens',
  s3SecretAccessKey: 'weightlens-dev-secret',
  s3Region: 'us-east-1',
  pgUser: 'weightlens',
  pgPassword: 'weightlens',
  pgDatabase: 'weightlens',
} as const;

export interface StackPorts {
  temporal: number;
  /** 0 disables the Web UI. */
  temporalUi: number;
  s3: number;
  postgres: number;
}

/** One stack instance: its state folder (data, logs, pid files) and its ports. */
export interface StackState {
  dir: string;
  ports: StackPorts;
  host: '127.0.0.1';
}

function portFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name}=${raw} is not a valid port; set it to a number between 1 and 65535`);
  }
  return port;
}

/**
 * The stack the CLI manages: WEIGHTLENS_STATE_DIR (default <repo>/.weightlens) and
 * WEIGHTLENS_{TEMPORAL,TEMPORAL_UI,S3,PG}_PORT. `offset` shifts every default port (tests use +100).
 */
export function stackStateFromEnv(
  options: { dir?: string; portOffset?: number } = {},
  env: NodeJS.ProcessEnv = process.env,
): StackState {
  const offset = options.portOffset ?? 0;
  const dir = path.resolve(options.dir ?? env.WEIGHTLENS_STATE_DIR ?? path.join(repoRoot, '.weightlens'));
  return {
    dir,
    host: '127.0.0.1',
    ports: {
      temporal: portFromEnv('WEIGHTLENS_TEMPORAL_PORT', DEFAULT_PORTS.temporal + offset, env),
      temporalUi: portFromEnv('WEIGHTLENS_TEMPORAL_UI_PORT', DEFAULT_PORTS.temporalUi + offset, env),
      s3: portFromEnv('WEIGHTLENS_S3_PORT', DEFAULT_PORTS.s3 + offset, env),
      postgres: portFromEnv('WEIGHTLENS_PG_PORT', DEFAULT_PORTS.postgres + offset, env),
    },
  };
}

export function localDatabaseUrl(state: StackState): string {
  const c = DEV_CREDENTIALS;
  return `postgresql://${c.pgUser}:${c.pgPassword}@${state.host}:${state.ports.postgres}/${c.pgDatabase}`;
}

export function localTemporalAddress(state: StackState): string {
  return `${state.host}:${state.ports.temporal}`;
}

export function localS3Endpoint(state: StackState): string {
  return `http://${state.host}:${state.ports.s3}`;
}

export const DEFAULT_BUCKET = 'weightlens';

/**
 * Where objects live and the bucket weightlens uses: an S3-compatible endpoint (path-style), or
 * none for AWS S3 itself (virtual-hosted); keys, or none for the AWS SDK's default credential
 * chain (IRSA / web identity, container and instance roles); a CA file for a private CA.
 */
export interface S3Settings {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** PEM file of CAs that sign the endpoint's certificate (AWS_CA_BUNDLE). */
  caBundle?: string;
  bucket: string;
}

/** The endpoint requests go to: the configured one, else AWS S3's regional endpoint. */
export function s3EndpointUrl(s3: Pick<S3Settings, 'endpoint' | 'region'>): string {
  return s3.endpoint ?? `https://s3.${s3.region}.amazonaws.com`;
}

export function localS3Settings(state: StackState, bucket = DEFAULT_BUCKET): S3Settings {
  return {
    endpoint: localS3Endpoint(state),
    region: DEV_CREDENTIALS.s3Region,
    accessKeyId: DEV_CREDENTIALS.s3AccessKeyId,
    secretAccessKey: DEV_CREDENTIALS.s3SecretAccessKey,
    bucket,
  };
}

/** Options for `new S3Storage(...)` / `createStorage({ s3 })` from resolved services. */
export function s3StorageOptions(s3: S3Settings) {
  return {
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    region: s3.region,
    ...(s3.accessKeyId && s3.secretAccessKey
      ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
      : {}),
    ...(s3.caBundle ? { caBundle: s3.caBundle } : {}),
  };
}
