/**
 * The zip central directory: its binary layout, entry parsing (zip64 extra fields), and the
 * checks that keep a crafted archive from lying about sizes (deflate ratio, overlapping entries).
 * Used by zip.ts; separate so the archive class stays about reading.
 */
import { BadInputError, UnsupportedError } from '../errors.ts';

export const EOCD_SIGNATURE = 0x06054b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const ZIP64_EOCD_SIGNATURE = 0x06064b50;
export const LOCAL_SIGNATURE = 0x04034b50;
const CENTRAL_SIGNATURE = 0x02014b50;
export const EOCD_BYTES = 22;
export const MAX_COMMENT_BYTES = 0xffff;
export const CENTRAL_FIXED_BYTES = 46;
export const LOCAL_FIXED_BYTES = 30;

/** Deflate's best case is 1032:1 (258-byte matches in 2 bits); a larger declared ratio is a lie. */
export const MAX_DEFLATE_RATIO = 1032;

export interface ZipLimits {
  /** Entries in the central directory. */
  maxEntries: number;
  /** Bytes of the central directory itself (it is read in one go). */
  maxCentralDirectoryBytes: number;
  /** Largest entry `readEntry` inflates or copies into memory. */
  maxEntryBytes: number;
  /**
   * The archive's deflated entries together may declare at most this many bytes per byte of the
   * archive (beyond `inflateAllowanceBytes`): weights compress little, so a larger ratio is a
   * bomb of zeros, not a checkpoint. Far below deflate's own 1032:1.
   */
  maxInflateRatio: number;
  /** Inflated bytes allowed regardless of the ratio (small archives of all-zero tensors). */
  inflateAllowanceBytes: number;
  /** Absolute cap on the bytes all deflated entries of one archive declare. */
  maxInflatedBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1_000_000,
  maxCentralDirectoryBytes: 256 * 1024 * 1024,
  maxEntryBytes: 2 ** 31 - 1,
  maxInflateRatio: 32,
  inflateAllowanceBytes: 16 * 1024 * 1024,
  maxInflatedBytes: 64 * 1024 ** 3,
};

/**
 * Bound the bytes an archive's deflated entries may inflate to by the bytes it stores: the
 * declared ratio (with a small allowance) and the absolute cap of `limits`.
 */
export function checkInflateBudget(
  entries: readonly ZipEntry[],
  archiveBytes: number,
  limits: ZipLimits,
  file: string,
): void {
  let declared = 0;
  for (const entry of entries) if (entry.method === 8) declared += entry.uncompressedSize;
  const budget = Math.min(
    limits.maxInflatedBytes,
    limits.inflateAllowanceBytes + archiveBytes * limits.maxInflateRatio,
  );
  if (declared > budget) {
    throw new BadInputError(
      `deflated entries declare ${declared} bytes from a ${archiveBytes}-byte archive, over the ` +
        `budget of ${budget} (${limits.maxInflateRatio}:1 plus ${limits.inflateAllowanceBytes} bytes, ` +
        `at most ${limits.maxInflatedBytes}): zip bomb?`,
      { file },
    );
  }
}

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

export function u16(view: DataView, at: number): number {
  return view.getUint16(at, true);
}
export function u32(view: DataView, at: number): number {
  return view.getUint32(at, true);
}
/** A little-endian u64 as a number, rejecting values beyond 2^53 (no archive is that large). */
export function u64(view: DataView, at: number, file: string): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BadInputError(`zip field ${value} exceeds 2^53`, { file });
  }
  return Number(value);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface CentralDirectory {
  entries: ZipEntry[];
  /** Per entry, a lower bound of its local extent: header + name + data (the local extra may add more). */
  minExtents: Map<ZipEntry, number>;
}

export function parseCentralDirectory(cd: Uint8Array, entryCount: number, file: string): CentralDirectory {
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
export function checkEntryBounds(
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
