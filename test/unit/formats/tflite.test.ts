import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';
import {
  buildModel,
  convValues,
  dwValues,
  fcBias,
  fcQ,
  fcScales,
  fcZeroPoints,
  modelBytes,
} from './tflite-fixture.ts';

describe('TFLite reader', () => {
  it('lists constant tensors, decodes float16, float32, per-channel int8 and external buffers', async () => {
    const opener = new MemoryObjectOpener({ 'mem://t/model.tflite': modelBytes() });
    const ckpt = await openCheckpoint('mem://t/model.tflite', opener);
    expect(ckpt.format).toBe('tflite');
    expect(ckpt.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['conv/kernel_fp16', 'F16', [4, 3, 3, 2]],
      ['dw/kernel', 'F32', [1, 3, 3, 4]],
      ['fc/weights', 'I8', [3, 8]],
      ['fc/bias', 'F32', [3]],
    ]);
    const read = async (name: string) =>
      Array.from(await ckpt.readTensor(ckpt.tensors.find((t) => t.name === name)!));
    expect(await read('conv/kernel_fp16')).toEqual(Array.from(convValues));
    expect(await read('dw/kernel')).toEqual(Array.from(dwValues));
    const expectedFc = Array.from(fcQ, (q, i) => {
      const row = Math.floor(i / 8);
      return Math.fround(fcScales[row]! * (q - fcZeroPoints[row]!));
    });
    expect(await read('fc/weights')).toEqual(expectedFc);
    expect(await read('fc/bias')).toEqual(Array.from(fcBias));
    const fc = ckpt.tensors.find((t) => t.name === 'fc/weights')!;
    expect(fc.quantization).toEqual({ scheme: 'i8-affine-per-channel', scale: 0.5 });
    expect(ckpt.tensors.find((t) => t.name === 'conv/kernel_fp16')!.layout).toBe('OHWI');
  });

  it('hints ops through DEQUANTIZE and maps kernels like the layer mapper expects', async () => {
    const ckpt = await openCheckpoint(
      'mem://t/m.tflite',
      new MemoryObjectOpener({ 'mem://t/m.tflite': modelBytes() }),
    );
    expect(ckpt.layerHints?.get('conv/kernel_fp16')).toEqual({ op: 'CONV_2D', role: 'weight' });
    expect(ckpt.layerHints?.get('dw/kernel')).toEqual({
      op: 'DEPTHWISE_CONV_2D',
      role: 'weight',
      depthwise: true,
    });
    expect(ckpt.layerHints?.get('fc/weights')).toEqual({ op: 'FULLY_CONNECTED', role: 'weight' });
    expect(ckpt.layerHints?.get('fc/bias')).toEqual({ op: 'FULLY_CONNECTED', role: 'bias' });
    const mapped = new Map(mapTensors(ckpt).map((m) => [m.tensor.name, m]));
    expect(mapped.get('conv/kernel_fp16')).toMatchObject({ analyzed: true, layerType: 'conv2d' });
    expect(mapped.get('fc/weights')).toMatchObject({ analyzed: true, layerType: 'dense' });
    expect(mapped.get('dw/kernel')!.analyzed).toBe(false);
  });

  it('the committed fixture is what test/fixtures/gen/formats_builders.ts writes', () => {
    const committed = readFileSync(`${FIXTURES_DIR}tflite/model.tflite`);
    expect(Buffer.compare(committed, Buffer.from(modelBytes()))).toBe(0);
  });

  it('reads a tensor with one ranged read of its own bytes', async () => {
    const opener = new MemoryObjectOpener({ 'mem://t/m.tflite': modelBytes() });
    const ckpt = await openCheckpoint('mem://t/m.tflite', opener);
    const before = opener.bytesRead;
    await ckpt.readTensor(ckpt.tensors[1]!);
    expect(opener.bytesRead - before).toBe(ckpt.tensors[1]!.byteLength);
  });

  const good = modelBytes();
  const corrupt = (mutate: (b: Uint8Array) => void): Uint8Array => {
    const copy = good.slice();
    mutate(copy);
    return copy;
  };
  const cases: [string, Uint8Array][] = [
    ['a truncated file', good.subarray(0, 200)],
    ['a root offset past the end', corrupt((b) => new DataView(b.buffer).setUint32(0, 0x7fffffff, true))],
    ['an external buffer past the end', buildModel(good.length - 4)],
    ['an external buffer of the wrong size', buildModel(good.length - 12, 8)],
    ['a 4-byte file', new Uint8Array([8, 0, 0, 0])],
  ];
  for (const [what, bytes] of cases) {
    it(`rejects ${what} with a typed error`, async () => {
      const err = await openCheckpoint(
        'mem://bad/m.tflite',
        new MemoryObjectOpener({ 'mem://bad/m.tflite': bytes }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeightlensError);
      expect((err as WeightlensError).toLine()).toContain('mem://bad/m.tflite');
    });
  }
});
