/**
 * A small zip reader over `RangeReader` (PyTorch checkpoints, `.npz`, `.keras` archives): the
 * central directory (zip64 included) is read from the end of the archive, and each entry is read
 * on demand. Stored entries expose their byte range in the archive, so a tensor inside one is a
 * single ranged read; deflated entries are inflated whole, bounded by their declared size.
 *
 * Bomb protection: declared sizes are checked against the archive (compressed data must lie inside
 * it, deflate cannot expand beyond ~1032:1, entries may not overlap), and inflation stops at the
 * declared size, so memory for one entry is bounded by what its header claims, itself bounded by
 * the archive's size.
 */
import { constants, crc32, inflateRawSync } from 'node:zlib';
import { BadInputError, UnsupportedError } from '../errors.ts';
import { MemoryRangeReader } from './memory.ts';
import type { RangeReader } from './types.ts';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const CENTRAL_FIXED_BYTES = 46;
const LOCAL_FIXED_BYTES = 30;

/** Deflate's best case is 1032:1 (258-byte matches in 2 bits); a larger declared ratio is a lie. */
export const MAX_DEFLATE_RATIO = 1032;

export interface ZipLimits {
  /** Entries in the central directory. */
  maxEntries: number;
  /** Bytes of the central directory itself (it is read in one go). */
  maxCentralDirectoryBytes: number;
  /** Largest entry `readEntry` inflates or copies into memory. */
  maxEntryBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1_000_000,
  maxCentralDirectoryBytes: 256 * 1024 * 1024,
  maxEntryBytes: 2 ** 31 - 1,
};

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: 0 | 8;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

const utf8 = new TextDecoder('utf-8');

function u16(view: DataView, at: number): number {
  return view.getUint16(at, true);
}
function u32(view: DataView, at: number): number {
  return view.getUint32(at, true);
}
/** A little-endian u64 as a number, rejecting values beyond 2^53 (no archive is that large). */
function u64(view: DataView, at: number, file: string): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BadInputError(`zip field ${value} exceeds 2^53`, { file });
  }
  return Number(value);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A window [offset, offset+length) of another reader, for stored zip entries. */
class SliceRangeReader implements RangeReader {
  constructor(
    readonly uri: string,
    private readonly base: RangeReader,
    private readonly offset: number,
    readonly size: number,
  ) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new BadInputError(`invalid read of ${length} bytes at ${offset}`, { file: this.uri });
    }
    if (offset + length > this.size) {
      throw new BadInputError(
        `read of ${length} bytes at offset ${offset} is outside the entry (${this.size} bytes): truncated or corrupt`,
        { file: this.uri },
      );
    }
    return this.base.read(this.offset + offset, length);
  }
}

export class ZipArchive {
  private readonly byName: Map<string, ZipEntry>;
  private readonly dataOffsets = new Map<ZipEntry, number>();

