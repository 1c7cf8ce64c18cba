import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError, UnsupportedError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { FileStorage } from '../../../storage/file.ts';
import { expectTensorsExact, FIXTURES_DIR, readExpected } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const dir = `${FIXTURES_DIR}numpy/`;
const expected = readExpected('numpy/expected.json');

describe('numpy readers over numpy-written fixtures', () => {
  for (const file of Object.keys(expected)) {
    it(`decodes ${file} bit for bit`, async () => {
      const ckpt = await openCheckpoint(`${dir}${file}`, new FileStorage());
      expect(ckpt.format).toBe(file.endsWith('.npz') ? 'npz' : 'npy');
      await expectTensorsExact(ckpt, expected[file]!);
    });
  }

  it('reads a stored .npz member by range (only its bytes)', async () => {
    const storage = new FileStorage();
    const ckpt = await openCheckpoint(`${dir}stored.npz`, storage);
    const info = ckpt.tensors.find((t) => t.name === 'fc.weight')!;
    expect(info.uri).toBe(`${dir}stored.npz`);
    const before = storage.stats.bytesRead;
    await ckpt.readTensor(info);
    expect(storage.stats.bytesRead - before).toBe(10 * 8 * 8);
  });

  it('refuses big-endian and object arrays with UnsupportedError', async () => {
    for (const file of ['big_endian.npy', 'objects.npy']) {
      await expect(openCheckpoint(`${dir}${file}`, new FileStorage())).rejects.toBeInstanceOf(
        UnsupportedError,
      );
    }
  });

  it('rejects a header whose shape needs more bytes than the file has', async () => {
    const bytes = new Uint8Array(readFileSync(`${dir}dense.npy`));
    const text = Buffer.from(bytes).toString('latin1').replace('(6, 5)', '(9, 5)');
    const opener = new MemoryObjectOpener({ 'x.npy': new Uint8Array(Buffer.from(text, 'latin1')) });
    await expect(openCheckpoint('x.npy', opener)).rejects.toThrow(/runs past the end/);
    const truncated = new MemoryObjectOpener({ 'y.npy': bytes.subarray(0, 9) });
    await expect(openCheckpoint('y.npy', truncated)).rejects.toBeInstanceOf(BadInputError);
  });
});
