/**
 * Issue 18, complexity bombs: small files that used to make a reader's work quadratic, cubic or
 * exponential in their size (or overflow the call stack) now open in time linear in their size,
 * with a correct result or one BadInputError naming the file. The time limit is a hang guard, far
 * above the linear cost (the old code took minutes to hours on each).
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { unpickle } from '../../../../lib/formats/pytorch/unpickle.ts';
import {
  type CheckpointFiles,
  onnxUnnamedInitializers,
  pickleAppends,
  pickleLong4,
  pickleMemoLaughs,
  tfjsDeepWeightName,
  tfliteSharedName,
  torchArchive,
} from '../../../fixtures/hostile/complexity-gen.ts';
import { MemoryObjectOpener } from '../memory-opener.ts';

const HANG_GUARD_MS = 30_000;

function open(files: CheckpointFiles, name: string) {
  const prefixed = Object.fromEntries(Object.entries(files).map(([k, v]) => [`bomb/${k}`, v]));
  return openCheckpoint(`bomb/${name}`, new MemoryObjectOpener(prefixed));
}

async function openError(files: CheckpointFiles, name: string): Promise<BadInputError> {
  const err = await open(files, name).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BadInputError);
  expect((err as BadInputError).context.file).toBe(`bomb/${name}`);
  return err as BadInputError;
}

describe('complexity bombs open in linear time', () => {
  it(
    '30 000 unnamed ONNX initializers get unique names unnamed, unnamed#1, …',
    async () => {
      const files = onnxUnnamedInitializers(30_000);
      expect(files['model.onnx']!.byteLength).toBeLessThan(2 << 20);
      const ckpt = await open(files, 'model.onnx');
      const names = ckpt.tensors.map((t) => t.name);
      expect(names.length).toBe(30_000);
      expect(new Set(names).size).toBe(30_000);
      expect(names.slice(0, 3)).toEqual(['unnamed', 'unnamed#1', 'unnamed#2']);
      expect(names.at(-1)).toBe('unnamed#29999');
    },
    HANG_GUARD_MS,
  );

  it(
    '60 000 TFLite tensors sharing one name are renamed w, w#1, …',
    async () => {
      const ckpt = await open(tfliteSharedName(60_000), 'model.tflite');
      const names = ckpt.tensors.map((t) => t.name);
      expect(names.length).toBe(60_000);
      expect(new Set(names).size).toBe(60_000);
      expect(names.at(-1)).toBe('w#59999');
      expect(Array.from(await ckpt.readTensor(ckpt.tensors.at(-1)!))).toEqual([1]);
    },
    HANG_GUARD_MS,
  );

  it(
    'a tfjs weight name of 5 000 segments is matched against the layer names',
    async () => {
      const ckpt = await open(tfjsDeepWeightName(5_000), 'model.json');
      expect(ckpt.tensors.length).toBe(1);
      expect(ckpt.layerHints?.size ?? 0).toBe(0);
    },
    HANG_GUARD_MS,
  );

  it(
    'a 1 MB pickle LONG4 is refused (integers are capped), a short one still decodes',
    async () => {
      const err = await openError(torchArchive(pickleLong4(1 << 20)), 'model.pt');
      expect(err.message).toMatch(/1048576-byte integer is longer than any a weights pickle holds/);
      expect(unpickle(pickleLong4(8), {})).toBe(0x5a5a5a5a5a5a5a5an);
      expect(unpickle(new Uint8Array([0x80, 2, 0x8a, 2, 0xff, 0x7f, 0x2e]), {})).toBe(0x7fff);
      expect(unpickle(new Uint8Array([0x80, 2, 0x8a, 1, 0xfe, 0x2e]), {})).toBe(-2);
    },
    HANG_GUARD_MS,
  );

  it(
    'a memo "billion laughs" pickle (under 1 KB, 10^30 nodes expanded) is refused',
    async () => {
      const pickle = pickleMemoLaughs(30, 10);
      expect(pickle.byteLength).toBeLessThan(1024);
      const err = await openError(torchArchive(pickle), 'model.pt');
      expect(err.message).toMatch(/shared objects beyond what its \d+ bytes can hold/);
    },
    HANG_GUARD_MS,
  );

  it(
    'a tuple dict key shared through the memo is refused instead of rendered exponentially',
    () => {
      // T0 = (), T(k) = (T(k-1), T(k-1)) for k ≤ 14 (nesting stays under the key's depth limit): a
      // 2^15-node key; then {T14: None}.
      const out = [0x80, 2, 0x7d, 0x29, 0x71, 0];
      for (let k = 1; k <= 14; k++) out.push(0x30, 0x68, k - 1, 0x68, k - 1, 0x86, 0x71, k);
      out.push(0x4e, 0x73, 0x2e);
      expect(() => unpickle(new Uint8Array(out), { file: 'k.pt' })).toThrow(/dict key renders to more than/);
    },
    HANG_GUARD_MS,
  );

  it(
    'one APPENDS of 500 000 items does not overflow the stack',
    async () => {
      const value = unpickle(pickleAppends(500_000), {}) as Map<string, unknown[]>;
      expect(value.get('a')!.length).toBe(500_000);
      // No tensors in it: the archive opens to an empty checkpoint or one error naming the file.
      const opened = await open(torchArchive(pickleAppends(500_000)), 'model.pt').catch((e: unknown) => e);
      if (opened instanceof Error) expect((opened as BadInputError).context.file).toBe('bomb/model.pt');
      else expect((opened as { tensors: unknown[] }).tensors).toEqual([]);
    },
    HANG_GUARD_MS,
  );
});
