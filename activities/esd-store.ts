/**
 * Eigenvalue (ESD) artifacts in object storage, in the layout of lib/esd-artifact.ts, referenced by
 * LayerResult.esdUri. Keys are deterministic, so a retried activity overwrites its own object and
 * nothing else.
 */
import { HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ESD_CONTENT_TYPE, type EsdKey, encodeEsd, esdObjectKey } from '../lib/esd-artifact.ts';
import { s3ClientConfig } from '../storage/index.ts';
import type { S3StorageOptions } from '../storage/s3.ts';

export interface EsdStore {
  /** Store the eigenvalues; returns the object's URI. */
  put(key: EsdKey, eigenvalues: Float64Array): Promise<string>;
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
        Body: encodeEsd(eigenvalues),
        ContentType: ESD_CONTENT_TYPE,
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
