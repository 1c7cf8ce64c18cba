/**
 * GGUF v2/v3 (llama.cpp): "GGUF", version, tensor count, key-value metadata, tensor infos
 * (name, dims with the fastest-varying first, ggml type, offset into the aligned data section),
 * then the data. The header is parsed from a growing prefix of the file; every count and length
 * is checked against the bytes that remain, so a hostile header fails fast.
 */
import { BadInputError, type ErrorContext, UnsupportedError } from '../../errors.ts';
import { assertNoOverlap, ReaderCache } from '../checks.ts';
import { decodePlain, elementCount, plainByteLength } from '../dtypes.ts';
import { leadingSlice } from '../experts.ts';
import type { FormatReader, ObjectOpener, OpenedCheckpoint, RangeReader, TensorInfo } from '../types.ts';
import { BLOCK_LAYOUT, blockByteLength, dequantizeBlocks, isBlockDType } from './dequant.ts';
import { ggufDescriptor } from './descriptor.ts';
import { GGML_TYPES } from './ggml-types.ts';

const MAGIC = 0x46554747; // "GGUF" little-endian
/** Largest header we parse (tokenizer vocabularies make headers tens of MB; not GBs). */
export const MAX_GGUF_HEADER_BYTES = 512 * 1024 * 1024;
const FIRST_HEADER_READ = 1024 * 1024;
const DEFAULT_ALIGNMENT = 32;

const UNSUPPORTED_NAMES: Record<number, string> = {
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  29: 'IQ1_M',
  34: 'TQ1_0',
  35: 'TQ2_0',
  39: 'MXFP4',
};

/** Thrown inside the parser when the prefix read so far is too short; the caller reads more. */
class NeedMoreBytes extends Error {}

class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    /** Whether `bytes` is the whole file (then running out is corruption, not a short read). */
    private readonly complete: boolean,
    private readonly context: ErrorContext,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) {
      if (this.complete) throw new BadInputError('GGUF header is truncated', this.context);
      throw new NeedMoreBytes();
    }
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A u64 that must fit in 2^53 (counts, lengths, offsets). */
  u64(what: string): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new BadInputError(`GGUF ${what} ${v} exceeds 2^53`, this.context);
    return Number(v);
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  string(): string {
    const length = this.u64('string length');
    if (length > MAX_GGUF_HEADER_BYTES)
      throw new BadInputError(`GGUF string of ${length} bytes`, this.context);
    this.need(length);
    const text = new TextDecoder('utf-8').decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
}

/** Sizes of the fixed-width metadata value types (8 = string, 9 = array handled apart). */
const VALUE_SIZES: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/** Skip one metadata value, returning it when it is a small scalar (for general.alignment). */
function readValue(
  cursor: Cursor,
  type: number,
  context: ErrorContext,
  depth = 0,
): number | string | undefined {
  if (type === 8) return cursor.string();
  if (type === 9) {
    if (depth > 4) throw new BadInputError('GGUF metadata arrays nest too deeply', context);
    const itemType = cursor.u32();
    const count = cursor.u64('array length');
    const size = VALUE_SIZES[itemType];
    if (size !== undefined) {
      cursor.skip(count * size);
    } else if (itemType === 8 || itemType === 9) {
      // Each item takes at least 8 bytes: a count beyond the header limit is corrupt.
      if (count > MAX_GGUF_HEADER_BYTES / 8) throw new BadInputError(`GGUF array of ${count} items`, context);
      for (let i = 0; i < count; i++) readValue(cursor, itemType, context, depth + 1);
    } else {
      throw new BadInputError(`GGUF metadata array of unknown type ${itemType}`, context);
    }
    return undefined;
  }
  const size = VALUE_SIZES[type];
  if (size === undefined) throw new BadInputError(`GGUF metadata value of unknown type ${type}`, context);
  if (type === 4) return cursor.u32();
  cursor.skip(size);
  return undefined;
}

interface ParsedHeader {
  version: number;
  alignment: number;
  /** Offset of the data section (after the header, aligned). */
  dataStart: number;
  tensors: { name: string; dims: number[]; type: number; offset: number }[];
}

