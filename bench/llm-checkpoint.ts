/**
 * Llama-shaped BF16 checkpoints for `npm run bench:llm`: the published shapes of Llama 3 8B, 3.1 70B
 * and 3.1 405B, the tensor list of a Hugging Face `LlamaForCausalLM` in model order, and a writer
 * that streams a checkpoint with random weights straight into S3 (multipart, one part buffer at a
 * time) in the Hugging Face layout: `model-0000k-of-0000n.safetensors` shards of at most
 * `shardBytes`, `model.safetensors.index.json` and `config.json`. The weights are uniform random,
 * seeded by the tensor's name, so every upload of the same shape holds the same bytes.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** The fields of a Hugging Face Llama config.json that fix the tensor shapes. */
export interface LlamaShape {
  label: string;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
}

/** From the models' published config.json files (head dim 128 in all three). */
export const LLAMA_SHAPES: Record<'8B' | '70B' | '405B', LlamaShape> = {
  '8B': {
    label: 'Llama-3-8B',
    hidden: 4096,
    intermediate: 14336,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    vocab: 128256,
  },
  '70B': {
    label: 'Llama-3.1-70B',
    hidden: 8192,
    intermediate: 28672,
    layers: 80,
    heads: 64,
    kvHeads: 8,
    vocab: 128256,
  },
  '405B': {
    label: 'Llama-3.1-405B',
    hidden: 16384,
    intermediate: 53248,
    layers: 126,
    heads: 128,
    kvHeads: 8,
    vocab: 128256,
  },
};

export interface TensorSpec {
  name: string;
  /** [out, in] as PyTorch's nn.Linear stores it; norms are 1-D. */
  shape: number[];
}

const BF16_BYTES = 2;

export function tensorBytes(t: TensorSpec): number {
  return t.shape.reduce((a, b) => a * b, 1) * BF16_BYTES;
}

/** The tensors of one decoder layer, in a Hugging Face Llama module's order. */
export function decoderLayerTensors(shape: LlamaShape, layer: number): TensorSpec[] {
  const { hidden: h, intermediate: i } = shape;
  const kv = (h / shape.heads) * shape.kvHeads;
  const p = `model.layers.${layer}`;
  return [
    { name: `${p}.input_layernorm.weight`, shape: [h] },
    { name: `${p}.self_attn.q_proj.weight`, shape: [h, h] },
    { name: `${p}.self_attn.k_proj.weight`, shape: [kv, h] },
    { name: `${p}.self_attn.v_proj.weight`, shape: [kv, h] },
    { name: `${p}.self_attn.o_proj.weight`, shape: [h, h] },
    { name: `${p}.post_attention_layernorm.weight`, shape: [h] },
    { name: `${p}.mlp.gate_proj.weight`, shape: [i, h] },
    { name: `${p}.mlp.up_proj.weight`, shape: [i, h] },
    { name: `${p}.mlp.down_proj.weight`, shape: [h, i] },
  ];
}

/** Every tensor of a `layers`-layer model of `shape` (untied embeddings, as Llama 3 has). */
export function llamaTensors(shape: LlamaShape, layers: number): TensorSpec[] {
  return [
    { name: 'model.embed_tokens.weight', shape: [shape.vocab, shape.hidden] },
    ...Array.from({ length: layers }, (_, l) => decoderLayerTensors(shape, l)).flat(),
    { name: 'model.norm.weight', shape: [shape.hidden] },
    { name: 'lm_head.weight', shape: [shape.vocab, shape.hidden] },
  ];
}

