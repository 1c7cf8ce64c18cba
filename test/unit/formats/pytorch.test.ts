import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { unpickle } from '../../../lib/formats/pytorch/unpickle.ts';
import { FileStorage } from '../../../storage/file.ts';
import { expectTensorsExact, FIXTURES_DIR, readExpected } from './fixture-helpers.ts';
import { tensorPickle } from './hostile/torch-gen.ts';
import { MemoryObjectOpener } from './memory-opener.ts';
import { buildZip } from './zip-builder.ts';

const dir = `${FIXTURES_DIR}pytorch/`;
const expected = readExpected('pytorch/expected.json');

describe('pytorch reader over torch.save fixtures', () => {
  for (const file of Object.keys(expected)) {
    it(`decodes ${file} bit for bit`, async () => {
      const storage = new FileStorage();
      const ckpt = await openCheckpoint(`${dir}${file}`, storage);
      expect(ckpt.format).toBe('pytorch');
      await expectTensorsExact(ckpt, expected[file]!);
    });
  }

  it('reads only the tensor bytes for a contiguous tensor', async () => {
    const storage = new FileStorage();
    const ckpt = await openCheckpoint(`${dir}state_dict.pt`, storage);
    const info = ckpt.tensors.find((t) => t.name === '3.weight')!;
    const before = storage.stats.bytesRead;
    await ckpt.readTensor(info);
    expect(storage.stats.bytesRead - before).toBe(5 * 16 * 4);
  });

  it('reads legacy (non-zip) files (pytorch-legacy.test.ts has their fixtures)', async () => {
    const ckpt = await openCheckpoint(`${dir}legacy.pt`, new FileStorage());
    expect(ckpt.tensors.map((t) => [t.name, t.shape])).toEqual([['w', [2, 2]]]);
    expect([...(await ckpt.readTensor(ckpt.tensors[0]!))]).toEqual([1, 1, 1, 1]);
  });

  it.each([
    ['evil_os_system.pt', /posix\.system|os\.system/],
    ['evil_builtins_eval.pt', /builtins\.eval/],
    ['evil_nested.pt', /posix\.system|os\.system/],
  ])('rejects %s naming the global, and runs nothing', async (file, pattern) => {
    const err = await openCheckpoint(`${dir}${file}`, new FileStorage()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(pattern);
    expect(existsSync('/tmp/weightlens-pwned')).toBe(false);
  });
});

describe('restricted unpickler', () => {
  const context = { file: 'test.pkl' };
  it('rejects a global before a REDUCE could run it', () => {
    // GLOBAL 'os system' then garbage: the error must come from GLOBAL, not from the truncation.
    const pickle = new Uint8Array(Buffer.from('\x80\x02cos\nsystem\n\xff', 'latin1'));
    expect(() => unpickle(pickle, context)).toThrow(/os\.system/);
  });

  it('rejects STACK_GLOBAL targets the same way', () => {
    const enc = (s: string) => [0x8c, s.length, ...new TextEncoder().encode(s)];
    const pickle = new Uint8Array([0x80, 4, ...enc('builtins'), ...enc('exec'), 0x93, 0x2e]);
    expect(() => unpickle(pickle, context)).toThrow(/builtins\.exec/);
  });

  it('rejects truncated and malformed pickles with BadInputError', () => {
    for (const bytes of [
      [],
      [0x80],
      [0x58, 0xff, 0xff, 0xff, 0x7f],
      [0x68, 9, 0x2e],
      [0x2e],
      [0x74, 0x2e],
      [0xff],
    ]) {
      expect(() => unpickle(new Uint8Array(bytes), context)).toThrow(BadInputError);
    }
  });
});

function torchZip(pickle: Uint8Array, storageBytes: number): MemoryObjectOpener {
  const zip = buildZip([
    { name: 'a/data.pkl', data: pickle },
    { name: 'a/data/0', data: new Uint8Array(storageBytes) },
  ]);
  return new MemoryObjectOpener({ 'm.pt': zip });
}

describe('pytorch reader over hostile archives', () => {
  it('accepts the hand-written pickle when it is consistent', async () => {
    const ckpt = await openCheckpoint('m.pt', torchZip(tensorPickle(9, [3, 3], [3, 1]), 36));
    expect(ckpt.tensors.map((t) => [t.name, t.shape])).toEqual([['w', [3, 3]]]);
    expect((await ckpt.readTensor(ckpt.tensors[0]!)).length).toBe(9);
  });

  it('rejects a view beyond its storage', async () => {
    await expect(openCheckpoint('m.pt', torchZip(tensorPickle(9, [3, 4], [4, 1]), 36))).rejects.toThrow(
      /reaches element/,
    );
  });

  it('rejects a storage larger than its entry', async () => {
    await expect(openCheckpoint('m.pt', torchZip(tensorPickle(9, [3, 3], [3, 1]), 20))).rejects.toThrow(
      /holds 20 bytes/,
    );
  });

  it('rejects a huge declared shape without allocating it', async () => {
    const pickle = tensorPickle(2 ** 30, [2 ** 15, 2 ** 15], [2 ** 15, 1]);
    await expect(openCheckpoint('m.pt', torchZip(pickle, 36))).rejects.toBeInstanceOf(BadInputError);
  });
});
