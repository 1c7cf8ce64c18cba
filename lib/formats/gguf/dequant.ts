/**
 * GGML block quantization: block sizes and dequantization into Float32Array, following the
 * block layouts of ggml (each block holds f16 scale(s) and packed integer codes). Decoding is
 * streaming: memory is the output array.
 */
import { BadInputError, type ErrorContext, UnsupportedError } from '../../errors.ts';
import { halfToFloat } from '../dtypes.ts';
import type { DType } from '../types.ts';

export type BlockDType = 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q8_0' | 'Q4_K' | 'Q5_K' | 'Q6_K';

/** Elements per block and bytes per block. */
export const BLOCK_LAYOUT: Record<BlockDType, { elements: number; bytes: number }> = {
  Q4_0: { elements: 32, bytes: 18 },
  Q4_1: { elements: 32, bytes: 20 },
  Q5_0: { elements: 32, bytes: 22 },
  Q5_1: { elements: 32, bytes: 24 },
  Q8_0: { elements: 32, bytes: 34 },
  Q4_K: { elements: 256, bytes: 144 },
  Q5_K: { elements: 256, bytes: 176 },
  Q6_K: { elements: 256, bytes: 210 },
};

export function isBlockDType(dtype: DType): dtype is BlockDType {
  return Object.hasOwn(BLOCK_LAYOUT, dtype);
}

function f16(bytes: Uint8Array, at: number): number {
  return halfToFloat(bytes[at]! | (bytes[at + 1]! << 8));
}

/** The 6-bit scale and min of sub-block `j` from the 12 packed bytes at `at` (Q4_K, Q5_K). */
function scaleMin(bytes: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [bytes[at + j]! & 63, bytes[at + j + 4]! & 63];
  const scale = (bytes[at + j + 4]! & 0x0f) | ((bytes[at + j - 4]! >> 6) << 4);
  const min = (bytes[at + j + 4]! >> 4) | ((bytes[at + j]! >> 6) << 4);
  return [scale, min];
}

type Quad = [number, number, number, number];

/** Scales and minimums of K-quant sub-blocks `sub` and `sub + 1`: [d1, min1, d2, min2]. */
function subBlockPair(bytes: Uint8Array, scales: number, sub: number, d: number, dmin: number): Quad {
  const [s1, m1] = scaleMin(bytes, scales, sub);
  const [s2, m2] = scaleMin(bytes, scales, sub + 1);
  return [d * s1, dmin * m1, d * s2, dmin * m2];
}

type BlockDecoder = (bytes: Uint8Array, at: number, out: Float32Array, o: number) => void;

