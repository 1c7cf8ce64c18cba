/**
 * ONNX `TensorProto`: where a tensor's values live (raw_data, a typed repeated field, or an external
 * data file) and how to decode them. Field numbers from onnx/onnx.proto:
 * 1 dims, 2 data_type, 4 float_data, 5 int32_data, 7 int64_data, 8 name, 9 raw_data,
 * 10 double_data, 11 uint64_data, 13 external_data (key/value), 14 data_location (1 = EXTERNAL).
 */
import { BadInputError, type ErrorContext } from '../../errors.ts';
import { decodePlain, elementBytes, elementCount } from '../dtypes.ts';
import {
  forEachPackedVarint,
  ProtoSource,
  readString,
  scanFields,
  varintToSafeInteger,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
} from '../protobuf.ts';
import { MemoryRangeReader } from '../range.ts';
import type { DType } from '../types.ts';

/** ONNX TensorProto.DataType → our dtype; `null` = a known type we do not decode (strings, complex, 4-bit, FNUZ). */
export const ONNX_DTYPES: Record<number, DType | null> = {
  1: 'F32',
  2: 'U8',
  3: 'I8',
  4: 'U16',
  5: 'I16',
  6: 'I32',
  7: 'I64',
  8: null, // STRING
  9: 'BOOL',
  10: 'F16',
  11: 'F64',
  12: 'U32',
  13: 'U64',
  14: null, // COMPLEX64
  15: null, // COMPLEX128
  16: 'BF16',
  17: 'F8_E4M3',
  18: null, // FLOAT8E4M3FNUZ
  19: 'F8_E5M2',
  20: null, // FLOAT8E5M2FNUZ
  21: null, // UINT4
  22: null, // INT4
  23: null, // FLOAT4E2M1
};

/** Which typed repeated field holds a dtype's values when raw_data is absent. */
export function typedFieldOf(dtype: DType): number {
  switch (dtype) {
    case 'F32':
      return 4;
    case 'F64':
      return 10;
    case 'I64':
      return 7;
    case 'U32':
    case 'U64':
      return 11;
    default:
      return 5; // int32_data: every narrower type, and the bit patterns of F16/BF16/FP8.
  }
}

export interface ParsedTensorProto {
  name: string;
  dims: number[];
  /** Undefined when ONNX_DTYPES marks the type as not decodable. */
  dtype: DType | undefined;
  dataTypeCode: number;
  /** The whole TensorProto message, for decoding typed fields later. */
  messageOffset: number;
  messageLength: number;
  raw?: { offset: number; length: number };
  /** Occurrences of the typed data field (one when packed, many when written unpacked). */
  typedFieldCount: number;
  /** Payload range of the typed field when it occurs once as a packed LEN field. */
  typedPacked?: { offset: number; length: number };
  external?: Map<string, string>;
}

/** Parse one TensorProto's header fields; payloads are recorded as ranges, never read. */
export async function parseTensorProto(
  source: ProtoSource,
  start: number,
  end: number,
  context: ErrorContext,
): Promise<ParsedTensorProto> {
  const dims: number[] = [];
  let name = '';
  let dataTypeCode = 0;
  let raw: ParsedTensorProto['raw'];
  let external: Map<string, string> | undefined;
  let dataLocation = 0;
  const typedFields = new Map<number, { count: number; offset: number; length: number; wireType: number }>();
  for await (const field of scanFields(source, start, end, context)) {
    switch (field.number) {
      case 1:
        if (field.wireType === WIRE_VARINT)
          dims.push(varintToSafeInteger(field.varint, context, 'dimension'));
        else if (field.wireType === WIRE_LEN) {
          const bytes = await source.bytes(field.offset, field.length);
          forEachPackedVarint(bytes, context, (v) => dims.push(varintToSafeInteger(v, context, 'dimension')));
        }
        break;
      case 2:
        dataTypeCode = varintToSafeInteger(field.varint, context, 'data_type');
        break;
      case 8:
        name = await readString(source, field, context);
        break;
      case 9:
        if (field.wireType !== WIRE_LEN) throw new BadInputError('raw_data is not a bytes field', context);
        raw = { offset: field.offset, length: field.length };
        break;
      case 13: {
        external ??= new Map();
        const [key, value] = await readStringPair(source, field.offset, field.offset + field.length, context);
        external.set(key, value);
        break;
      }
      case 14:
        dataLocation = varintToSafeInteger(field.varint, context, 'data_location');
        break;
      case 4:
      case 5:
      case 7:
      case 10:
      case 11: {
        const seen = typedFields.get(field.number);
        typedFields.set(field.number, {
          count: (seen?.count ?? 0) + 1,
          offset: field.offset,
          length: field.length,
          wireType: field.wireType,
        });
        break;
      }
      default:
        break;
    }
  }
  const ctx = { ...context, tensor: name || context.tensor };
  if (!Object.hasOwn(ONNX_DTYPES, dataTypeCode)) {
    throw new BadInputError(`unknown ONNX data_type ${dataTypeCode}`, ctx);
  }
  const dtype = ONNX_DTYPES[dataTypeCode] ?? undefined;
  if (dataLocation === 1 && !external)
    throw new BadInputError('data_location is EXTERNAL but no external_data', ctx);
  if (dataLocation !== 1) external = undefined;
  const typed = dtype ? typedFields.get(typedFieldOf(dtype)) : undefined;
  return {
    name,
    dims,
    dtype,
    dataTypeCode,
    messageOffset: start,
    messageLength: end - start,
    raw,
    typedFieldCount: typed?.count ?? 0,
    typedPacked: typed && typed.count === 1 && typed.wireType === WIRE_LEN ? typed : undefined,
    external,
  };
}

