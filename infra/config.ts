/**
 * Where the services are. The environment wins (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * DATABASE_URL, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL + AWS_* keys, WEIGHTLENS_BUCKET); anything
 * not configured is the local stack's, which is started (and migrated) when `start` is set, so a
 * first-time user needs no configuration.
 */
import { ConfigError } from '../lib/errors.ts';
import { applyMigrations } from './migrate.ts';
import { pendingMigrations } from './migrations-status.ts';
import { localDatabaseUrl, localTemporalAddress, type StackState, stackStateFromEnv } from './paths.ts';
import { DEFAULT_BUCKET, localS3Settings, type S3Settings } from './s3.ts';
import type { ServiceName } from './service.ts';
import { stackUp } from './stack.ts';

export type { S3Settings } from './s3.ts';

export interface Services {
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  s3: S3Settings;
}

export interface ResolveOptions {
  /** Start the local services that the environment does not replace (default false). */
  start?: boolean;
  /** Apply pending migrations to the database (default: same as `start`). */
  migrate?: boolean;
  /** The local stack to use (default: WEIGHTLENS_STATE_DIR / ports from the environment). */
  state?: StackState;
  env?: NodeJS.ProcessEnv;
  /** The services the caller uses (default all): only these are started locally. */
  need?: readonly ServiceName[];
}

function s3FromEnv(env: NodeJS.ProcessEnv, bucket: string): S3Settings | undefined {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (!endpoint) return undefined;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new ConfigError(
      `S3 endpoint ${endpoint} is configured but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not; set both`,
    );
  }
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    accessKeyId,
    secretAccessKey,
    bucket,
  };
}

export async function resolveServices(options: ResolveOptions = {}): Promise<Services> {
  const env = options.env ?? process.env;
  const state = options.state ?? stackStateFromEnv({}, env);
  const bucket = env.WEIGHTLENS_BUCKET || DEFAULT_BUCKET;
  const fromEnvS3 = s3FromEnv(env, bucket);
  const services: Services = {
    temporalAddress: env.TEMPORAL_ADDRESS || localTemporalAddress(state),
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    databaseUrl: env.DATABASE_URL || localDatabaseUrl(state),
    s3: fromEnvS3 ?? localS3Settings(state, bucket),
  };
  const local: ServiceName[] = [];
  if (!env.DATABASE_URL) local.push('postgres');
  if (!fromEnvS3) local.push('s3');
  if (!env.TEMPORAL_ADDRESS) local.push('temporal');
  const needed = options.need ? local.filter((name) => options.need?.includes(name)) : local;
  if (options.start && needed.length > 0) await stackUp(state, needed);
  if (options.migrate ?? options.start) {
    if ((await pendingMigrations(services.databaseUrl)).length > 0)
      await applyMigrations(services.databaseUrl);
  }
  return services;
}

/**
 * Point the standard AWS variables at `s3`, for code that reads S3 settings from the environment
 * (storage/s3.ts, the AWS SDK itself); also sets WEIGHTLENS_BUCKET.
 */
export function exportS3Env(s3: S3Settings, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  env.AWS_REGION = s3.region;
  env.WEIGHTLENS_BUCKET = s3.bucket;
}

/** Options for `new S3Storage(...)` / `createStorage({ s3 })` from resolved services. */
export function s3StorageOptions(s3: S3Settings) {
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  };
}
