/**
 * The hand-built TFLite model of tflite.test.ts (also written to test/fixtures/formats/tflite/ for
 * the fuzz test by test/fixtures/gen/formats_builders.ts).
 */
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
export const convValues = Float32Array.from({ length: 72 }, (_, i) => (i - 36) / 16);
export const dwValues = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i));
export const fcQ = Int8Array.from({ length: 24 }, (_, i) => ((i * 37) % 255) - 127);
export const fcScales = [0.5, 0.25, 0.125];
export const fcZeroPoints = [0, 3, -2];
export const fcBias = Float32Array.from([1.5, -2.5, 3.25]);

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

export function buildModel(externalOffset: number, externalSize = fcBias.byteLength): Uint8Array {
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
export function modelBytes(): Uint8Array {
  const first = buildModel(0);
  return buildModel(first.length - fcBias.byteLength);
}
