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

export { s3StorageOptions } from './paths.ts';

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

const S3_MODES = ['local', 'aws'] as const;

/**
 * S3 from the environment: an endpoint (any S3-compatible store), or WEIGHTLENS_S3=aws (AWS S3
 * itself, no endpoint). Keys are optional: without them the AWS SDK's default credential chain
 * finds them (IRSA / web identity token, ECS/EKS container credentials, instance profile, shared
 * config files). Undefined means the local stack's versitygw.
 */
function s3FromEnv(env: NodeJS.ProcessEnv, bucket: string): S3Settings | undefined {
  const mode = env.WEIGHTLENS_S3 || undefined;
  if (mode !== undefined && !(S3_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`WEIGHTLENS_S3=${mode}: expected ${S3_MODES.join(' or ')}`);
  }
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (mode === 'local' && endpoint) {
    throw new ConfigError(`WEIGHTLENS_S3=local contradicts the S3 endpoint ${endpoint}; unset one`);
  }
  if (!endpoint && mode !== 'aws') return undefined;
  const accessKeyId = env.AWS_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(
      `${accessKeyId ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is set but ${accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not; set both, or neither for the default credential chain`,
    );
  }
  return {
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : {}),
    ...(env.AWS_CA_BUNDLE ? { caBundle: env.AWS_CA_BUNDLE } : {}),
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
 * (storage/s3.ts, the AWS SDK itself); also sets WEIGHTLENS_BUCKET. Settings `s3` does not have are
 * removed, so a child process cannot fall back to other values.
 */
export function exportS3Env(s3: S3Settings, env: NodeJS.ProcessEnv = process.env): void {
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) delete env[name];
    else env[name] = value;
  };
  set('AWS_ENDPOINT_URL_S3', s3.endpoint);
  if (s3.endpoint === undefined) {
    delete env.AWS_ENDPOINT_URL;
    env.WEIGHTLENS_S3 = 'aws';
  } else delete env.WEIGHTLENS_S3;
  set('AWS_ACCESS_KEY_ID', s3.accessKeyId);
  set('AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
  if (s3.accessKeyId === undefined) delete env.AWS_SESSION_TOKEN;
  set('AWS_CA_BUNDLE', s3.caBundle);
  env.AWS_REGION = s3.region;
  env.WEIGHTLENS_BUCKET = s3.bucket;
}
