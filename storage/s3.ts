/**
 * `s3://bucket/key` objects through @aws-sdk/client-s3: HEAD for size, ranged GET per read,
 * ListObjectsV2 for prefixes. Endpoint and credentials come from the standard AWS variables. With an
 * endpoint (an S3-compatible server: versitygw, MinIO, Ceph) addressing is path-style, so no DNS
 * tricks are needed; without one it is AWS S3 with virtual-hosted addressing. Without keys the
 * SDK's default credential chain applies (web identity / IRSA, container and instance roles,
 * shared config files). AWS_CA_BUNDLE names a PEM file of CAs to trust for the endpoint.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BadInputError, ConfigError, TransientError } from '../lib/errors.ts';
import { checkRange } from '../lib/formats/range.ts';
import type { ObjectOpener, RangeReader } from '../lib/formats/types.ts';
import { parseLocation } from '../lib/formats/uri.ts';
import { DEFAULT_RETRY, type RetryOptions, withRetry } from './retry.ts';
import { newReadStats, type ReadStats } from './stats.ts';

export interface S3Location {
  bucket: string;
  key: string;
}

/** Bucket and key of an s3:// URI (`parseLocation`: the key is taken as it is, `#` and `%` included). */
export function parseS3Uri(uri: string): S3Location {
  const location = parseLocation(uri);
  if (location.kind !== 's3') throw new BadInputError('not an s3://bucket/key URI', { file: uri });
  return { bucket: location.bucket, key: location.key };
}

export interface S3StorageOptions {
  /** Overrides of the environment (tests pass the stack's endpoint and keys here). */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** PEM file of the CAs that sign the endpoint's certificate (AWS_CA_BUNDLE). */
  caBundle?: string;
  retry?: RetryOptions;
  stats?: ReadStats;
}

function readCaBundle(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      `AWS_CA_BUNDLE=${file}: cannot read the CA file (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  if (!pem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`AWS_CA_BUNDLE=${file}: not a PEM certificate file`);
  }
  return pem;
}

/**
 * Client configuration from options, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, keys,
 * AWS_CA_BUNDLE. No keys: the SDK's default credential chain. No endpoint: AWS S3, virtual-hosted.
 * `env` is a plain map, so callers can pass {} (Next.js types process.env with a required NODE_ENV).
 */
export function s3ClientConfig(
  options: S3StorageOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): S3ClientConfig {
  const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  const accessKeyId = options.accessKeyId ?? (env.AWS_ACCESS_KEY_ID || undefined);
  const secretAccessKey = options.secretAccessKey ?? (env.AWS_SECRET_ACCESS_KEY || undefined);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither');
  }
  const caBundle = options.caBundle ?? (env.AWS_CA_BUNDLE || undefined);
  return {
    region: options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    forcePathStyle: endpoint !== undefined,
    ...(caBundle ? { requestHandler: { httpsAgent: new Agent({ ca: readCaBundle(caBundle) }) } } : {}),
    // Our own withRetry decides what is transient and counts attempts; the SDK's would multiply them.
    maxAttempts: 1,
  };
}

/** Node's certificate verification codes, and what each means to someone configuring S3. */
const CERTIFICATE_FAILURES: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA (set AWS_CA_BUNDLE)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    'the server certificate is not signed by a trusted CA (set AWS_CA_BUNDLE)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate is not signed by a trusted CA (set AWS_CA_BUNDLE)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted (set AWS_CA_BUNDLE)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
  EPROTO: 'the server does not speak TLS here',
};

/**
 * A TLS failure reaching S3 as one line (the SDK passes Node's socket error through): a
 * configuration problem, never retried.
 */
export function s3TlsError(endpoint: string, err: unknown): ConfigError | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  const reason = code ? CERTIFICATE_FAILURES[code] : undefined;
  if (!reason) return undefined;
  return new ConfigError(`S3 at ${endpoint}: TLS: ${reason} (${code})`, { cause: err });
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return httpStatus(err) === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket';
}

/** Map permanent S3 failures to typed errors naming the object. */
function permanentError(uri: string, err: unknown, endpoint: string): unknown {
  const tlsError = s3TlsError(endpoint, err);
  if (tlsError) return tlsError;
  if (isNotFound(err)) return new BadInputError('no such object', { file: uri }, { cause: err });
  const status = httpStatus(err);
  if (status === 403 || status === 401) {
    return new ConfigError(`${uri}: access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`, {
      cause: err,
    });
  }
  return err;
}

class S3RangeReader implements RangeReader {
  constructor(
    readonly uri: string,
    readonly size: number,
    private readonly storage: S3Storage,
    private readonly location: S3Location,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.uri, this.size, offset, length);
    if (length === 0) return new Uint8Array(0);
    const bytes = await this.storage
      .retrying(`GET ${this.uri} bytes ${offset}+${length}`, async () => {
        const response = await this.storage.client.send(
          new GetObjectCommand({
            Bucket: this.location.bucket,
            Key: this.location.key,
            Range: `bytes=${offset}-${offset + length - 1}`,
          }),
        );
        if (!response.Body) throw new TransientError('empty response body', { file: this.uri });
        const body = await response.Body.transformToByteArray();
        if (body.byteLength !== length) {
          // A short body is a dropped connection or an object replaced under us; retry.
          throw new TransientError(`expected ${length} bytes, got ${body.byteLength}`, { file: this.uri });
        }
        return body;
      })
      .catch((err: unknown) => {
        throw s3TlsError(this.storage.endpoint, err) ?? err;
      });
    this.storage.stats.reads += 1;
    this.storage.stats.bytesRead += length;
    return bytes;
  }
}

export class S3Storage implements ObjectOpener {
  readonly client: S3Client;
  readonly stats: ReadStats;
  /** Where requests go, for error messages: the configured endpoint or AWS S3 in the region. */
  readonly endpoint: string;
  private readonly retry: RetryOptions;

  constructor(options: S3StorageOptions = {}) {
    const config = s3ClientConfig(options);
    this.client = new S3Client(config);
    this.endpoint = typeof config.endpoint === 'string' ? config.endpoint : `AWS S3 (${config.region})`;
    this.stats = options.stats ?? newReadStats();
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Run one request with retries on transient failures and typed errors on permanent ones. */
  retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(what, fn, this.retry);
  }

  private async head(uri: string): Promise<number | undefined> {
    const location = parseS3Uri(uri);
    if (location.key === '' || location.key.endsWith('/')) return undefined;
    try {
      const response = await this.retrying(`HEAD ${uri}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key })),
      );
      return response.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw permanentError(uri, err, this.endpoint);
    }
  }

  async open(uri: string): Promise<RangeReader> {
    const size = await this.head(uri);
    if (size === undefined) throw new BadInputError('no such object', { file: uri });
    return new S3RangeReader(uri, size, this, parseS3Uri(uri));
  }

  async exists(uri: string): Promise<boolean> {
    return (await this.head(uri)) !== undefined;
  }

  /** Put a whole object (one request: written checkpoints are small enough for a single PUT). */
  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    if (key === '' || key.endsWith('/')) throw new BadInputError('not an object key', { file: uri });
    await this.retrying(`PUT ${uri}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes })).catch((err) => {
        throw permanentError(uri, err, this.endpoint);
      }),
    );
  }

  async list(prefixUri: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.retrying(`LIST ${prefixUri}`, () =>
        this.client
          .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
          .catch((err) => {
            throw permanentError(prefixUri, err, this.endpoint);
          }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key && !object.Key.endsWith('/')) out.push(`s3://${bucket}/${object.Key}`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }
}
