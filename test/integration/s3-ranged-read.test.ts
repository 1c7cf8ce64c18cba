/**
 * A multi-GB sharded safetensors checkpoint in the real S3 server (versitygw): reading one tensor
 * must fetch exactly that tensor's bytes, and opening must fetch only the index and the shard
 * headers. The shards are honest files of their full size (WEIGHTLENS_S3_BIG_MIB per big tensor,
 * default 1024 MiB × 2 shards ≈ 2.1 GB), uploaded by multipart upload that reuses one zero-filled
 * part buffer, so the test costs disk writes but little memory.
 */
import { randomUUID } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { s3StorageOptions } from '../../infra/config.ts';
import { s3Client } from '../../infra/s3.ts';
import { discoverCheckpoints } from '../../lib/formats/discover.ts';
import { DEFAULT_HEAD_BYTES } from '../../lib/formats/header-cache.ts';
import { openCheckpoint } from '../../lib/formats/index.ts';
import { mapTensors } from '../../lib/formats/layers.ts';
import { Storage } from '../../storage/index.ts';

const services = inject('services');
const BIG_MIB = Number(process.env.WEIGHTLENS_S3_BIG_MIB ?? 1024);
const PART_BYTES = 64 * 1024 * 1024;
const SMALL = [64, 48];
const SMALL_BYTES = SMALL[0]! * SMALL[1]! * 4;

interface ShardPlan {
  key: string;
  header: Uint8Array;
  /** Tail bytes: the small tensor's values (everything before is header or zeros). */
  tail: Uint8Array;
  size: number;
}

/** A safetensors shard: one big zero F32 matrix, then a small matrix with known values. */
function planShard(prefix: string, shardIndex: number): ShardPlan {
  const bigBytes = BIG_MIB * 1024 * 1024;
  const cols = 4096;
  const rows = bigBytes / 4 / cols;
  const header: Record<string, unknown> = {
    [`layers.${shardIndex}.big.weight`]: { dtype: 'F32', shape: [rows, cols], data_offsets: [0, bigBytes] },
    [`layers.${shardIndex}.small.weight`]: {
      dtype: 'F32',
      shape: SMALL,
      data_offsets: [bigBytes, bigBytes + SMALL_BYTES],
    },
  };
  let json = JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const headerBytes = new Uint8Array(8 + json.length);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(json.length), true);
  headerBytes.set(new TextEncoder().encode(json), 8);
  const values = Float32Array.from({ length: SMALL_BYTES / 4 }, (_, i) => (i % 97) - 48 + shardIndex / 4);
  return {
    key: `${prefix}/model-0000${shardIndex + 1}-of-00002.safetensors`,
    header: headerBytes,
    tail: new Uint8Array(values.buffer),
    size: headerBytes.byteLength + bigBytes + SMALL_BYTES,
  };
}

/** Multipart upload of header + zeros + tail, reusing one zero buffer for the middle parts. */
async function uploadShard(s3: S3Client, bucket: string, plan: ShardPlan, zeros: Uint8Array): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: plan.key }));
  const parts: { ETag: string; PartNumber: number }[] = [];
  const partCount = Math.ceil(plan.size / PART_BYTES);
  for (let n = 0; n < partCount; n++) {
    const start = n * PART_BYTES;
    const length = Math.min(PART_BYTES, plan.size - start);
    const tailStart = plan.size - plan.tail.byteLength;
    let body: Uint8Array = zeros.subarray(0, length);
    if (start < plan.header.byteLength || start + length > tailStart) {
      body = new Uint8Array(length);
      if (start < plan.header.byteLength) body.set(plan.header.subarray(start, start + length), 0);
      if (start + length > tailStart) {
        const from = Math.max(tailStart, start);
        body.set(plan.tail.subarray(from - tailStart), from - start);
      }
    }
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: plan.key, UploadId, PartNumber: n + 1, Body: body }),
    );
    parts.push({ ETag: ETag!, PartNumber: n + 1 });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: plan.key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

