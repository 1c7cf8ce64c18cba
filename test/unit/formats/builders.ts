/** Small in-test writers of checkpoint bytes (safetensors) for mapping and discovery tests. */

export interface BuildTensor {
  name: string;
  dtype?: 'F32' | 'F16' | 'F64' | 'I64';
  shape: number[];
  /** Values as F32 (or raw bytes for other dtypes); zeros when omitted. */
  data?: Float32Array | Uint8Array;
}

const BYTES = { F32: 4, F16: 2, F64: 8, I64: 8 } as const;

export function buildSafetensors(tensors: BuildTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const dtype = t.dtype ?? 'F32';
    const length = t.shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    const bytes = new Uint8Array(length);
    if (t.data)
      bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, Math.min(length, t.data.byteLength)));
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    chunks.push(bytes);
    offset += length;
  }
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
