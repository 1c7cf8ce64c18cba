/**
 * A tiny FlatBuffers writer for tests: builds TFLite-shaped files front to back (each table's
 * vtable just before it, children after it, so every uoffset points forward as the format needs).
 */

export type FbField =
  | { t: 'u8' | 'i8' | 'u32' | 'i32' | 'u64'; v: number }
  | { t: 'string'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'i32s' | 'f32s' | 'i64s'; v: number[] }
  | { t: 'table'; v: FbTable }
  | { t: 'tables'; v: FbTable[] }
  /** A vector of `n` offsets to one table (FlatBuffers may share a table between entries). */
  | { t: 'repeat'; v: FbTable; n: number };
/** Field index → value; holes are absent fields. */
export type FbTable = (FbField | undefined)[];

const SCALAR_BYTES = { u8: 1, i8: 1, u32: 4, i32: 4, u64: 8 } as const;

class Writer {
  bytes: number[] = [];
  get pos(): number {
    return this.bytes.length;
  }
  align(n: number): void {
    while (this.bytes.length % n) this.bytes.push(0);
  }
  put(value: number | bigint, size: number, signed = false, float = false): void {
    const view = new DataView(new ArrayBuffer(size));
    if (float) view.setFloat32(0, Number(value), true);
    else if (size === 8) view.setBigInt64(0, BigInt(value), true);
    else if (size === 4)
      signed ? view.setInt32(0, Number(value), true) : view.setUint32(0, Number(value), true);
    else if (size === 2) view.setUint16(0, Number(value), true);
    else view.setUint8(0, Number(value) & 0xff);
    for (let i = 0; i < size; i++) this.bytes.push(view.getUint8(i));
  }
  patchU32(at: number, value: number): void {
    const view = new DataView(new ArrayBuffer(4));
    view.setUint32(0, value, true);
    for (let i = 0; i < 4; i++) this.bytes[at + i] = view.getUint8(i);
  }
}

function writeChild(w: Writer, field: FbField): number {
  switch (field.t) {
    case 'string':
    case 'bytes': {
      const data = field.t === 'string' ? new TextEncoder().encode(field.v) : field.v;
      w.align(4);
      const at = w.pos;
      w.put(data.length, 4);
      for (const b of data) w.bytes.push(b);
      if (field.t === 'string') w.bytes.push(0);
      return at;
    }
    case 'i32s':
    case 'f32s':
    case 'i64s': {
      const size = field.t === 'i64s' ? 8 : 4;
      // The length word sits right before 8-byte-aligned elements.
      w.align(size);
      if (size === 8) w.put(0, 4);
      const at = w.pos;
      w.put(field.v.length, 4);
      for (const v of field.v) w.put(v, size, true, field.t === 'f32s');
      return at;
    }
    case 'table':
      return writeTable(w, field.v);
    case 'repeat': {
      w.align(4);
      const at = w.pos;
      w.put(field.n, 4);
      const first = w.pos;
      for (let i = 0; i < field.n; i++) w.put(0, 4);
      const child = writeTable(w, field.v);
      for (let i = 0; i < field.n; i++) w.patchU32(first + 4 * i, child - (first + 4 * i));
      return at;
    }
    case 'tables': {
      w.align(4);
      const at = w.pos;
      w.put(field.v.length, 4);
      const slots = field.v.map(() => {
        const slot = w.pos;
        w.put(0, 4);
        return slot;
      });
      field.v.forEach((table, i) => {
        const child = writeTable(w, table);
        w.patchU32(slots[i]!, child - slots[i]!);
      });
      return at;
    }
    default:
      throw new Error(`not a child field: ${field.t}`);
  }
}

function writeTable(w: Writer, table: FbTable): number {
  // Inline layout: soffset (4), then each present field in index order, 8-byte fields aligned.
  const offsets: number[] = [];
  let size = 4;
  table.forEach((field, i) => {
    if (!field) return;
    const bytes = field.t in SCALAR_BYTES ? SCALAR_BYTES[field.t as keyof typeof SCALAR_BYTES] : 4;
    if (bytes === 8) size = Math.ceil(size / 8) * 8;
    offsets[i] = size;
    size += bytes;
  });
  w.align(8);
  const vtable = w.pos;
  w.put(4 + 2 * table.length, 2);
  w.put(size, 2);
  for (let i = 0; i < table.length; i++) w.put(offsets[i] ?? 0, 2);
  w.align(8);
  const start = w.pos;
  w.put(start - vtable, 4, true);
  const slots: [number, FbField][] = [];
  table.forEach((field, i) => {
    if (!field) return;
    while (w.pos < start + offsets[i]!) w.bytes.push(0);
    if (field.t in SCALAR_BYTES) {
      w.put(
        (field as { v: number }).v,
        SCALAR_BYTES[field.t as keyof typeof SCALAR_BYTES],
        field.t === 'i32' || field.t === 'i8',
      );
    } else {
      slots.push([w.pos, field]);
      w.put(0, 4);
    }
  });
  for (const [slot, field] of slots) w.patchU32(slot, writeChild(w, field) - slot);
  return start;
}

/** Serialize a root table with file identifier `ident` (e.g. "TFL3"), then append `trailer`. */
export function buildFlatBuffer(
  root: FbTable,
  ident: string,
  trailer?: (endOfFlatBuffer: number) => Uint8Array,
): Uint8Array {
  const w = new Writer();
  w.put(0, 4);
  for (const c of ident) w.bytes.push(c.charCodeAt(0));
  const rootAt = writeTable(w, root);
  w.patchU32(0, rootAt);
  w.align(16);
  const extra = trailer ? trailer(w.pos) : new Uint8Array(0);
  const out = new Uint8Array(w.pos + extra.length);
  out.set(w.bytes);
  out.set(extra, w.pos);
  return out;
}
