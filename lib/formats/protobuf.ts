/**
 * A small protobuf wire-format scanner over `RangeReader` (no generated code, no schema). It walks
 * the fields of a message between two byte offsets, reading tags and varints through a windowed
 * cache and *skipping* length-delimited payloads without reading them, so a multi-GB ONNX file
 * (one protobuf message) is scanned by reading its small fields only; large payloads such as
 * `raw_data` are recorded as byte ranges for later ranged reads.
 */
import { BadInputError, type ErrorContext } from '../errors.ts';
import type { RangeReader } from './types.ts';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message. For LEN fields `offset`/`length` delimit the payload (not read yet). */
export interface ProtoField {
  number: number;
  wireType: 0 | 1 | 2 | 5;
  /** Offset (in the object) of the field's value / payload. */
  offset: number;
  /** Payload length for LEN; 8 or 4 for the fixed types; the varint's byte length for VARINT. */
  length: number;
  /** The value of a VARINT field (two's complement 64-bit, as protobuf stores int64/int32). */
  varint: bigint;
}

/** Bytes read per cache refill: tags and small fields of neighbouring messages share a window. */
const WINDOW_BYTES = 64 * 1024;
/** A varint is at most 10 bytes, a tag plus a length prefix at most 20. */
const MAX_FIELD_HEADER_BYTES = 20;

/** Windowed access to an object's bytes: small reads are served from one cached window. */
export class ProtoSource {
  private windowStart = 0;
  private window: Uint8Array = new Uint8Array(0);

  constructor(
    readonly reader: RangeReader,
    private readonly windowBytes = WINDOW_BYTES,
  ) {}

  get size(): number {
    return this.reader.size;
  }

  /** Exactly `length` bytes at `offset` (from the window when it holds them). */
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    const inWindow = offset >= this.windowStart && offset + length <= this.windowStart + this.window.length;
    if (inWindow) return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
    if (length > this.windowBytes) return this.reader.read(offset, length);
    const windowLength = Math.min(this.windowBytes, this.reader.size - offset);
    this.window = await this.reader.read(offset, Math.max(windowLength, length));
    this.windowStart = offset;
    return this.window.subarray(0, length);
  }
}

/** Decode a varint from `bytes` at `at`; returns the value and its byte length. */
export function decodeVarint(bytes: Uint8Array, at: number, context: ErrorContext): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = bytes[at + i];
    if (b === undefined) throw new BadInputError('malformed protobuf: truncated varint', context);
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [BigInt.asUintN(64, result), i + 1];
    shift += 7n;
  }
  throw new BadInputError('malformed protobuf: varint longer than 10 bytes', context);
}

/** A varint as a signed 64-bit number (int32/int64 fields), rejecting values beyond 2^53. */
export function varintToSafeInteger(value: bigint, context: ErrorContext, what: string): number {
  const signed = BigInt.asIntN(64, value);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new BadInputError(`${what} ${signed} is beyond 2^53`, context);
  }
  return Number(signed);
}

/**
 * Iterate the fields of the message occupying [start, end) of `source`. LEN payloads are skipped
 * (only their range is reported); a field running past `end` is a BadInputError.
 */
export async function* scanFields(
  source: ProtoSource,
  start: number,
  end: number,
  context: ErrorContext,
): AsyncGenerator<ProtoField> {
  if (end > source.size || start < 0 || start > end) {
    throw new BadInputError(`malformed protobuf: message [${start}, ${end}) outside the file`, context);
  }
  let pos = start;
  while (pos < end) {
    const header = await source.bytes(pos, Math.min(MAX_FIELD_HEADER_BYTES, end - pos));
    const [tag, tagBytes] = decodeVarint(header, 0, context);
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (number === 0 || tag >> 3n > 0x1fffffffn) {
      throw new BadInputError(`malformed protobuf: field number ${tag >> 3n} at offset ${pos}`, context);
    }
    let offset = pos + tagBytes;
    let length: number;
    let varint = 0n;
    switch (wireType) {
      case WIRE_VARINT: {
        const [value, n] = decodeVarint(header, tagBytes, context);
        varint = value;
        length = n;
        break;
      }
      case WIRE_FIXED64:
        length = 8;
        break;
      case WIRE_FIXED32:
        length = 4;
        break;
      case WIRE_LEN: {
        const [value, n] = decodeVarint(header, tagBytes, context);
        offset += n;
        if (value > BigInt(end - offset)) {
          throw new BadInputError(
            `malformed protobuf: field ${number} at offset ${pos} claims ${value} bytes past its message`,
            context,
          );
        }
        length = Number(value);
        break;
      }
      default:
        // Groups (3/4) are proto1 relics no ONNX writer emits; anything else is corrupt.
        throw new BadInputError(`malformed protobuf: wire type ${wireType} at offset ${pos}`, context);
    }
    if (offset + length > end) {
      throw new BadInputError(
        `malformed protobuf: field ${number} at offset ${pos} runs past its message`,
        context,
      );
    }
    yield { number, wireType: wireType as ProtoField['wireType'], offset, length, varint };
    pos = offset + length;
  }
}

/** Read a LEN field's payload as UTF-8 text (names, op types: small). */
export async function readString(
  source: ProtoSource,
  field: ProtoField,
  context: ErrorContext,
  maxBytes = 1 << 20,
): Promise<string> {
  if (field.wireType !== WIRE_LEN) throw new BadInputError(`field ${field.number} is not a string`, context);
  if (field.length > maxBytes) {
    throw new BadInputError(`string field ${field.number} of ${field.length} bytes is too long`, context);
  }
  const bytes = await source.bytes(field.offset, field.length);
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw new BadInputError(`string field ${field.number} is not valid UTF-8`, context, { cause: err });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode the varints packed in `bytes` (a packed repeated int field), calling `onValue` for each. */
export function forEachPackedVarint(
  bytes: Uint8Array,
  context: ErrorContext,
  onValue: (v: bigint) => void,
): void {
  let at = 0;
  while (at < bytes.length) {
    const [value, n] = decodeVarint(bytes, at, context);
    onValue(value);
    at += n;
  }
}