  private constructor(
    readonly reader: RangeReader,
    readonly entries: readonly ZipEntry[],
    private readonly limits: ZipLimits,
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  get uri(): string {
    return this.reader.uri;
  }

  /** Read and validate the central directory. Throws BadInputError for anything malformed. */
  static async open(reader: RangeReader, limits: Partial<ZipLimits> = {}): Promise<ZipArchive> {
    const all = { ...DEFAULT_ZIP_LIMITS, ...limits };
    const file = reader.uri;
    if (reader.size < EOCD_BYTES) throw new BadInputError('not a zip archive: too short', { file });
    const tailLength = Math.min(reader.size, EOCD_BYTES + MAX_COMMENT_BYTES);
    const tailStart = reader.size - tailLength;
    const tail = await reader.read(tailStart, tailLength);
    const tailView = viewOf(tail);
    let eocd = -1;
    for (let i = tailLength - EOCD_BYTES; i >= 0; i--) {
      // The comment length must reach exactly to the end, which rules out signatures inside comments.
      if (u32(tailView, i) === EOCD_SIGNATURE && i + EOCD_BYTES + u16(tailView, i + 20) === tailLength) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new BadInputError('not a zip archive: no end-of-central-directory record', { file });

    let entryCount = u16(tailView, eocd + 10);
    let cdSize = u32(tailView, eocd + 12);
    let cdOffset = u32(tailView, eocd + 16);
    if (u16(tailView, eocd + 4) !== 0 || u16(tailView, eocd + 6) !== 0) {
      throw new UnsupportedError('multi-disk (split) zip archives are not supported', { file });
    }
    const needsZip64 = entryCount === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;
    const locatorAt = eocd - 20;
    if (locatorAt >= 0 && u32(tailView, locatorAt) === ZIP64_LOCATOR_SIGNATURE) {
      const zip64At = u64(tailView, locatorAt + 8, file);
      if (zip64At + 56 > reader.size) {
        throw new BadInputError('zip64 end-of-central-directory record lies outside the file', { file });
      }
      const record = viewOf(await reader.read(zip64At, 56));
      if (u32(record, 0) !== ZIP64_EOCD_SIGNATURE) {
        throw new BadInputError('zip64 locator does not point at a zip64 record', { file });
      }
      entryCount = u64(record, 32, file);
      cdSize = u64(record, 40, file);
      cdOffset = u64(record, 48, file);
    } else if (needsZip64) {
      throw new BadInputError('zip needs a zip64 record but has none', { file });
    }

    if (entryCount > all.maxEntries) {
      throw new BadInputError(`zip declares ${entryCount} entries, over the limit of ${all.maxEntries}`, {
        file,
      });
    }
    if (cdSize > all.maxCentralDirectoryBytes || cdOffset + cdSize > reader.size) {
      throw new BadInputError(
        `central directory (${cdSize} bytes at ${cdOffset}) lies outside the ${reader.size}-byte file`,
        { file },
      );
    }
    if (entryCount * CENTRAL_FIXED_BYTES > cdSize) {
      throw new BadInputError(`central directory of ${cdSize} bytes cannot hold ${entryCount} entries`, {
        file,
      });
    }
    const cd = await reader.read(cdOffset, cdSize);
    const { entries, minExtents } = parseCentralDirectory(cd, entryCount, file);
    checkEntryBounds(entries, minExtents, cdOffset, file);
    return new ZipArchive(reader, entries, all);
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** Absolute offset of the entry's data in the archive (reads and checks its local header). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.dataOffsets.get(entry);
    if (cached !== undefined) return cached;
    const context = { file: this.uri, tensor: entry.name };
    if (entry.localHeaderOffset + LOCAL_FIXED_BYTES > this.reader.size) {
      throw new BadInputError('zip local header lies outside the file', context);
    }
    const header = viewOf(await this.reader.read(entry.localHeaderOffset, LOCAL_FIXED_BYTES));
    if (u32(header, 0) !== LOCAL_SIGNATURE) {
      throw new BadInputError('zip local header signature missing', context);
    }
    const offset = entry.localHeaderOffset + LOCAL_FIXED_BYTES + u16(header, 26) + u16(header, 28);
    if (offset + entry.compressedSize > this.reader.size) {
      throw new BadInputError(
        `zip entry data (${entry.compressedSize} bytes at ${offset}) runs past the end of the file`,
        context,
      );
    }
    this.dataOffsets.set(entry, offset);
    return offset;
  }

  /**
   * Byte range of a stored (uncompressed) entry inside the archive, so a reader can point a
   * TensorInfo straight at it. Deflated entries have no such range: UnsupportedError.
   */
  async storedRange(entry: ZipEntry): Promise<{ offset: number; length: number }> {
    if (entry.method !== 0) {
      throw new UnsupportedError('zip entry is compressed; it cannot be read by byte range', {
        file: this.uri,
        tensor: entry.name,
      });
    }
    return { offset: await this.dataOffset(entry), length: entry.uncompressedSize };
  }

  /** The whole entry, inflated if needed and CRC-checked. Memory: the declared uncompressed size. */
  async readEntry(entry: ZipEntry): Promise<Uint8Array> {
    const context = { file: this.uri, tensor: entry.name };
    if (entry.uncompressedSize > this.limits.maxEntryBytes) {
      throw new UnsupportedError(
        `zip entry of ${entry.uncompressedSize} bytes exceeds the ${this.limits.maxEntryBytes}-byte limit`,
        context,
      );
    }
    const offset = await this.dataOffset(entry);
    const raw = await this.reader.read(offset, entry.compressedSize);
    let bytes: Uint8Array;
    if (entry.method === 0) {
      bytes = raw;
    } else {
      try {
        // maxOutputLength stops a lying header from inflating past what it declared.
        bytes = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      } catch (err) {
        throw new BadInputError(
          `zip entry does not inflate to its declared ${entry.uncompressedSize} bytes: ${(err as Error).message}`,
          context,
          { cause: err },
        );
      }
      if (bytes.byteLength !== entry.uncompressedSize) {
        throw new BadInputError(
          `zip entry inflates to ${bytes.byteLength} bytes, not the declared ${entry.uncompressedSize}`,
          context,
        );
      }
    }
    if (crc32(bytes) >>> 0 !== entry.crc32) {
      throw new BadInputError('zip entry fails its CRC-32 check: corrupt', context);
    }
    return bytes;
  }

  /**
   * Up to `maxBytes` of the entry's uncompressed start (a header), without inflating the rest:
   * only a prefix of the compressed stream is read. No CRC check (the entry is not read whole).
   */
  async readEntryPrefix(entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    const want = Math.min(maxBytes, entry.uncompressedSize);
    const offset = await this.dataOffset(entry);
    if (entry.method === 0) return this.reader.read(offset, want);
    // Inflate growing prefixes of the compressed stream: output is bounded by 1032× what was
    // read, so a small header never costs a large allocation even when the data is all zeros.
    for (let compressed = 256; ; compressed *= 16) {
      const length = Math.min(compressed, entry.compressedSize);
      const raw = await this.reader.read(offset, length);
      let out: Uint8Array;
      try {
        out = inflateRawSync(raw, {
          finishFlush: constants.Z_SYNC_FLUSH,
          maxOutputLength: Math.max(1, length * MAX_DEFLATE_RATIO),
        });
      } catch (err) {
        throw new BadInputError(
          `zip entry does not inflate: ${(err as Error).message}`,
          { file: this.uri, tensor: entry.name },
          { cause: err },
        );
      }
      if (out.byteLength >= want || length === entry.compressedSize) return out.subarray(0, want);
    }
  }

  /**
   * A RangeReader over the entry's uncompressed bytes: a ranged view for stored entries (nothing
   * read yet), an in-memory copy for deflated ones. Its uri is "<archive>#<entry name>".
   */
  async openEntry(entry: ZipEntry): Promise<RangeReader> {
    const uri = `${this.uri}#${entry.name}`;
    if (entry.method === 0) {
      const { offset, length } = await this.storedRange(entry);
      return new SliceRangeReader(uri, this.reader, offset, length);
    }
    return new MemoryRangeReader(uri, await this.readEntry(entry));
  }
}

interface CentralDirectory {
  entries: ZipEntry[];
  /** Per entry, a lower bound of its local extent: header + name + data (the local extra may add more). */
  minExtents: Map<ZipEntry, number>;
}

function parseCentralDirectory(cd: Uint8Array, entryCount: number, file: string): CentralDirectory {
  const view = viewOf(cd);
  const entries: ZipEntry[] = [];
  const minExtents = new Map<ZipEntry, number>();
  const names = new Set<string>();
  let at = 0;
  for (let i = 0; i < entryCount; i++) {
    if (at + CENTRAL_FIXED_BYTES > cd.byteLength || u32(view, at) !== CENTRAL_SIGNATURE) {
      throw new BadInputError(`central directory entry ${i} is missing or truncated`, { file });
    }
    const flags = u16(view, at + 8);
    const method = u16(view, at + 10);
    const crc = u32(view, at + 16);
    let compressedSize = u32(view, at + 20);
    let uncompressedSize = u32(view, at + 24);
    const nameLength = u16(view, at + 28);
    const extraLength = u16(view, at + 30);
    const commentLength = u16(view, at + 32);
    let localHeaderOffset = u32(view, at + 42);
    const end = at + CENTRAL_FIXED_BYTES + nameLength + extraLength + commentLength;
    if (end > cd.byteLength) throw new BadInputError(`central directory entry ${i} is truncated`, { file });
    const name = utf8.decode(cd.subarray(at + CENTRAL_FIXED_BYTES, at + CENTRAL_FIXED_BYTES + nameLength));
    const context = { file, tensor: name };
    if (names.has(name)) throw new BadInputError('zip holds two entries of this name', context);
    names.add(name);

    // zip64 extra field: the 64-bit values of exactly those fields that are 0xFFFFFFFF, in order.
    const extraStart = at + CENTRAL_FIXED_BYTES + nameLength;
    let extraAt = extraStart;
    while (extraAt + 4 <= extraStart + extraLength) {
      const id = u16(view, extraAt);
      const size = u16(view, extraAt + 2);
      const body = extraAt + 4;
      if (body + size > extraStart + extraLength) {
        throw new BadInputError('zip extra field is truncated', context);
      }
      if (id === 0x0001) {
        let field = body;
        const take = (): number => {
          if (field + 8 > body + size) throw new BadInputError('zip64 extra field is too short', context);
          const value = u64(view, field, file);
          field += 8;
          return value;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      extraAt = body + size;
    }

    if (flags & 0x1) throw new UnsupportedError('encrypted zip entries are not supported', context);
    if (method !== 0 && method !== 8) {
      throw new UnsupportedError(`zip compression method ${method} is not supported`, context);
    }
    if (method === 0 && compressedSize !== uncompressedSize) {
      throw new BadInputError(
        `stored zip entry declares ${compressedSize} bytes stored but ${uncompressedSize} uncompressed`,
        context,
      );
    }
    if (method === 8 && uncompressedSize > Math.max(1024, compressedSize * MAX_DEFLATE_RATIO)) {
      throw new BadInputError(
        `deflated zip entry claims ${uncompressedSize} bytes from ${compressedSize}: beyond deflate's ratio (zip bomb?)`,
        context,
      );
    }
    const entry: ZipEntry = { name, method, compressedSize, uncompressedSize, crc32: crc, localHeaderOffset };
    entries.push(entry);
    minExtents.set(entry, LOCAL_FIXED_BYTES + nameLength + compressedSize);
    at = end;
  }
  return { entries, minExtents };
}

/**
 * Entries must lie before the central directory and must not overlap one another: overlapping
 * entries are how "non-recursive" zip bombs reuse one compressed stream many times.
 */
function checkEntryBounds(
  entries: readonly ZipEntry[],
  minExtents: Map<ZipEntry, number>,
  cdOffset: number,
  file: string,
): void {
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i]!;
    const minEnd = entry.localHeaderOffset + minExtents.get(entry)!;
    const limit = i + 1 < sorted.length ? sorted[i + 1]!.localHeaderOffset : cdOffset;
    if (minEnd > limit) {
      throw new BadInputError('zip entry overlaps the next entry or the central directory', {
        file,
        tensor: entry.name,
      });
    }
  }
}
