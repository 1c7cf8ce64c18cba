/**
 * The `.npy` header: "\x93NUMPY", version (1.0: u16 header length; 2.0/3.0: u32), then a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces.
 * We parse that literal with a tiny grammar of our own (never eval) and accept little-endian and
 * byte-sized numeric types. The dict is read as numpy reads it (`ast.literal_eval`, then a check):
 * exactly the keys descr, fortran_order and shape; a key given twice takes its last value, as a
 * Python dict literal does; fortran_order is True or False; shape a tuple of integers. Literal
 * syntax beyond what numpy writes (escapes, comments, hex, '_' in numbers) is refused.
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
  const { descr, fortranOrder, shape } = parseHeaderDict(text, context);
  const dtype = npyDType(descr, context);
  const dataLength = plainByteLength(dtype, shape, context);
  if (dataOffset + dataLength > totalSize) {
    throw new BadInputError(
      `.npy data of shape [${shape.join(', ')}] × ${dtype} (${dataLength} bytes) runs past the end (${totalSize} bytes)`,
      context,
    );
  }
  return { dtype, shape, fortranOrder, dataOffset, dataLength };
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

const HEADER_KEYS = ['descr', 'fortran_order', 'shape'] as const;
type HeaderValue = string | boolean | number[] | { other: string };

/** The header dict literal → its three values, or a BadInputError naming what is wrong. */
function parseHeaderDict(
  text: string,
  context: ErrorContext,
): { descr: string; fortranOrder: boolean; shape: number[] } {
  let pos = 0;
  const fail = (message: string): never => {
    throw new BadInputError(`.npy header ${message} (at character ${pos})`, context);
  };
  const skipSpace = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expects "${char}"`);
    pos++;
  };
  const string = (): string => {
    const quote = text[pos];
    const end = text.indexOf(quote!, pos + 1);
    if (end < 0) fail('has an unterminated string');
    const value = text.slice(pos + 1, end);
    if (value.includes('\\') || value.includes('\n')) fail('has a string with escapes or line breaks');
    pos = end + 1;
    return value;
  };
  const value = (): HeaderValue => {
    skipSpace();
    const char = text[pos];
    if (char === "'" || char === '"') return string();
    if (text.startsWith('True', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('False', pos)) {
      pos += 5;
      return false;
    }
    if (char === '(') {
      pos++;
      const items: number[] = [];
      let commas = 0;
      while (true) {
        skipSpace();
        if (text[pos] === ')') break;
        const digits = /^(0|[1-9]\d{0,15})(?![\w.])/.exec(text.slice(pos, pos + 18));
        if (!digits) return fail('shape holds something other than non-negative integers');
        items.push(Number(digits[1]));
        pos += digits[1]!.length;
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          commas++;
        } else if (text[pos] !== ')') fail('expects "," or ")" in a tuple');
      }
      pos++;
      // "(8)" is the integer 8 in Python, not a tuple.
      if (items.length === 1 && commas === 0) return { other: 'an integer in parentheses' };
      return items;
    }
    if (char === '[') return { other: 'a list' };
    return { other: 'an unsupported literal' };
  };

  const values = new Map<string, HeaderValue>();
  expect('{');
  while (true) {
    skipSpace();
    if (text[pos] === '}') break;
    if (text[pos] !== "'" && text[pos] !== '"') fail('expects a string key');
    const key = string();
    expect(':');
    const v = value();
    // A repeated key takes the last value (a Python dict literal; numpy reads the header so).
    values.set(key, v);
    skipSpace();
    if (text[pos] === ',') pos++;
    else if (text[pos] !== '}') fail('expects "," or "}"');
  }
  pos++;
  skipSpace();
  if (pos !== text.length) fail('has text after the dict');
  const keys = [...values.keys()].sort();
  if (keys.join() !== HEADER_KEYS.join()) {
    throw new BadInputError(
      `.npy header keys are ${JSON.stringify(keys.map((k) => k.slice(0, 40)))}, not exactly descr, fortran_order and shape`,
      context,
    );
  }
  const descr = values.get('descr')!;
  const fortranOrder = values.get('fortran_order')!;
  const shape = values.get('shape')!;
  if (typeof descr !== 'string') {
    throw new UnsupportedError(
      '.npy descr is not a plain dtype string (structured arrays are not weights)',
      context,
    );
  }
  if (typeof fortranOrder !== 'boolean')
    throw new BadInputError('.npy fortran_order is not True or False', context);
  if (!Array.isArray(shape)) throw new BadInputError('.npy shape is not a tuple of integers', context);
  return { descr, fortranOrder, shape };
}
