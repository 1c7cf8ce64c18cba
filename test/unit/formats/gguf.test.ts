import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError, UnsupportedError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { FileStorage } from '../../../storage/file.ts';
import { FIXTURES_DIR, readExpected } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const dir = `${FIXTURES_DIR}gguf/`;
const expected = readExpected('gguf/expected.json') as unknown as Record<
  string,
  { dtype: string; shape: number[]; values: number[]; original?: number[] }
>;

/** Largest |a - b| relative to max(|b|, 1e-3): float32 order-of-operations differences only. */
function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-3));
  return worst;
}

describe('gguf reader over gguf-py fixtures', () => {
  for (const file of ['model.gguf', 'model-v2.gguf']) {
    it(`lists and dequantizes every tensor of ${file} as gguf-py does`, async () => {
      const ckpt = await openCheckpoint(`${dir}${file}`, new FileStorage());
      expect(ckpt.format).toBe('gguf');
      expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(Object.keys(expected).sort());
      for (const info of ckpt.tensors) {
        const want = expected[info.name]!;
        expect([info.name, info.dtype, info.shape]).toEqual([info.name, want.dtype, want.shape]);
        const data = await ckpt.readTensor(info);
        expect(data.length).toBe(want.values.length);
        expect(maxRelativeError(data, want.values), info.name).toBeLessThan(1e-6);
        if (want.original) {
          // Within quantization error of the weights gguf-py quantized (4-bit: a few % of the range).
          const range = Math.max(...want.original.map(Math.abs));
          const worst = Math.max(...want.original.map((v, i) => Math.abs(v - data[i]!)));
          expect(worst, info.name).toBeLessThan(
            range * (info.dtype === 'Q8_0' || info.dtype === 'BF16' ? 0.01 : 0.15),
          );
        }
      }
    });
  }

  it('marks quantized tensors and maps GGUF names to layers', async () => {
    const ckpt = await openCheckpoint(`${dir}model.gguf`, new FileStorage());
    const q4k = ckpt.tensors.find((t) => t.dtype === 'Q4_K')!;
    expect(q4k.quantization).toEqual({ scheme: 'q4_k' });
    const mapped = new Map(mapTensors(ckpt).map((m) => [m.tensor.name, m]));
    expect(mapped.get('token_embd.weight')!.layerType).toBe('embedding');
    expect(mapped.get('blk.0.attn_q.weight')!.layerType).toBe('dense');
    expect(mapped.get('blk.0.attn_norm.weight')!.analyzed).toBe(false);
  });

  it('rejects unsupported versions, types and hostile counts with typed errors', async () => {
    const original = new Uint8Array(readFileSync(`${dir}model.gguf`));
    const patch = (at: number, value: bigint, width: 4 | 8) => {
      const copy = original.slice();
      const view = new DataView(copy.buffer);
      if (width === 4) view.setUint32(at, Number(value), true);
      else view.setBigUint64(at, value, true);
      return new MemoryObjectOpener({ 'm.gguf': copy });
    };
    await expect(openCheckpoint('m.gguf', patch(4, 1n, 4))).rejects.toBeInstanceOf(UnsupportedError);
    await expect(openCheckpoint('m.gguf', patch(8, 2n ** 40n, 8))).rejects.toBeInstanceOf(BadInputError);
    await expect(openCheckpoint('m.gguf', patch(16, 2n ** 62n, 8))).rejects.toBeInstanceOf(BadInputError);
    const truncated = new MemoryObjectOpener({ 'm.gguf': original.subarray(0, 200) });
    await expect(openCheckpoint('m.gguf', truncated)).rejects.toBeInstanceOf(BadInputError);
    const shortData = new MemoryObjectOpener({ 'm.gguf': original.subarray(0, original.byteLength - 100) });
    await expect(openCheckpoint('m.gguf', shortData)).rejects.toThrow(/outside the data section/);
  });
});
