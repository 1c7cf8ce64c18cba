/**
 * The S3-compatible server: versitygw with its posix backend over <state>/s3/data (each bucket a
 * folder, each object a file), fixed dev credentials, and the default bucket created through
 * the S3 API.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../lib/errors.ts';
import { s3ClientConfig, s3TlsError } from '../storage/s3.ts';
import { resolveBinary, VERSITYGW_BINARY } from './binaries.ts';
import {
  DEV_CREDENTIALS,
  localS3Endpoint,
  localS3Settings,
  type S3Settings,
  type StackState,
  s3EndpointUrl,
  s3StorageOptions,
} from './paths.ts';
import { ensurePortFree, waitUntil } from './ports.ts';
import { isAlive, livePidFromFile, logTail, spawnDetached, stopPidFile } from './processes.ts';
import { pidServiceStatus, type ServiceStatus, serviceFiles } from './service.ts';

// The pinned SDK only warns that future releases need Node 22; the warning is noise on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export { DEFAULT_BUCKET, localS3Settings, type S3Settings } from './paths.ts';

export function s3Paths(state: StackState) {
  const files = serviceFiles(state, 's3');
  return { ...files, pidFile: path.join(files.root, 'versitygw.pid') };
}

/** A client for `settings`, configured the way storage/s3.ts configures its own. */
export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({ ...s3ClientConfig(s3StorageOptions(settings), {}), maxAttempts: 3 });
}

/** Create the bucket unless it exists; wrong credentials become a one-line ConfigError. */
export async function ensureBucket(settings: S3Settings): Promise<void> {
  const client = s3Client(settings);
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const tlsError = s3TlsError(s3EndpointUrl(settings), err);
    if (tlsError) throw tlsError;
    if (status === 403 || status === 401) {
      throw new ConfigError(
        `S3 at ${s3EndpointUrl(settings)} rejected the credentials for bucket ${settings.bucket}; check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or stop the other server on that port)`,
        { cause: err },
      );
    }
    if (status !== 404) throw err;
    await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  } finally {
    client.destroy();
  }
}

export function s3Pid(state: StackState): number | undefined {
  return livePidFromFile(s3Paths(state).pidFile, 'versitygw');
}

async function answersHttp(endpoint: string): Promise<boolean> {
  // Any HTTP answer (an anonymous request gets 403) means the gateway is serving.
  const response = await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return true;
}

export async function startS3(state: StackState): Promise<void> {
  const paths = s3Paths(state);
  let pid = s3Pid(state);
  if (pid === undefined) {
    const binary = resolveBinary(VERSITYGW_BINARY);
    await ensurePortFree(state.host, state.ports.s3, 'S3 (versitygw)', 'WEIGHTLENS_S3_PORT');
    mkdirSync(paths.data, { recursive: true });
    pid = spawnDetached({
      command: binary,
      args: [
        '--port',
        `${state.host}:${state.ports.s3}`,
        '--region',
        DEV_CREDENTIALS.s3Region,
        '--quiet',
        'posix',
        paths.data,
      ],
      // Credentials through the environment keep them out of `ps` output.
      env: {
        ...process.env,
        ROOT_ACCESS_KEY: DEV_CREDENTIALS.s3AccessKeyId,
        ROOT_SECRET_KEY: DEV_CREDENTIALS.s3SecretAccessKey,
      },
      logFile: paths.logFile,
      pidFile: paths.pidFile,
    });
  }
  const startedPid = pid;
  const healthy = await waitUntil(() => answersHttp(localS3Endpoint(state)), {
    timeoutMs: 30_000,
    alive: () => isAlive(startedPid),
  });
  if (!healthy) {
    throw new ConfigError(
      `S3 server (versitygw) did not start; see ${paths.logFile}: ${logTail(paths.logFile, 2)}`,
    );
  }
  await ensureBucket(localS3Settings(state));
}

export async function stopS3(state: StackState): Promise<void> {
  await stopPidFile(s3Pid(state), s3Paths(state).pidFile, 10_000);
}

export function s3Status(state: StackState): Promise<ServiceStatus> {
  const listen = { host: state.host, port: state.ports.s3 };
  return pidServiceStatus('s3', s3Pid(state), listen, localS3Endpoint(state));
}