/** Tensors packed in order into shards of at most `shardBytes` data bytes (as HF's max_shard_size). */
export function packShards(tensors: TensorSpec[], shardBytes: number): TensorSpec[][] {
  const shards: TensorSpec[][] = [];
  let current: TensorSpec[] = [];
  let size = 0;
  for (const t of tensors) {
    const bytes = tensorBytes(t);
    if (current.length > 0 && size + bytes > shardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += bytes;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

export function shardName(index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

function safetensorsHeader(tensors: TensorSpec[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + tensorBytes(t)] };
    offset += tensorBytes(t);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

function nameSeed(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0 || 1;
}

const FILL_BLOCK = 1 << 20;
const fillScratch = new Float32Array(FILL_BLOCK);
const fillBits = new Uint32Array(fillScratch.buffer);

/**
 * Fills `out` with BF16 values uniform in ±√(3/fanIn) (unit variance per output), continuing the
 * xorshift32 stream from `state`; returns the next state. Truncating float32 to its high half is
 * BF16's round-toward-zero, good enough for random weights.
 */
function fillBf16(out: Uint16Array, state: number, fanIn: number): number {
  const width = 2 * Math.sqrt(3 / fanIn);
  let s = state;
  for (let start = 0; start < out.length; start += FILL_BLOCK) {
    const n = Math.min(FILL_BLOCK, out.length - start);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      fillScratch[i] = ((s >>> 0) * 2.3283064365386963e-10 - 0.5) * width;
    }
    for (let i = 0; i < n; i++) out[start + i] = fillBits[i]! >>> 16;
  }
  return s;
}

const PART_BYTES = 64 * 2 ** 20;

/** One S3 object written as multipart parts of PART_BYTES, holding one part in memory. */
class MultipartObject {
  private readonly part = new Uint8Array(PART_BYTES);
  private filled = 0;
  private readonly etags: { ETag: string; PartNumber: number }[] = [];
  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly uploadId: string,
  ) {}

  static async open(client: S3Client, bucket: string, key: string): Promise<MultipartObject> {
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    if (!created.UploadId) throw new Error(`s3://${bucket}/${key}: no multipart upload id`);
    return new MultipartObject(client, bucket, key, created.UploadId);
  }

  /** Room left in the current part (a view to fill), flushing it first when full. */
  async room(): Promise<Uint8Array> {
    if (this.filled === PART_BYTES) await this.flush();
    return this.part.subarray(this.filled);
  }

  advance(bytes: number): void {
    this.filled += bytes;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const room = await this.room();
      const n = Math.min(room.length, bytes.length - at);
      room.set(bytes.subarray(at, at + n));
      this.advance(n);
      at += n;
    }
  }

  private async flush(): Promise<void> {
    const PartNumber = this.etags.length + 1;
    const sent = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber,
        Body: this.part.subarray(0, this.filled),
      }),
    );
    this.etags.push({ ETag: sent.ETag ?? '', PartNumber });
    this.filled = 0;
  }

  async close(): Promise<void> {
    if (this.filled > 0 || this.etags.length === 0) await this.flush();
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.etags },
      }),
    );
  }
}

/** Stream one shard (header, then each tensor's random data) into s3://bucket/key. */
async function uploadShard(
  client: S3Client,
  bucket: string,
  key: string,
  tensors: TensorSpec[],
): Promise<number> {
  const object = await MultipartObject.open(client, bucket, key);
  const header = safetensorsHeader(tensors);
  await object.write(header);
  let total = header.length;
  for (const t of tensors) {
    let state = nameSeed(t.name);
    const fanIn = t.shape.at(-1)!;
    let left = tensorBytes(t);
    while (left > 0) {
      const room = await object.room();
      // Whole BF16 values only: the part buffer and the header are both even-sized.
      const n = Math.min(room.length, left);
      state = fillBf16(new Uint16Array(room.buffer, room.byteOffset, n / BF16_BYTES), state, fanIn);
      object.advance(n);
      left -= n;
    }
    total += tensorBytes(t);
  }
  await object.close();
  return total;
}

export interface UploadedCheckpoint {
  /** s3://bucket/prefix: the checkpoint directory. */
  uri: string;
  keys: string[];
  /** Bytes of every object written (shards, index, config). */
  bytes: number;
  shardCount: number;
  tensors: TensorSpec[];
}

/** Upload a `layers`-layer model of `shape` under s3://bucket/prefix/ in the Hugging Face layout. */
export async function uploadLlamaCheckpoint(
  client: S3Client,
  bucket: string,
  prefix: string,
  shape: LlamaShape,
  /** `onKey` hears of each object's key before its upload starts (for cleanup after a failure). */
  options: { layers: number; shardBytes: number; onKey?: (key: string) => void },
): Promise<UploadedCheckpoint> {
  const tensors = llamaTensors(shape, options.layers);
  const shards = packShards(tensors, options.shardBytes);
  const keys: string[] = [];
  let bytes = 0;
  const weightMap: Record<string, string> = {};
  for (const [index, shard] of shards.entries()) {
    const name = shardName(index, shards.length);
    for (const t of shard) weightMap[t.name] = name;
    keys.push(`${prefix}/${name}`);
    options.onKey?.(`${prefix}/${name}`);
    bytes += await uploadShard(client, bucket, `${prefix}/${name}`, shard);
  }
  const totalSize = tensors.reduce((sum, t) => sum + tensorBytes(t), 0);
  const small: [string, unknown][] = [
    ['model.safetensors.index.json', { metadata: { total_size: totalSize }, weight_map: weightMap }],
    [
      'config.json',
      {
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        hidden_size: shape.hidden,
        intermediate_size: shape.intermediate,
        num_hidden_layers: options.layers,
        num_attention_heads: shape.heads,
        num_key_value_heads: shape.kvHeads,
        head_dim: shape.hidden / shape.heads,
        vocab_size: shape.vocab,
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
      },
    ],
  ];
  for (const [name, json] of small) {
    const body = new TextEncoder().encode(JSON.stringify(json, null, 2));
    options.onKey?.(`${prefix}/${name}`);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${name}`, Body: body }));
    keys.push(`${prefix}/${name}`);
    bytes += body.length;
  }
  return { uri: `s3://${bucket}/${prefix}`, keys, bytes, shardCount: shards.length, tensors };
}