const DECODERS: Record<BlockDType, BlockDecoder> = {
  Q8_0(bytes, at, out, o) {
    const d = f16(bytes, at);
    for (let j = 0; j < 32; j++) out[o + j] = d * ((bytes[at + 2 + j]! << 24) >> 24);
  },
  Q4_0(bytes, at, out, o) {
    const d = f16(bytes, at);
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 2 + j]!;
      out[o + j] = ((q & 0x0f) - 8) * d;
      out[o + j + 16] = ((q >> 4) - 8) * d;
    }
  },
  Q4_1(bytes, at, out, o) {
    const d = f16(bytes, at);
    const m = f16(bytes, at + 2);
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 4 + j]!;
      out[o + j] = (q & 0x0f) * d + m;
      out[o + j + 16] = (q >> 4) * d + m;
    }
  },
  Q5_0(bytes, at, out, o) {
    const d = f16(bytes, at);
    const qh =
      (bytes[at + 2]! | (bytes[at + 3]! << 8) | (bytes[at + 4]! << 16) | (bytes[at + 5]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 6 + j]!;
      const high0 = ((qh >>> j) << 4) & 0x10;
      const high1 = (qh >>> (j + 12)) & 0x10;
      out[o + j] = (((q & 0x0f) | high0) - 16) * d;
      out[o + j + 16] = (((q >> 4) | high1) - 16) * d;
    }
  },
  Q5_1(bytes, at, out, o) {
    const d = f16(bytes, at);
    const m = f16(bytes, at + 2);
    const qh =
      (bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 8 + j]!;
      const high0 = ((qh >>> j) << 4) & 0x10;
      const high1 = (qh >>> (j + 12)) & 0x10;
      out[o + j] = ((q & 0x0f) | high0) * d + m;
      out[o + j + 16] = ((q >> 4) | high1) * d + m;
    }
  },
  Q4_K(bytes, at, out, o) {
    const d = f16(bytes, at);
    const dmin = f16(bytes, at + 2);
    const scales = at + 4;
    let q = at + 16;
    for (let chunk = 0, sub = 0; chunk < 256; chunk += 64, sub += 2, q += 32) {
      const [d1, min1, d2, min2] = subBlockPair(bytes, scales, sub, d, dmin);
      for (let l = 0; l < 32; l++) {
        out[o + chunk + l] = d1 * (bytes[q + l]! & 0x0f) - min1;
        out[o + chunk + 32 + l] = d2 * (bytes[q + l]! >> 4) - min2;
      }
    }
  },
  Q5_K(bytes, at, out, o) {
    const d = f16(bytes, at);
    const dmin = f16(bytes, at + 2);
    const scales = at + 4;
    const qh = at + 16;
    let ql = at + 48;
    let bit1 = 1;
    let bit2 = 2;
    for (let chunk = 0, sub = 0; chunk < 256; chunk += 64, sub += 2, ql += 32, bit1 <<= 2, bit2 <<= 2) {
      const [d1, min1, d2, min2] = subBlockPair(bytes, scales, sub, d, dmin);
      for (let l = 0; l < 32; l++) {
        const high = bytes[qh + l]!;
        out[o + chunk + l] = d1 * ((bytes[ql + l]! & 0x0f) + (high & bit1 ? 16 : 0)) - min1;
        out[o + chunk + 32 + l] = d2 * ((bytes[ql + l]! >> 4) + (high & bit2 ? 16 : 0)) - min2;
      }
    }
  },
  Q6_K(bytes, at, out, o) {
    const d = f16(bytes, at + 208);
    for (let half = 0; half < 2; half++) {
      const ql = at + half * 64;
      const qh = at + 128 + half * 32;
      const sc = at + 192 + half * 8;
      const base = o + half * 128;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = bytes[qh + l]!;
        const q1 = ((bytes[ql + l]! & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32]! & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32;
        const scale = (k: number) => d * ((bytes[sc + is + k]! << 24) >> 24);
        out[base + l] = scale(0) * q1;
        out[base + l + 32] = scale(2) * q2;
        out[base + l + 64] = scale(4) * q3;
        out[base + l + 96] = scale(6) * q4;
      }
    }
  },
};

/** Byte length of `count` elements of a block type (count must be whole blocks). */
export function blockByteLength(dtype: BlockDType, count: number, context: ErrorContext): number {
  const layout = BLOCK_LAYOUT[dtype];
  if (count % layout.elements !== 0) {
    throw new BadInputError(`${count} elements are not whole ${dtype} blocks of ${layout.elements}`, context);
  }
  return (count / layout.elements) * layout.bytes;
}

/** Dequantize `count` elements stored as `dtype` blocks in `bytes`. */
export function dequantizeBlocks(
  dtype: DType,
  bytes: Uint8Array,
  count: number,
  context: ErrorContext,
): Float32Array {
  if (!isBlockDType(dtype)) throw new UnsupportedError(`${dtype} is not a block-quantized type`, context);
  const expected = blockByteLength(dtype, count, context);
  if (bytes.byteLength !== expected) {
    throw new BadInputError(
      `${count} × ${dtype} needs ${expected} bytes but ${bytes.byteLength} were given`,
      context,
    );
  }
  const { elements, bytes: blockBytes } = BLOCK_LAYOUT[dtype];
  const decode = DECODERS[dtype];
  const out = new Float32Array(count);
  for (let at = 0, o = 0; o < count; at += blockBytes, o += elements) decode(bytes, at, out, o);
  return out;
}
