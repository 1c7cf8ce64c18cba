/**
 * Issue 18, memory bombs of the Keras readers: a `.keras` whose deflated model.weights.h5 is a
 * small HDF5 file padded with 96 MB of zeros (about 100 KB compressed) is refused by the zip
 * inflate budget before anything is inflated; the same archive without the padding opens.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { MemoryObjectOpener } from '../../../../lib/formats/memory.ts';
import { values, writeH5, zip } from '../keras-fixture.ts';

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
