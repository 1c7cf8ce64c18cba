/**
 * Byte ranges: the bounds check every `RangeReader` applies (storage backends included), and an
 * in-memory reader for members decoded out of containers (zip entries, Keras weights, ONNX tensors).
 */
import { BadInputError } from '../errors.ts';
import type { RangeReader } from './types.ts';

export class MemoryRangeReader implements RangeReader {
  readonly size: number;
  /** Bytes handed out so far (tests assert on it to prove reads stay ranged). */
  bytesRead = 0;
  constructor(
    readonly uri: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.byteLength;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.uri, this.size, offset, length);
    this.bytesRead += length;
    return this.bytes.subarray(offset, offset + length);
  }
}

/** Whether [offset, offset + length) is whole positions inside [0, size), at least `minLength` long. */
export function isRangeInside(offset: number, length: number, size: number, minLength = 0): boolean {
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= minLength &&
    offset + length <= size
  );
}

/** Throws BadInputError unless [offset, offset+length) lies inside an object of `size` bytes. */
export function checkRange(uri: string, size: number, offset: number, length: number): void {
  if (!isRangeInside(offset, length, size)) {
    throw new BadInputError(
      `read of ${length} bytes at offset ${offset} is outside the object (${size} bytes): truncated or corrupt`,
      { file: uri },
    );
  }
}
