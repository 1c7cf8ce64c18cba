/**
 * The `.npy` header: "\x93NUMPY", version (1.0: u16 header length; 2.0/3.0: u32), then a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces.
 * We parse that literal with a tiny grammar of our own (never eval) and accept little-endian and
 * byte-sized numeric types.
 */
import { BadInputError, type ErrorContext, UnsupportedError } from '../../errors.ts';
import { plainByteLength } from '../dtypes.ts';
import type { DType } from '../types.ts';

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** numpy itself refuses headers above 10000 bytes unless told otherwise; allow some slack. */
export const MAX_NPY_HEADER_BYTES = 1 << 20;

export const DESCR_DTYPES: Record<string, DType> = {
  f8: 'F64',
  f4: 'F32',
  f2: 'F16',
  i8: 'I64',
  i4: 'I32',
  i2: 'I16',
  i1: 'I8',
  u8: 'U64',
  u4: 'U32',
  u2: 'U16',
  u1: 'U8',
  b1: 'BOOL',
};

export interface NpyHeader {
  dtype: DType;
  shape: number[];
  fortranOrder: boolean;
  /** Bytes before the data (magic, version, length field, header). */
  dataOffset: number;
  dataLength: number;
}

export function hasNpyMagic(head: Uint8Array): boolean {
  return head.length >= 6 && NPY_MAGIC.every((b, i) => head[i] === b);
}

/** Bytes of the preamble needed to know the header's length. */
export const NPY_PREAMBLE_BYTES = 12;

/** Total header size (preamble + dict) from the first 12 bytes. */
export function npyHeaderSize(preamble: Uint8Array, context: ErrorContext): number {
  if (!hasNpyMagic(preamble))
    throw new BadInputError('not a .npy array: magic "\\x93NUMPY" missing', context);
  if (preamble.length < 10) throw new BadInputError('.npy header is truncated', context);
  const major = preamble[6]!;
  const view = new DataView(preamble.buffer, preamble.byteOffset, preamble.byteLength);
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) {
    if (preamble.length < 12) throw new BadInputError('.npy header is truncated', context);
    const length = view.getUint32(8, true);
    if (length > MAX_NPY_HEADER_BYTES) {
      throw new BadInputError(
        `.npy header of ${length} bytes exceeds the ${MAX_NPY_HEADER_BYTES}-byte limit`,
        context,
      );
    }
    return 12 + length;
  }
  throw new UnsupportedError(`.npy format version ${major}.${preamble[7]} is not supported`, context);
}

/** Parse the header dict; `header` holds at least `npyHeaderSize` bytes; `totalSize` the object's size. */
export function parseNpyHeader(header: Uint8Array, totalSize: number, context: ErrorContext): NpyHeader {
  const dataOffset = npyHeaderSize(header, context);
  if (dataOffset > header.byteLength || dataOffset > totalSize) {
    throw new BadInputError(`.npy header of ${dataOffset} bytes runs past the end`, context);
  }
  const prefix = header[6] === 3 ? 'utf-8' : 'latin1';
  const text = new TextDecoder(prefix).decode(header.subarray(header[6] === 1 ? 10 : 12, dataOffset));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new BadInputError('.npy header lacks descr, fortran_order or shape', context);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d{1,16}$/.test(s))
        throw new BadInputError(`.npy shape entry "${s.slice(0, 20)}" is not an integer`, context);
      return Number(s);
    });
  const dtype = npyDType(descr, context);
  const dataLength = plainByteLength(dtype, shape, context);
  if (dataOffset + dataLength > totalSize) {
    throw new BadInputError(
      `.npy data of shape [${shape.join(', ')}] × ${dtype} (${dataLength} bytes) runs past the end (${totalSize} bytes)`,
      context,
    );
  }
  return { dtype, shape, fortranOrder: fortran === 'True', dataOffset, dataLength };
}

function npyDType(descr: string, context: ErrorContext): DType {
  const match = /^([<>|=])([a-zA-Z]\d+)$/.exec(descr);
  if (!match) {
    throw new UnsupportedError(`.npy dtype "${descr.slice(0, 40)}" is not a plain numeric type`, context);
  }
  const [, order, code] = match as unknown as [string, string, string];
  const dtype = DESCR_DTYPES[code];
  if (!dtype) throw new UnsupportedError(`.npy dtype "${descr}" is not supported`, context);
  const size = Number(code.slice(1));
  if (order === '>' && size > 1) {
    throw new UnsupportedError(`.npy dtype "${descr}" is big-endian; re-save as little-endian`, context);
  }
  return dtype;
}
