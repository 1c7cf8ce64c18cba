import { describe, expect, it } from 'vitest';
import { WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { MemoryObjectOpener } from '../../../lib/formats/memory.ts';
import { buildFlatBuffer, type FbTable } from './tflite-builder.ts';

// TensorType codes and BuiltinOperator codes from tensorflow/lite/schema/schema.fbs.
const FLOAT32 = 0;
const FLOAT16 = 1;
const INT8 = 9;
const CONV_2D = 3;
const DEPTHWISE_CONV_2D = 4;
const DEQUANTIZE = 6;
const FULLY_CONNECTED = 9;

const halfBits = (x: number): number => {
  // Exact for the values used below (small integers over powers of two).
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = (bits >>> 13) & 0x3ff;
  return x === 0 ? sign : sign | (exp << 10) | mant;
};

const bytesOf = (a: Float32Array | Int32Array | Int8Array | Uint16Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

// Conv kernel OHWI [4, 3, 3, 2] in float16 → DEQUANTIZE → CONV_2D; depthwise [1, 3, 3, 4] float32;
// FC weight [3, 8] int8 with per-channel scales along dimension 0; its bias in a buffer stored
// after the FlatBuffer (offset/size fields).
const convValues = Float32Array.from({ length: 72 }, (_, i) => (i - 36) / 16);
const dwValues = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i));
const fcQ = Int8Array.from({ length: 24 }, (_, i) => ((i * 37) % 255) - 127);
const fcScales = [0.5, 0.25, 0.125];
const fcZeroPoints = [0, 3, -2];
const fcBias = Float32Array.from([1.5, -2.5, 3.25]);

function tensor(
  name: string,
  shape: number[],
  type: number,
  buffer: number,
  quantization?: FbTable,
): FbTable {
  return [
    { t: 'i32s', v: shape },
    { t: 'i8', v: type },
    { t: 'u32', v: buffer },
    { t: 'string', v: name },
    quantization ? { t: 'table', v: quantization } : undefined,
  ];
}

function buildModel(externalOffset: number, externalSize = fcBias.byteLength): Uint8Array {
  const buffers: FbTable[] = [
    [],
    [{ t: 'bytes', v: bytesOf(Uint16Array.from(convValues, halfBits)) }],
    [{ t: 'bytes', v: bytesOf(dwValues) }],
    [{ t: 'bytes', v: bytesOf(fcQ) }],
    [undefined, { t: 'u64', v: externalOffset }, { t: 'u64', v: externalSize }],
  ];
  const tensors: FbTable[] = [
    tensor('input', [1, 8, 8, 2], FLOAT32, 0),
    tensor('conv/kernel_fp16', [4, 3, 3, 2], FLOAT16, 1),
    tensor('conv/kernel', [4, 3, 3, 2], FLOAT32, 0),
    tensor('conv/out', [1, 8, 8, 4], FLOAT32, 0),
    tensor('dw/kernel', [1, 3, 3, 4], FLOAT32, 2),
    tensor('dw/out', [1, 8, 8, 4], FLOAT32, 0),
    tensor('fc/weights', [3, 8], INT8, 3, [
      undefined,
      undefined,
      { t: 'f32s', v: fcScales },
      { t: 'i64s', v: fcZeroPoints },
      undefined,
      undefined,
      { t: 'i32', v: 0 },
    ]),
    tensor('fc/bias', [3], FLOAT32, 4),
    tensor('fc/out', [1, 3], FLOAT32, 0),
    tensor('flat', [1, 8], FLOAT32, 0),
  ];
  const op = (opcode: number, inputs: number[], outputs: number[]): FbTable => [
    { t: 'u32', v: opcode },
    { t: 'i32s', v: inputs },
    { t: 'i32s', v: outputs },
  ];
  const subgraph: FbTable = [
    { t: 'tables', v: tensors },
    { t: 'i32s', v: [0] },
    { t: 'i32s', v: [8] },
    {
      t: 'tables',
      v: [op(1, [1], [2]), op(0, [0, 2, -1], [3]), op(2, [3, 4, -1], [5]), op(3, [9, 6, 7], [8])],
    },
    { t: 'string', v: 'main' },
  ];
  const opcodes: FbTable[] = [CONV_2D, DEQUANTIZE, DEPTHWISE_CONV_2D, FULLY_CONNECTED].map((code) => [
    { t: 'i8', v: code },
    undefined,
    { t: 'i32', v: 1 },
    { t: 'i32', v: code },
  ]);
  const model: FbTable = [
    { t: 'u32', v: 3 },
    { t: 'tables', v: opcodes },
    { t: 'tables', v: [subgraph] },
    { t: 'string', v: 'test model' },
    { t: 'tables', v: buffers },
  ];
  return buildFlatBuffer(model, 'TFL3', () => bytesOf(fcBias));
}

/** The FlatBuffer's length is independent of the external offset's value: build twice. */
function modelBytes(): Uint8Array {
  const first = buildModel(0);
  return buildModel(first.length - fcBias.byteLength);
}

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