function parseHeader(bytes: Uint8Array, complete: boolean, context: ErrorContext): ParsedHeader {
  const cursor = new Cursor(bytes, complete, context);
  if (cursor.u32() !== MAGIC) throw new BadInputError('not a GGUF file: magic "GGUF" missing', context);
  const version = cursor.u32();
  if (version === 1) throw new UnsupportedError('GGUF v1 is not supported (re-convert to v3)', context);
  if (version !== 2 && version !== 3)
    throw new UnsupportedError(`GGUF version ${version} is not supported`, context);
  const tensorCount = cursor.u64('tensor count');
  const kvCount = cursor.u64('metadata count');
  // Every KV takes ≥ 12 bytes and every tensor info ≥ 24: counts beyond that are corrupt.
  if (kvCount > MAX_GGUF_HEADER_BYTES / 12 || tensorCount > MAX_GGUF_HEADER_BYTES / 24) {
    throw new BadInputError(`GGUF declares ${tensorCount} tensors and ${kvCount} metadata entries`, context);
  }
  let alignment = DEFAULT_ALIGNMENT;
  for (let i = 0; i < kvCount; i++) {
    const key = cursor.string();
    const type = cursor.u32();
    const value = readValue(cursor, type, context);
    if (key === 'general.alignment') {
      if (typeof value !== 'number' || value === 0 || (value & (value - 1)) !== 0) {
        throw new BadInputError('general.alignment is not a power of two', context);
      }
      alignment = value;
    }
  }
  const tensors: ParsedHeader['tensors'] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string();
    const rank = cursor.u32();
    if (rank > 8) throw new BadInputError(`tensor has ${rank} dimensions`, { ...context, tensor: name });
    const dims: number[] = [];
    for (let d = 0; d < rank; d++) dims.push(cursor.u64('dimension'));
    const type = cursor.u32();
    const offset = cursor.u64('tensor offset');
    tensors.push({ name, dims, type, offset });
  }
  const dataStart = Math.ceil(cursor.pos / alignment) * alignment;
  return { version, alignment, dataStart, tensors };
}

/** Parse the header from growing prefixes of the file (most headers fit in the first MiB). */
async function readHeader(reader: RangeReader): Promise<ParsedHeader> {
  const context = { file: reader.uri };
  for (let length = FIRST_HEADER_READ; ; length *= 4) {
    const complete = length >= reader.size;
    const bytes = await reader.read(0, Math.min(length, reader.size));
    try {
      return parseHeader(bytes, complete, context);
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err;
      if (length >= MAX_GGUF_HEADER_BYTES) {
        throw new BadInputError(`GGUF header exceeds ${MAX_GGUF_HEADER_BYTES} bytes`, context);
      }
    }
  }
}

export async function readGgufTensors(reader: RangeReader): Promise<TensorInfo[]> {
  const file = reader.uri;
  const header = await readHeader(reader);
  const dataLength = reader.size - header.dataStart;
  const names = new Set<string>();
  const tensors = header.tensors.map((t): TensorInfo => {
    const context = { file, tensor: t.name };
    if (names.has(t.name)) throw new BadInputError('GGUF lists this tensor twice', context);
    names.add(t.name);
    const dtype = GGML_TYPES[t.type];
    if (!dtype) {
      const name = UNSUPPORTED_NAMES[t.type] ?? `type ${t.type}`;
      throw new UnsupportedError(`ggml type ${name} is not supported`, context);
    }
    // GGUF lists the fastest-varying dimension first; row-major shape is the reverse.
    const shape = [...t.dims].reverse();
    const count = elementCount(shape, context);
    const byteLength = isBlockDType(dtype)
      ? blockByteLength(dtype, count, context)
      : plainByteLength(dtype, shape, context);
    // Blocks run along rows: a row that is not whole blocks cannot be decoded row by row.
    if (isBlockDType(dtype) && (t.dims[0] ?? 0) % BLOCK_LAYOUT[dtype].elements !== 0) {
      throw new BadInputError(`row length ${t.dims[0]} is not whole ${dtype} blocks`, context);
    }
    // The format puts every tensor at a multiple of the alignment (llama.cpp refuses others).
    if (t.offset % header.alignment !== 0) {
      throw new BadInputError(
        `tensor offset ${t.offset} is not a multiple of the alignment (${header.alignment})`,
        context,
      );
    }
    if (dataLength < 0 || t.offset + byteLength > dataLength) {
      throw new BadInputError(
        `tensor data (${byteLength} bytes at ${t.offset}) lies outside the data section (${Math.max(0, dataLength)} bytes)`,
        context,
      );
    }
    const info: TensorInfo = {
      name: t.name,
      dtype,
      shape,
      uri: file,
      byteOffset: header.dataStart + t.offset,
      byteLength,
    };
    if (isBlockDType(dtype)) info.quantization = { scheme: dtype.toLowerCase() };
    return info;
  });
  assertNoOverlap(tensors, file);
  return tensors;
}

export const ggufReader: FormatReader = {
  format: 'gguf',
  descriptor: ggufDescriptor,
  detect(uri, head) {
    return (
      (head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) ||
      uri.toLowerCase().endsWith('.gguf')
    );
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const tensors = await readGgufTensors(await readers.get(uri));
    // Block-quantized rows are whole blocks (checked above), so a leading slice is whole blocks too.
    const readTensor = async (info: TensorInfo): Promise<Float32Array | Float64Array> => {
      const context = { file: info.uri, tensor: info.name };
      const count = elementCount(info.shape, context);
      const bytes = await (await readers.get(info.uri)).read(info.byteOffset, info.byteLength);
      return isBlockDType(info.dtype)
        ? dequantizeBlocks(info.dtype, bytes, count, context)
        : decodePlain(info.dtype, bytes, count, context);
    };
    return {
      format: 'gguf',
      uri,
      tensors,
      readTensor,
      readLeadingSlice: (info, index) => readTensor(leadingSlice(info, index)),
    };
  },
};
