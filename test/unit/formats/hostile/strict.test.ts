/**
 * Issue 18, strict parsing where the reference libraries are strict: a safetensors header naming
 * a tensor twice, leaving gaps between tensors or bytes after the last (the `safetensors` library
 * refuses each: "invalid offset", "file not fully covered"); GGUF tensors off the alignment.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { repeatedTopLevelKey } from '../../../../lib/formats/safetensors/index.ts';
import {
  ggufTwoTensors,
  safetensorsDuplicateKey,
  safetensorsGap,
  safetensorsRaw,
  safetensorsUncoveredTail,
} from '../../../fixtures/hostile/strict-gen.ts';
import { MemoryObjectOpener } from '../memory-opener.ts';

async function openError(name: string, bytes: Uint8Array): Promise<BadInputError> {
  const err = await openCheckpoint(name, new MemoryObjectOpener({ [name]: bytes })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BadInputError);
  expect((err as BadInputError).context.file).toBe(name);
  return err as BadInputError;
}

describe('safetensors headers are held to the reference library rules', () => {
  it('a tensor named twice is refused (JSON.parse would keep the second silently)', async () => {
    const err = await openError('m.safetensors', safetensorsDuplicateKey());
    expect(err.message).toMatch(/names this tensor twice/);
    expect(err.context.tensor).toBe('a');
  });

  it('a gap between tensors is refused', async () => {
    const err = await openError('m.safetensors', safetensorsGap());
    expect(err.message).toMatch(/start at 16 where the previous tensor ends at 8/);
    expect(err.context.tensor).toBe('b');
  });

  it('data after the last tensor is refused', async () => {
    const err = await openError('m.safetensors', safetensorsUncoveredTail());
    expect(err.message).toMatch(/cover 24 of the 32 data bytes/);
  });

  it('contiguous tensors in any header order, and empty tensors, still read', async () => {
    const floats = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const header =
      '{"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[6],"data_offsets":[8,32]},' +
      '"z":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const bytes = safetensorsRaw(header, new Uint8Array(floats.buffer));
    const ckpt = await openCheckpoint('m.safetensors', new MemoryObjectOpener({ 'm.safetensors': bytes }));
    const b = ckpt.tensors.find((t) => t.name === 'b')!;
    expect(Array.from(await ckpt.readTensor(b))).toEqual([2, 3, 4, 5, 6, 7]);
    expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(['a', 'b', 'z']);
  });

  it('the repeated-key scan sees only top-level keys, through strings and escapes', () => {
    expect(repeatedTopLevelKey('{"a":{"a":1,"b":[{"a":2}]},"b":"\\"a\\""}')).toBeUndefined();
    expect(repeatedTopLevelKey('{"a":1,"b":{"x":"}"},"\\u0061":2}')).toBe('a');
    expect(repeatedTopLevelKey('{"__metadata__":{},"__metadata__":{}}')).toBe('__metadata__');
  });
});

describe('GGUF tensor offsets', () => {
  it('an offset off the 32-byte alignment is refused; an aligned one reads', async () => {
    const err = await openError('m.gguf', ggufTwoTensors(36));
    expect(err.message).toMatch(/offset 36 is not a multiple of the alignment \(32\)/);
    expect(err.context.tensor).toBe('b.weight');
    const ckpt = await openCheckpoint('m.gguf', new MemoryObjectOpener({ 'm.gguf': ggufTwoTensors(32) }));
    expect(Array.from(await ckpt.readTensor(ckpt.tensors[1]!))).toEqual(new Array(8).fill(1));
  });
});
