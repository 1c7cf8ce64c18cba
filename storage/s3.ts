/**
 * `s3://bucket/key` objects through @aws-sdk/client-s3: HEAD for size, ranged GET per read,
 * ListObjectsV2 for prefixes. Endpoint and credentials come from the standard AWS variables;
 * path-style addressing so S3-compatible servers (versitygw, MinIO) work without DNS tricks.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BadInputError, ConfigError, TransientError } from '../lib/errors.ts';
import { checkRange } from '../lib/formats/memory.ts';
import type { ObjectOpener, RangeReader } from '../lib/formats/types.ts';
import { DEFAULT_RETRY, type RetryOptions, withRetry } from './retry.ts';
import { newReadStats, type ReadStats } from './stats.ts';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new BadInputError('not an s3://bucket/key URI', { file: uri });
  return { bucket: match[1]!, key: match[2]! };
}

export interface S3StorageOptions {
  /** Overrides of the environment (tests pass the stack's endpoint and keys here). */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  retry?: RetryOptions;
  stats?: ReadStats;
}

/** Client configuration from options, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, keys. */
export function s3ClientConfig(options: S3StorageOptions = {}, env = process.env): S3ClientConfig {
  const endpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const accessKeyId = options.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = options.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither');
  }
  return {
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    forcePathStyle: true,
    // Our own withRetry decides what is transient and counts attempts; the SDK's would multiply them.
    maxAttempts: 1,
  };
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return httpStatus(err) === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket';
}

/** Map permanent S3 failures to typed errors naming the object. */
function permanentError(uri: string, err: unknown): unknown {
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
    const bytes = await this.storage.retrying(`GET ${this.uri} bytes ${offset}+${length}`, async () => {
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
    });
    this.storage.stats.reads += 1;
    this.storage.stats.bytesRead += length;
    return bytes;
  }
}

export class S3Storage implements ObjectOpener {
  readonly client: S3Client;
  readonly stats: ReadStats;
  private readonly retry: RetryOptions;

  constructor(options: S3StorageOptions = {}) {
    this.client = new S3Client(s3ClientConfig(options));
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
      throw permanentError(uri, err);
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
            throw permanentError(prefixUri, err);
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
