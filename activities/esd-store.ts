/**
 * Eigenvalue (ESD) artifacts in object storage: one float64 little-endian `.f64` object per layer
 * under esd/<checkpointContentHash>/<configHash>/<layer>.f64, referenced by LayerResult.esdUri.
 * Keys are deterministic, so a retried activity overwrites its own object and nothing else.
 */
import { HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../storage/index.ts';
import type { S3StorageOptions } from '../storage/s3.ts';

export interface EsdStore {
  /** Store the eigenvalues; returns the object's URI. */
  put(key: EsdKey, eigenvalues: Float64Array): Promise<string>;
}

export interface EsdKey {
  contentHash: string;
  configHash: string;
  layerName: string;
}

/** Object key of a layer's ESD (layer names may hold '/', so they are URI-encoded). */
export function esdObjectKey(key: EsdKey): string {
  return `esd/${key.contentHash}/${key.configHash}/${encodeURIComponent(key.layerName)}.f64`;
}

/** Little-endian bytes whatever the host's byte order. */
export function encodeFloat64LE(values: Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return bytes;
}

export class S3EsdStore implements EsdStore {
  private readonly client: S3Client;
  constructor(
    private readonly bucket: string,
    options: S3StorageOptions,
  ) {
    this.client = new S3Client({ ...s3ClientConfig(options), maxAttempts: 3 });
  }

  async put(key: EsdKey, eigenvalues: Float64Array): Promise<string> {
    const objectKey = esdObjectKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: encodeFloat64LE(eigenvalues),
        ContentType: 'application/octet-stream',
      }),
    );
    return `s3://${this.bucket}/${objectKey}`;
  }

  /** One cheap request, so the client's first-use setup is not paid by the first layer. */
  async warmUp(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
