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
import { MemoryRangeReader } from './range.ts';
import type { RangeReader } from './types.ts';
import { memberUri } from './uri.ts';

import {
  CENTRAL_FIXED_BYTES,
  checkEntryBounds,
  checkInflateBudget,
  DEFAULT_ZIP_LIMITS,
  EOCD_BYTES,
  EOCD_SIGNATURE,
  LOCAL_FIXED_BYTES,
  LOCAL_SIGNATURE,
  MAX_COMMENT_BYTES,
  MAX_DEFLATE_RATIO,
  parseCentralDirectory,
  u16,
  u32,
  u64,
  viewOf,
  ZIP64_EOCD_SIGNATURE,
  ZIP64_LOCATOR_SIGNATURE,
  type ZipEntry,
  type ZipLimits,
} from './zip-directory.ts';

export { DEFAULT_ZIP_LIMITS, MAX_DEFLATE_RATIO, type ZipEntry, type ZipLimits } from './zip-directory.ts';

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
    checkInflateBudget(entries, reader.size, all, file);
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
   * read yet), an in-memory copy for deflated ones. Its uri is `memberUri(archive, entry name)`.
   */
  async openEntry(entry: ZipEntry): Promise<RangeReader> {
    const uri = memberUri(this.uri, entry.name);
    if (entry.method === 0) {
      const { offset, length } = await this.storedRange(entry);
      return new SliceRangeReader(uri, this.reader, offset, length);
    }
    return new MemoryRangeReader(uri, await this.readEntry(entry));
  }
}
