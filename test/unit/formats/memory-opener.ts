/** In-memory `ObjectOpener` for tests: named objects, exact-URI opens, prefix listing, bytes read. */
import { BadInputError } from '../../../lib/errors.ts';
import { MemoryRangeReader } from '../../../lib/formats/range.ts';
import type { ObjectOpener, RangeReader } from '../../../lib/formats/types.ts';

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
