import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError, UnsupportedError } from '../../../lib/errors.ts';
import { MemoryRangeReader } from '../../../lib/formats/range.ts';
import { ZipArchive } from '../../../lib/formats/zip.ts';
import { buildZip } from './zip-builder.ts';

const fixtures = new URL('../../fixtures/formats/zip/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as Record<
  string,
  { length: number; sum: number }
>;

function sum(bytes: Uint8Array): number {
  return bytes.reduce((a, b) => a + b, 0);
}

async function openBytes(bytes: Uint8Array, name = 'mem.zip') {
  const reader = new MemoryRangeReader(name, bytes);
  return { reader, zip: await ZipArchive.open(reader) };
}

describe('ZipArchive over archives written by Python zipfile', () => {
  it('lists and reads stored, deflated and empty entries', async () => {
    const { zip } = await openBytes(readFileSync(new URL('mixed.zip', fixtures)));
    expect(zip.entries.map((e) => e.name).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const bytes = await zip.readEntry(zip.get(name)!);
      expect(bytes.byteLength).toBe(want.length);
      expect(sum(bytes)).toBe(want.sum);
    }
    expect(zip.get('deflated.txt')!.method).toBe(8);
  });

  it('gives stored entries a byte range that reads exactly their bytes', async () => {
    const { zip, reader } = await openBytes(readFileSync(new URL('mixed.zip', fixtures)));
    const entry = zip.get('dir/stored.bin')!;
    const { offset, length } = await zip.storedRange(entry);
    const before = reader.bytesRead;
    const slice = await reader.read(offset + 256, 4);
    expect(reader.bytesRead - before).toBe(4);
    expect([...slice]).toEqual([0, 1, 2, 3]);
    expect(length).toBe(1024);
    const view = await zip.openEntry(entry);
    expect([...(await view.read(1020, 4))]).toEqual([252, 253, 254, 255]);
    await expect(view.read(1021, 4)).rejects.toBeInstanceOf(BadInputError);
    await expect(zip.storedRange(zip.get('deflated.txt')!)).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('reads a local-header zip64 entry', async () => {
    const { zip } = await openBytes(readFileSync(new URL('zip64.zip', fixtures)));
    const bytes = await zip.readEntry(zip.get('big-header.bin')!);
    expect(sum(bytes)).toBe(expected['dir/stored.bin']!.sum);
  });
});

describe('ZipArchive with zip64 central directories and hostile headers', () => {
  const data = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);

  it('reads zip64 central directories', async () => {
    const bytes = buildZip(
      [
        { name: 'a', data, method: 0 },
        { name: 'b', data, method: 8 },
      ],
      { zip64: true },
    );
    const { zip } = await openBytes(bytes);
    expect(sum(await zip.readEntry(zip.get('a')!))).toBe(sum(data));
    expect(sum(await zip.readEntry(zip.get('b')!))).toBe(sum(data));
  });

  it('rejects a deflated entry declaring more than deflate can expand to (bomb)', async () => {
    const bytes = buildZip([{ name: 'bomb', data, method: 8, declaredSize: 2 ** 31 }]);
    await expect(openBytes(bytes)).rejects.toThrow(/zip bomb/);
  });

  it('stops inflating at the declared size when the header lies within the ratio', async () => {
    const zeros = new Uint8Array(1 << 20);
    const bytes = buildZip([{ name: 'liar', data: zeros, method: 8, declaredSize: 2000 }]);
    const { zip } = await openBytes(bytes);
    await expect(zip.readEntry(zip.get('liar')!)).rejects.toBeInstanceOf(BadInputError);
  });

  it('rejects overlapping entries', async () => {
    const bytes = buildZip([
      { name: 'a', data },
      { name: 'b', data },
    ]);
    // Point the second central entry's local header offset into the first entry's data.
    const view = new DataView(bytes.buffer);
    const cdOffset = view.getUint32(bytes.byteLength - 6, true);
    const secondCentral = cdOffset + 46 + 1;
    view.setUint32(secondCentral + 42, 10, true);
    await expect(openBytes(bytes)).rejects.toThrow(/overlaps/);
  });

  it('detects corruption by CRC', async () => {
    const bytes = buildZip([{ name: 'a', data }]);
    bytes[40] = bytes[40]! ^ 0xff;
    const { zip } = await openBytes(bytes);
    await expect(zip.readEntry(zip.get('a')!)).rejects.toThrow(/CRC/);
  });

  it('rejects non-zips and truncated archives with BadInputError', async () => {
    await expect(openBytes(new Uint8Array(100))).rejects.toBeInstanceOf(BadInputError);
    const bytes = buildZip([{ name: 'a', data }]);
    await expect(openBytes(bytes.subarray(0, bytes.byteLength - 30))).rejects.toBeInstanceOf(BadInputError);
  });
});
