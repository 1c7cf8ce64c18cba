/**
 * Issue 18, memory bombs: decoded bytes stay bounded by stored bytes. A torch view with stride 0
 * over one float, a tfjs shard listed many times in `paths`, and an npz of deflated zeros are each
 * refused at open, before anything is allocated for them.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { ZipArchive } from '../../../../lib/formats/zip.ts';
import { jsonBytes } from '../builders.ts';
import { MemoryObjectOpener } from '../memory-opener.ts';
import { buildZip } from '../zip-builder.ts';
import { torchZipBytes } from './torch-gen.ts';

/** An .npy of `count` float32 zeros. */
function zeroNpy(count: number): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${count},), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + count * 4);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  return out;
}

describe('decoded bytes are bounded by stored bytes', () => {
  it('a torch view with stride 0 over one float, declared [50000, 5000], is refused at open', async () => {
    const opener = new MemoryObjectOpener({ 'm.pt': torchZipBytes(1, [50_000, 5_000], [0, 0], 4) });
    const err = await openCheckpoint('m.pt', opener).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/reads 250000000 elements from 1 stored/);
    expect((err as BadInputError).context).toMatchObject({ file: 'm.pt', tensor: 'w' });
  });

  it('an overlapping view (stride [1, 1]) is refused; a transposed one still reads', async () => {
    const overlapping = new MemoryObjectOpener({ 'm.pt': torchZipBytes(5, [3, 3], [1, 1], 20) });
    await expect(openCheckpoint('m.pt', overlapping)).rejects.toThrow(/reads 9 elements from 5 stored/);
    const transposed = new MemoryObjectOpener({ 'm.pt': torchZipBytes(6, [3, 2], [1, 3], 24) });
    const ckpt = await openCheckpoint('m.pt', transposed);
    expect((await ckpt.readTensor(ckpt.tensors[0]!)).length).toBe(6);
  });

  it('a tfjs shard listed 3400 times in paths is refused', async () => {
    const shard = new Uint8Array(1024 * 4);
    const modelJson = jsonBytes({
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential', config: { name: 'net', layers: [] } },
      weightsManifest: [
        {
          paths: Array.from({ length: 3400 }, () => 'shard.bin'),
          weights: [{ name: 'fc/kernel', shape: [3400, 1024], dtype: 'float32' }],
        },
      ],
    });
    const opener = new MemoryObjectOpener({ 'm/model.json': modelJson, 'm/shard.bin': shard });
    await expect(openCheckpoint('m/model.json', opener)).rejects.toThrow(
      /lists shard "shard.bin" a second time/,
    );
  });

  it('an npz of deflated zeros beyond the inflate budget is refused at open', async () => {
    // 24 M floats = 96 MB of zeros deflate to ~93 KB: far over 32:1 plus 16 MiB.
    const zip = buildZip([{ name: 'w.npy', data: zeroNpy(24_000_000), method: 8 }]);
    expect(zip.byteLength).toBeLessThan(2 * 1024 * 1024);
    const opener = new MemoryObjectOpener({ 'm.npz': zip });
    const err = await openCheckpoint('m.npz', opener).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/over the budget .*zip bomb/);
  });

  it('the inflate budget is configurable and small all-zero archives stay readable', async () => {
    const zip = buildZip([{ name: 'w.npy', data: zeroNpy(100_000), method: 8 }]);
    const reader = await new MemoryObjectOpener({ 'z.zip': zip }).open('z.zip');
    await expect(ZipArchive.open(reader)).resolves.toBeInstanceOf(ZipArchive);
    await expect(ZipArchive.open(reader, { inflateAllowanceBytes: 0 })).rejects.toThrow(/over the budget/);
    await expect(
      ZipArchive.open(reader, { inflateAllowanceBytes: 0, maxInflateRatio: 1000 }),
    ).resolves.toBeInstanceOf(ZipArchive);
  });
});
