/**
 * Issue 18, HDF5 names and unreadable objects: datasets whose short names collide keep their full
 * paths ("/a/a/kernel:0" and "/a/kernel" both shorten to "a/kernel"; both rows used to get the
 * second's values), and an object the HDF5 library cannot read is an error, never absent (a
 * corrupt object header used to make it and the datasets after it vanish: rc 0, fewer tensors).
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { listH5 } from '../../../../lib/formats/keras/h5.ts';
import { values, writeH5 } from '../keras-fixture.ts';
import { MemoryObjectOpener } from '../memory-opener.ts';

describe('HDF5 dataset names and unreadable objects', () => {
  it('datasets whose short names collide keep their full paths and their own values', async () => {
    const bytes = await writeH5([
      { path: 'a/a/kernel:0', shape: [2, 3], data: values(6, 1) },
      { path: 'a/kernel', shape: [2, 3], data: values(6, 2) },
      { path: 'b/b/kernel:0', shape: [3], data: values(3, 3) },
    ]);
    const ckpt = await openCheckpoint('m.h5', new MemoryObjectOpener({ 'm.h5': bytes }));
    const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(['a/a/kernel:0', 'a/kernel', 'b/kernel']);
    expect(Array.from(await ckpt.readTensor(byName.get('a/a/kernel:0')!))).toEqual(Array.from(values(6, 1)));
    expect(Array.from(await ckpt.readTensor(byName.get('a/kernel')!))).toEqual(Array.from(values(6, 2)));
  });

  it('a corrupt byte anywhere in the file gives an error or every dataset, never fewer', async () => {
    const bytes = await writeH5([
      { path: 'a/w', shape: [4, 4], data: values(16, 1) },
      { path: 'b/w', shape: [4, 4], data: values(16, 2) },
    ]);
    expect((await listH5(bytes, { file: 'm.h5' })).datasets.length).toBe(2);
    const missing: number[] = [];
    let refused = 0;
    for (let at = 0; at < bytes.byteLength; at += 16) {
      const corrupt = new Uint8Array(bytes);
      corrupt[at] = corrupt[at]! ^ 0xff;
      const listing = await listH5(corrupt, { file: 'm.h5' }).catch((err: unknown) => {
        expect(err).toBeInstanceOf(BadInputError);
        refused++;
        return undefined;
      });
      if (listing && listing.datasets.length < 2) missing.push(at);
    }
    expect(missing).toEqual([]);
    expect(refused).toBeGreaterThan(10);
  }, 300_000);
});
