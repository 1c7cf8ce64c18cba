/**
 * Reuse of parsed checkpoint headers and of the first bytes of objects.
 *
 * - `CheckpointHeaderCache`: opened checkpoints (tensor lists) of one worker process, bounded LRU,
 *   keyed by the caller's content identity of the checkpoint (the sweep uses its checkpoint id, a
 *   digest of the uri and the content hash over every file's size, head and tail bytes), so
 *   discovery, inspection and every layer batch of a checkpoint parse its headers once.
 * - `headCachingOpener`: for a burst of header reads (discovery, opening): each object is opened
 *   (HEAD) once; the first read inside its first `headBytes` is made as asked (a file refused by
 *   its size or magic costs no more), a second one there reads them all, and later reads inside
 *   them are served from memory: format detection, the header parse and the content hash all
 *   read there.
 */
import type { ObjectOpener, OpenedCheckpoint, RangeReader } from './types.ts';

export const DEFAULT_HEADER_CACHE_ENTRIES = 64;

export class CheckpointHeaderCache {
  private readonly entries = new Map<string, Promise<OpenedCheckpoint>>();

  constructor(readonly maxEntries = DEFAULT_HEADER_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached checkpoint under `key`, else `open()`'s (cached unless it rejects). */
  get(key: string, open: () => Promise<OpenedCheckpoint>): Promise<OpenedCheckpoint> {
    let opened = this.entries.get(key);
    if (!opened) {
      opened = open();
      opened.catch(() => {
        if (this.entries.get(key) === opened) this.entries.delete(key);
      });
    }
    this.touch(key, opened);
    return opened;
  }

  /** Remember an already opened checkpoint (discovery opened it anyway). */
  put(key: string, opened: OpenedCheckpoint): void {
    this.touch(key, Promise.resolve(opened));
  }

  private touch(key: string, opened: Promise<OpenedCheckpoint>): void {
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, opened);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Bytes of each object's start served from one read (headers, detection heads, hash heads). */
export const DEFAULT_HEAD_BYTES = 64 * 1024;

export interface HeadCachingOpener extends ObjectOpener {
  /** Drop the cached head bytes (readers stay usable and read through from then on). */
  release(): void;
}

/**
 * Wrap `opener` for a burst of header reads. Opened readers are shared per uri for the wrapper's
 * lifetime (objects are assumed unchanged meanwhile); call `release()` after the burst so readers
 * kept by opened checkpoints do not pin the head bytes.
 */
export function headCachingOpener(opener: ObjectOpener, headBytes = DEFAULT_HEAD_BYTES): HeadCachingOpener {
  const readers = new Map<string, Promise<HeadCachingReader>>();
  return {
    open(uri, options) {
      // The open options (the symlink boundary) are part of what was checked: one reader per both.
      const key = `${uri}\0${options?.within ?? ''}`;
      let reader = readers.get(key);
      if (!reader) {
        reader = opener.open(uri, options).then((inner) => new HeadCachingReader(inner, headBytes));
        reader.catch(() => readers.delete(key));
        readers.set(key, reader);
      }
      return reader;
    },
    exists: (uri) => (readers.has(`${uri}\0`) ? Promise.resolve(true) : opener.exists(uri)),
    list: (prefix) => opener.list(prefix),
    release() {
      for (const reader of readers.values()) reader.then((r) => r.release()).catch(() => undefined);
    },
  };
}

class HeadCachingReader implements RangeReader {
  private head: Promise<Uint8Array> | undefined;
  private first: { offset: number; bytes: Promise<Uint8Array> } | undefined;
  private released = false;

  constructor(
    private readonly inner: RangeReader,
    private readonly headBytes: number,
  ) {}

  get uri(): string {
    return this.inner.uri;
  }
  get size(): number {
    return this.inner.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const headLength = Math.min(this.inner.size, this.headBytes);
    if (this.released || offset < 0 || length < 0 || offset + length > headLength) {
      return this.inner.read(offset, length);
    }
    if (this.first && !this.head) {
      const { offset: at, bytes } = this.first;
      const firstBytes = await bytes.catch(() => undefined);
      if (firstBytes && offset >= at && offset + length <= at + firstBytes.length) {
        return firstBytes.slice(offset - at, offset - at + length);
      }
    }
    if (!this.first && !this.head) {
      const bytes = this.inner.read(offset, length);
      this.first = { offset, bytes };
      return (await bytes).slice();
    }
    if (!this.head) {
      const head = this.inner.read(0, headLength);
      head.catch(() => {
        if (this.head === head) this.head = undefined;
      });
      this.head = head;
    }
    // A copy: callers may keep or modify what they get.
    return (await this.head).slice(offset, offset + length);
  }

  release(): void {
    this.released = true;
    this.head = undefined;
    this.first = undefined;
  }
}
