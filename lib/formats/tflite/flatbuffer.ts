/**
 * Just enough FlatBuffers to read a TFLite model through a `RangeReader`: tables (vtable lookup),
 * scalars, strings, and vectors of scalars or tables. Bytes come through a small page cache, so
 * the model's tables are read while the (inline) weight data between them is never touched.
 * Every offset is checked against the object's size; a corrupt offset is a BadInputError.
 */
import { BadInputError, type ErrorContext } from '../../errors.ts';
import type { RangeReader } from '../types.ts';

const PAGE_BYTES = 64 * 1024;
/** Pages kept in memory (4 MB): tables of one subgraph are usually close together. */
const MAX_CACHED_PAGES = 64;
/** Tables in one vector (tensors, buffers, operators). Real models have thousands; a crafted one could claim millions. */
export const MAX_VECTOR_TABLES = 1_000_000;

export class FlatBufferFile {
  private readonly pages = new Map<number, Promise<Uint8Array>>();
  readonly context: ErrorContext;

  constructor(readonly reader: RangeReader) {
    this.context = { file: reader.uri };
  }

  get size(): number {
    return this.reader.size;
  }

  private page(index: number): Promise<Uint8Array> {
    let page = this.pages.get(index);
    if (!page) {
      if (this.pages.size >= MAX_CACHED_PAGES) this.pages.delete(this.pages.keys().next().value!);
      const start = index * PAGE_BYTES;
      page = this.reader.read(start, Math.min(PAGE_BYTES, this.reader.size - start));
      this.pages.set(index, page);
    }
    return page;
  }

  /** `length` bytes at `offset` (copied when they span pages). */
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new BadInputError(
        `malformed flatbuffer: offset ${offset} (+${length}) outside the file`,
        this.context,
      );
    }
    const first = Math.floor(offset / PAGE_BYTES);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / PAGE_BYTES);
    if (first === last) {
      const page = await this.page(first);
      const at = offset - first * PAGE_BYTES;
      return page.subarray(at, at + length);
    }
    if (length > PAGE_BYTES * 16) return this.reader.read(offset, length);
    const out = new Uint8Array(length);
    for (let p = first, written = 0; p <= last; p++) {
      const page = await this.page(p);
      const from = p === first ? offset - first * PAGE_BYTES : 0;
      const take = Math.min(page.length - from, length - written);
      out.set(page.subarray(from, from + take), written);
      written += take;
    }
    return out;
  }

  async view(offset: number, length: number): Promise<DataView> {
    const b = await this.bytes(offset, length);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  async u32(offset: number): Promise<number> {
    return (await this.view(offset, 4)).getUint32(0, true);
  }

  /** The root table's position (the u32 at offset 0). */
  async root(): Promise<Table> {
    return this.table(await this.u32(0));
  }

  /** A table at `position`: its vtable is found through the signed offset stored there. */
  async table(position: number): Promise<Table> {
    const soffset = (await this.view(position, 4)).getInt32(0, true);
    const vtable = position - soffset;
    const header = await this.view(vtable, 4);
    const vtableBytes = header.getUint16(0, true);
    if (vtableBytes < 4 || vtableBytes % 2 !== 0) {
      throw new BadInputError(
        `malformed flatbuffer: vtable of ${vtableBytes} bytes at ${vtable}`,
        this.context,
      );
    }
    const fields = await this.view(vtable + 4, vtableBytes - 4);
    return new Table(this, position, fields);
  }
}

export class Table {
  constructor(
    private readonly file: FlatBufferFile,
    readonly position: number,
    private readonly fields: DataView,
  ) {}

  /** Absolute position of field `index`, or undefined when the field is absent (default value). */
  fieldPosition(index: number): number | undefined {
    if (index * 2 + 2 > this.fields.byteLength) return undefined;
    const offset = this.fields.getUint16(index * 2, true);
    return offset === 0 ? undefined : this.position + offset;
  }

  async scalar(index: number, type: 'u8' | 'i8' | 'u32' | 'i32' | 'u64', fallback: number): Promise<number> {
    const at = this.fieldPosition(index);
    if (at === undefined) return fallback;
    const size = type === 'u64' ? 8 : type === 'u32' || type === 'i32' ? 4 : 1;
    const view = await this.file.view(at, size);
    switch (type) {
      case 'u8':
        return view.getUint8(0);
      case 'i8':
        return view.getInt8(0);
      case 'u32':
        return view.getUint32(0, true);
      case 'i32':
        return view.getInt32(0, true);
      case 'u64': {
        const value = view.getBigUint64(0, true);
        if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new BadInputError(
            `malformed flatbuffer: 64-bit value ${value} beyond 2^53`,
            this.file.context,
          );
        }
        return Number(value);
      }
    }
  }

  /** Position of the object an offset field points to (string, vector or table). */
  private async target(index: number): Promise<number | undefined> {
    const at = this.fieldPosition(index);
    if (at === undefined) return undefined;
    return at + (await this.file.u32(at));
  }

  async string(index: number): Promise<string | undefined> {
    const vector = await this.vector(index, 1);
    if (!vector) return undefined;
    const bytes = await this.file.bytes(vector.start, vector.length);
    return new TextDecoder('utf-8').decode(bytes);
  }

  /** A vector's element range: `start` is the first element, `length` the element count. */
  async vector(index: number, elementBytes: number): Promise<{ start: number; length: number } | undefined> {
    const at = await this.target(index);
    if (at === undefined) return undefined;
    const length = await this.file.u32(at);
    if (at + 4 + length * elementBytes > this.file.size) {
      throw new BadInputError(
        `malformed flatbuffer: vector of ${length} elements at ${at} runs past the file`,
        this.file.context,
      );
    }
    return { start: at + 4, length };
  }

  async table(index: number): Promise<Table | undefined> {
    const at = await this.target(index);
    return at === undefined ? undefined : this.file.table(at);
  }

  /** The tables of a vector-of-tables field. */
  async tables(index: number): Promise<Table[]> {
    const vector = await this.vector(index, 4);
    if (!vector) return [];
    if (vector.length > MAX_VECTOR_TABLES) {
      throw new BadInputError(
        `flatbuffer vector of ${vector.length} tables exceeds ${MAX_VECTOR_TABLES}`,
        this.file.context,
      );
    }
    const offsets = await this.file.view(vector.start, vector.length * 4);
    const out: Table[] = [];
    for (let i = 0; i < vector.length; i++) {
      const at = vector.start + i * 4;
      out.push(await this.file.table(at + offsets.getUint32(i * 4, true)));
    }
    return out;
  }

  async int32s(index: number): Promise<number[]> {
    const vector = await this.vector(index, 4);
    if (!vector) return [];
    const view = await this.file.view(vector.start, vector.length * 4);
    return Array.from({ length: vector.length }, (_, i) => view.getInt32(i * 4, true));
  }

  async float32s(index: number): Promise<number[]> {
    const vector = await this.vector(index, 4);
    if (!vector) return [];
    const view = await this.file.view(vector.start, vector.length * 4);
    return Array.from({ length: vector.length }, (_, i) => view.getFloat32(i * 4, true));
  }

  async int64s(index: number): Promise<number[]> {
    const vector = await this.vector(index, 8);
    if (!vector) return [];
    const view = await this.file.view(vector.start, vector.length * 8);
    return Array.from({ length: vector.length }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
}
