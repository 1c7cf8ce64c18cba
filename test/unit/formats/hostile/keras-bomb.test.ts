/**
 * Issue 18, memory bombs of the Keras readers: a `.keras` whose deflated model.weights.h5 is a
 * small HDF5 file padded with 96 MB of zeros (about 100 KB compressed) is refused by the zip
 * inflate budget before anything is inflated; the same archive without the padding opens.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { values, writeH5, zip } from '../keras-fixture.ts';
import { MemoryObjectOpener } from '../memory-opener.ts';

describe('.keras memory bombs', () => {
  it('a zero-padded deflated model.weights.h5 is refused at open; unpadded it opens', async () => {
    const h5 = await writeH5([{ path: 'layers/dense/vars/0', shape: [4, 4], data: values(16, 1) }]);
    const padded = new Uint8Array(h5.byteLength + 96_000_000);
    padded.set(h5);
    const bomb = zip({ 'model.weights.h5': padded }, true);
    expect(bomb.byteLength).toBeLessThan(2 * 1024 * 1024);
    const err = await openCheckpoint('m.keras', new MemoryObjectOpener({ 'm.keras': bomb })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/over the budget .*zip bomb/);
    expect((err as BadInputError).context.file).toBe('m.keras');
    const fine = zip({ 'model.weights.h5': h5 }, true);
    const ckpt = await openCheckpoint('m.keras', new MemoryObjectOpener({ 'm.keras': fine }));
    expect(ckpt.tensors.length).toBe(1);
  }, 120_000);
});

describe('gzip-chunked HDF5 datasets', () => {
  it('a dataset of 96 MB of deflated zeros in a small file fails its own read, bounded by the inflate ratio', async () => {
    const zeros = new Float32Array(4000 * 6000);
    const h5 = await writeH5([
      { path: 'model_weights/fc/fc/kernel:0', shape: [4000, 6000], data: zeros, gzip: true },
      { path: 'model_weights/out/out/kernel:0', shape: [4, 4], data: values(16, 2) },
    ]);
    expect(h5.byteLength).toBeLessThan(2 * 1024 * 1024);
    const ckpt = await openCheckpoint('m.h5', new MemoryObjectOpener({ 'm.h5': h5 }));
    const bomb = ckpt.tensors.find((t) => t.name === 'fc/kernel')!;
    const err = await ckpt.readTensor(bomb).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(
      /declares 96000000 bytes, more than a \d+-byte file can hold/,
    );
    const fine = ckpt.tensors.find((t) => t.name === 'out/kernel')!;
    expect(Array.from(await ckpt.readTensor(fine))).toEqual(Array.from(values(16, 2)));
  }, 120_000);
});