describe(`S3 ranged reads of a ${((2 * BIG_MIB) / 1024).toFixed(1)} GiB sharded safetensors checkpoint`, () => {
  const bucket = services.s3.bucket;
  const prefix = `ranged-read/${randomUUID()}`;
  const plans = [planShard(prefix, 0), planShard(prefix, 1)];
  const indexKey = `${prefix}/model.safetensors.index.json`;
  const sidecarKey = `${prefix}/weightlens.json`;
  const sidecarBody = new TextEncoder().encode(
    JSON.stringify({ family: 'big', step: 7, known_test_accuracy: 0.5 }),
  );
  const indexBody = new TextEncoder().encode(
    JSON.stringify({
      metadata: { total_size: plans.reduce((s, p) => s + p.size, 0) },
      weight_map: Object.fromEntries(
        plans.flatMap((p, i) => [
          [`layers.${i}.big.weight`, p.key.split('/').pop()],
          [`layers.${i}.small.weight`, p.key.split('/').pop()],
        ]),
      ),
    }),
  );
  let s3: S3Client;

  beforeAll(async () => {
    s3 = s3Client(services.s3);
    const zeros = new Uint8Array(PART_BYTES);
    for (const plan of plans) await uploadShard(s3, bucket, plan, zeros);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: indexKey, Body: indexBody }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: sidecarKey, Body: sidecarBody }));
  });

  afterAll(async () => {
    for (const key of [indexKey, sidecarKey, ...plans.map((p) => p.key)]) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    }
    s3.destroy();
  });

  it('opens from headers alone and reads one tensor with exactly its bytes', async () => {
    const storage = new Storage({ s3: s3StorageOptions(services.s3) });
    const uri = `s3://${bucket}/${indexKey}`;
    const ckpt = await openCheckpoint(uri, storage);
    expect(ckpt.tensors).toHaveLength(4);
    const big = ckpt.tensors.find((t) => t.name === 'layers.1.big.weight')!;
    expect(big.byteLength).toBe(BIG_MIB * 1024 * 1024);
    expect(mapTensors(ckpt).filter((m) => m.analyzed)).toHaveLength(4);

    // Opening: one head read per object (the index whole; each shard's first DEFAULT_HEAD_BYTES,
    // which hold its 8 + header bytes), never tensor data.
    for (const p of plans) expect(p.header.byteLength).toBeLessThanOrEqual(DEFAULT_HEAD_BYTES);
    const heads = [indexBody.byteLength, ...plans.map((p) => p.size)].map((size) =>
      Math.min(size, DEFAULT_HEAD_BYTES),
    );
    // (the small index may be read a second time by its own parser: at most its size again)
    expect(storage.stats.bytesRead).toBeGreaterThanOrEqual(heads.reduce((sum, n) => sum + n, 0));
    expect(storage.stats.bytesRead).toBeLessThanOrEqual(
      heads.reduce((sum, n) => sum + n, 0) + indexBody.byteLength,
    );
    expect(storage.stats.bytesRead).toBeLessThan(1024 * 1024);

    const small = ckpt.tensors.find((t) => t.name === 'layers.1.small.weight')!;
    const before = { ...storage.stats };
    const values = await ckpt.readTensor(small);
    expect(storage.stats.bytesRead - before.bytesRead).toBe(SMALL_BYTES);
    expect(storage.stats.reads - before.reads).toBe(1);
    expect(values[0]).toBe(-48 + 0.25);
    expect(values[200]).toBe((200 % 97) - 48 + 0.25);
  });

  it('discovers the checkpoint under its S3 prefix from headers and sidecar alone', async () => {
    const storage = new Storage({ s3: s3StorageOptions(services.s3) });
    const found = await discoverCheckpoints(`s3://${bucket}/${prefix}`, storage);
    expect(found).toHaveLength(1);
    const [checkpoint] = found as [(typeof found)[0]];
    expect(checkpoint.uri).toBe(`s3://${bucket}/${indexKey}`);
    expect(checkpoint.format).toBe('safetensors');
    expect(checkpoint.files.map((f) => f.uri.split('/').pop())).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
    ]);
    expect(checkpoint.sizeBytes).toBe(plans.reduce((sum, p) => sum + p.size, 0) + indexBody.byteLength);
    expect(checkpoint.metadata).toEqual({ family: 'big', step: 7, knownTestAccuracy: 0.5 });
    expect(checkpoint.contentHash).toMatch(/^[0-9a-f]{64}$/);
    // Cheap: headers, hash windows (64 KiB + 4 KiB per file) and the sidecar, never tensor data.
    expect(storage.stats.bytesRead).toBeLessThan(1024 * 1024);
    const again = await discoverCheckpoints(`s3://${bucket}/${prefix}/`, storage);
    expect(again[0]!.contentHash).toBe(checkpoint.contentHash);
  });
});
