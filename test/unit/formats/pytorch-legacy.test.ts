/**
 * Legacy (non-zip) torch.save files (fixtures by test/fixtures/gen/formats_torch_legacy.py): read
 * through the same restricted unpickler as the zip format, tensors bit for bit, each one ranged
 * read; sharded legacy `pytorch_model-0000k-of-0000n.bin` with their index; broken files are
 * errors naming the file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { readTorchLegacy } from '../../../lib/formats/pytorch/legacy.ts';
import { FileStorage } from '../../../storage/file.ts';
import { expectTensorsExact, FIXTURES_DIR, readExpected } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const dir = `${FIXTURES_DIR}pytorch/legacy/`;
const expected = readExpected('pytorch/legacy/expected.json');

/** A copy of a fixture with `edit` applied, opened from memory. */
async function openEdited(file: string, edit: (bytes: Uint8Array) => Uint8Array) {
  const bytes = edit(new Uint8Array(readFileSync(`${dir}${file}`)));
  const name = file.replace('/', '-');
  return openCheckpoint(name, new MemoryObjectOpener({ [name]: bytes }));
}

describe('legacy torch.save reader', () => {
  for (const file of Object.keys(expected)) {
    it(`decodes ${file} bit for bit`, async () => {
      const ckpt = await openCheckpoint(`${dir}${file}`, new FileStorage());
      expect(ckpt.format).toBe('pytorch');
      await expectTensorsExact(ckpt, expected[file]!);
    });
  }

  it('keeps the pickle order of the state dict (the model registration order)', async () => {
    const ckpt = await openCheckpoint(`${dir}state_dict.pt`, new FileStorage());
    expect(ckpt.tensors.map((t) => t.name)).toEqual(Object.keys(expected['state_dict.pt']!));
  });

  it('reads only the tensor bytes for a contiguous tensor', async () => {
    const storage = new FileStorage();
    const ckpt = await openCheckpoint(`${dir}state_dict.pt`, storage);
    const info = ckpt.tensors.find((t) => t.name === '3.weight')!;
    const before = storage.stats.bytesRead;
    await ckpt.readTensor(info);
    expect(storage.stats.bytesRead - before).toBe(5 * 16 * 4);
  });

  it('reads pickles longer than its first read by growing the prefix', async () => {
    const storage = new FileStorage();
    const reader = await storage.open(`${dir}state_dict.pt`);
    const tensors = await readTorchLegacy(reader, new Map(), { maxPickleBytes: 1 << 20, firstReadBytes: 16 });
    expect(tensors.map((t) => t.name)).toEqual(Object.keys(expected['state_dict.pt']!));
    await expect(
      readTorchLegacy(reader, new Map(), { maxPickleBytes: 64, firstReadBytes: 16 }),
    ).rejects.toThrow(/pickles exceed 64 bytes/);
  });

  it('refuses a truncated file, naming it', async () => {
    const err = await openEdited('state_dict.pt', (b) => b.subarray(0, b.length - 10)).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(/past the end of the \d+-byte file/);
    expect((err as BadInputError).context.file).toBe('state_dict.pt');
  });

  it("refuses a storage record whose element count disagrees with the pickle's", async () => {
    const err = await openEdited('training_checkpoint.pth', (b) => {
      const copy = b.slice();
      // The last storage record's count sits 8 bytes before its data, which ends the file: the
      // optimizer's 7-element exp_avg or a model tensor, whichever key sorts last.
      const view = new DataView(copy.buffer);
      for (let at = copy.length - 8; at >= 0; at--) {
        const count = Number(view.getBigInt64(at, true));
        if (count > 0 && at + 8 + count * 4 === copy.length) {
          view.setBigInt64(at, BigInt(count + 1), true);
          return copy;
        }
      }
      throw new Error('no trailing float32 record found');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(/record holds \d+ elements, the pickle says \d+/);
  });

  it('refuses a wrong magic number', async () => {
    const err = await openEdited('state_dict.pt', (b) => {
      const copy = b.slice();
      copy[5] ^= 0xff;
      return copy;
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(/wrong magic number/);
  });
});
