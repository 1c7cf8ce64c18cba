/**
 * In-memory `RangeReader` / `ObjectOpener`, for unit tests and for members decoded out of
 * compressed containers. Enforces the same bounds as the storage backends.
 */
import { BadInputError } from '../errors.ts';
import type { ObjectOpener, RangeReader } from './types.ts';

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

/** Throws BadInputError unless [offset, offset+length) lies inside an object of `size` bytes. */
export function checkRange(uri: string, size: number, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new BadInputError(
      `read of ${length} bytes at offset ${offset} is outside the object (${size} bytes): truncated or corrupt`,
      { file: uri },
    );
  }
}

/** A set of named in-memory objects, addressed by exact URI; `list` matches by prefix. */
export class MemoryObjectOpener implements ObjectOpener {
  readonly objects = new Map<string, Uint8Array>();
  readonly readers: MemoryRangeReader[] = [];

  constructor(entries: Record<string, Uint8Array> = {}) {
    for (const [uri, bytes] of Object.entries(entries)) this.objects.set(uri, bytes);
  }

  put(uri: string, bytes: Uint8Array): this {
    this.objects.set(uri, bytes);
    return this;
  }

  async open(uri: string): Promise<RangeReader> {
    const bytes = this.objects.get(uri);
    if (!bytes) throw new BadInputError('no such object', { file: uri });
    const reader = new MemoryRangeReader(uri, bytes);
    this.readers.push(reader);
    return reader;
  }

  async exists(uri: string): Promise<boolean> {
    return this.objects.has(uri);
  }

  async list(prefixUri: string): Promise<string[]> {
    const prefix = prefixUri.endsWith('/') ? prefixUri : `${prefixUri}/`;
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Total bytes read through every reader this opener handed out. */
  get bytesRead(): number {
    return this.readers.reduce((sum, r) => sum + r.bytesRead, 0);
  }
}