/** A StringStringEntryProto (1 key, 2 value). */
async function readStringPair(
  source: ProtoSource,
  start: number,
  end: number,
  context: ErrorContext,
): Promise<[string, string]> {
  let key = '';
  let value = '';
  for await (const field of scanFields(source, start, end, context)) {
    if (field.number === 1) key = await readString(source, field, context);
    else if (field.number === 2) value = await readString(source, field, context);
  }
  return [key, value];
}

/**
 * Decode a tensor stored in a typed repeated field (varint-encoded ints, bit patterns of F16/BF16,
 * or unpacked floats) from the bytes of its whole TensorProto message. The values are first
 * written out in the dtype's little-endian storage format, then decoded like raw data.
 */
export async function decodeTypedTensor(
  message: Uint8Array,
  dtype: DType,
  shape: number[],
  context: ErrorContext,
): Promise<Float32Array | Float64Array> {
  const count = elementCount(shape, context);
  const size = elementBytes(dtype)!;
  const fieldNumber = typedFieldOf(dtype);
  const storage = new Uint8Array(count * size);
  const view = new DataView(storage.buffer);
  let n = 0;
  const put = (value: bigint | number): void => {
    if (n >= count)
      throw new BadInputError(`typed data holds more than the ${count} values of its shape`, context);
    const at = n * size;
    if (dtype === 'F32') view.setFloat32(at, Number(value), true);
    else if (dtype === 'F64') view.setFloat64(at, Number(value), true);
    else if (size === 8) view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
    else if (size === 4) view.setUint32(at, Number(BigInt.asUintN(32, BigInt(value))), true);
    else if (size === 2) view.setUint16(at, Number(BigInt.asUintN(16, BigInt(value))), true);
    else storage[at] = Number(BigInt.asUintN(8, BigInt(value)));
    n++;
  };
  const source = new ProtoSource(new MemoryRangeReader(context.file ?? 'onnx', message));
  for await (const field of scanFields(source, 0, message.length, context)) {
    if (field.number !== fieldNumber) continue;
    if (field.wireType === WIRE_VARINT) put(field.varint);
    else if (field.wireType === WIRE_FIXED32 || field.wireType === WIRE_FIXED64) {
      if (dtype !== 'F32' && dtype !== 'F64')
        throw new BadInputError('fixed-width value in an integer field', context);
      const bytes = await source.bytes(field.offset, field.length);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      put(field.wireType === WIRE_FIXED32 ? dv.getFloat32(0, true) : dv.getFloat64(0, true));
    } else {
      const bytes = await source.bytes(field.offset, field.length);
      if (fieldNumber === 4 || fieldNumber === 10) {
        // Packed fixed-width floats/doubles are already little-endian storage.
        const width = fieldNumber === 4 ? 4 : 8;
        if (bytes.length % width !== 0 || n * size + bytes.length > storage.length) {
          throw new BadInputError('typed float data does not match the tensor shape', context);
        }
        storage.set(bytes, n * size);
        n += bytes.length / width;
      } else {
        forEachPackedVarint(bytes, context, put);
      }
    }
  }
  if (n !== count) {
    throw new BadInputError(
      `typed data holds ${n} values but shape [${shape.join(', ')}] needs ${count}`,
      context,
    );
  }
  return decodePlain(dtype, storage, count, context);
}
