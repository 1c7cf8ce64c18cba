/**
 * Element types: their stored size, and decoding stored little-endian bytes into floats.
 * Float64 and the wide integer types decode to Float64Array (no precision lost); everything else
 * to Float32Array. Block-quantized GGUF types are decoded in gguf/dequant.ts.
 */
import { BadInputError, type ErrorContext, UnsupportedError } from '../errors.ts';
import type { DType } from './types.ts';

/** Bytes per element of the plain (non-block) dtypes. */
const ELEMENT_BYTES: Partial<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** The dtypes stored one element after another (everything but ggml's block-quantized types). */
export const PLAIN_DTYPES = Object.keys(ELEMENT_BYTES) as DType[];

/** Bytes per element, or undefined for block-quantized types. */
export function elementBytes(dtype: DType): number | undefined {
  return ELEMENT_BYTES[dtype];
}

export function isIntegerDType(dtype: DType): boolean {
  return dtype.startsWith('I') || dtype.startsWith('U') || dtype === 'BOOL';
}

export function isPlainDType(dtype: string): dtype is DType {
  return Object.hasOwn(ELEMENT_BYTES, dtype);
}

/**
 * Largest element count we decode into one typed array. V8 caps typed arrays well below 2^53, and
 * a larger "tensor" in a header is corrupt or hostile long before it is real.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/**
 * Element count of `shape`, checked with BigInt so a hostile shape cannot overflow to a small
 * number. Throws BadInputError for negative/non-integer dims or counts beyond 2^53.
 */
export function elementCount(shape: readonly number[], context: ErrorContext): number {
  let count = 1n;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new BadInputError(`invalid dimension ${dim} in shape [${shape.join(', ')}]`, context);
    }
    count *= BigInt(dim);
  }
  if (count > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BadInputError(`shape [${shape.join(', ')}] has more than 2^53 elements`, context);
  }
  return Number(count);
}

/** Byte length of a plain-dtype tensor, checked against 2^53 with BigInt. */
export function plainByteLength(dtype: DType, shape: readonly number[], context: ErrorContext): number {
  const size = ELEMENT_BYTES[dtype];
  if (size === undefined) throw new UnsupportedError(`dtype ${dtype} is block-quantized`, context);
  const bytes = BigInt(elementCount(shape, context)) * BigInt(size);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BadInputError(`shape [${shape.join(', ')}] × ${dtype} overflows 2^53 bytes`, context);
  }
  return Number(bytes);
}

let float16Table: Float32Array | undefined;
/** All 65536 half-precision values, built once (256 KB) so decoding is one lookup per element. */
function halfTable(): Float32Array {
  if (float16Table) return float16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = halfBitsToFloat(h);
  float16Table = table;
  return table;
}

export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** One F16 value from its 16-bit pattern (used by the GGUF block decoders). */
export function halfToFloat(bits: number): number {
  return halfTable()[bits & 0xffff]!;
}

/** OCP FP8 E4M3 ("fn": no infinities, only 0x7f/0xff are NaN), as torch.float8_e4m3fn. */
function e4m3ToFloat(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exponent = (b >> 3) & 0xf;
  const mantissa = b & 0x7;
  if (exponent === 15 && mantissa === 7) return Number.NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (1 + mantissa / 8) * 2 ** (exponent - 7);
}

/** FP8 E5M2: IEEE-like (infinities and NaNs), as torch.float8_e5m2. */
function e5m2ToFloat(b: number): number {
  return halfToFloat(b << 8);
}

const e4m3Table = Float32Array.from({ length: 256 }, (_, b) => e4m3ToFloat(b));
const e5m2Table = Float32Array.from({ length: 256 }, (_, b) => e5m2ToFloat(b));

/** Copy `bytes` into a fresh, aligned buffer (reads may hand back unaligned views). */
function alignedCopy(bytes: Uint8Array, elementSize: number): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes.byteLength - (bytes.byteLength % elementSize));
  new Uint8Array(buffer).set(bytes.subarray(0, buffer.byteLength));
  return buffer;
}

/**
 * Decode `count` little-endian elements of `dtype` from `bytes` (exactly count × size bytes).
 * Memory: the result plus at most one aligned copy of the input for the wide types.
 */
export function decodePlain(
  dtype: DType,
  bytes: Uint8Array,
  count: number,
  context: ErrorContext,
): Float32Array | Float64Array {
  const size = ELEMENT_BYTES[dtype];
  if (size === undefined) throw new UnsupportedError(`dtype ${dtype} needs a block decoder`, context);
  if (bytes.byteLength !== count * size) {
    throw new BadInputError(
      `${count} × ${dtype} needs ${count * size} bytes but ${bytes.byteLength} were given`,
      context,
    );
  }
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new UnsupportedError(`tensor of ${count} elements is too large to decode at once`, context);
  }
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(count);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'F16': {
      const table = halfTable();
      const out = new Float32Array(count);
      for (let i = 0, j = 0; i < count; i++, j += 2) out[i] = table[bytes[j]! | (bytes[j + 1]! << 8)]!;
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0, j = 0; i < count; i++, j += 2) bits[i] = (bytes[j]! | (bytes[j + 1]! << 8)) << 16;
      return out;
    }
    case 'F8_E4M3':
      return Float32Array.from(bytes, (b) => e4m3Table[b]!);
    case 'F8_E5M2':
      return Float32Array.from(bytes, (b) => e5m2Table[b]!);
    case 'I8':
      return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(bytes);
    case 'I16':
      return Float32Array.from(new Int16Array(alignedCopy(bytes, 2)));
    case 'U16':
      return Float32Array.from(new Uint16Array(alignedCopy(bytes, 2)));
    case 'I32':
      return Float64Array.from(new Int32Array(alignedCopy(bytes, 4)));
    case 'U32':
      return Float64Array.from(new Uint32Array(alignedCopy(bytes, 4)));
    case 'I64':
      return Float64Array.from(new BigInt64Array(alignedCopy(bytes, 8)), (v) => Number(v));
    case 'U64':
      return Float64Array.from(new BigUint64Array(alignedCopy(bytes, 8)), (v) => Number(v));
    default:
      throw new UnsupportedError(`dtype ${dtype} is not supported`, context);
  }
}
