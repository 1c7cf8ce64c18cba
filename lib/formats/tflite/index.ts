/**
 * TFLite reader. A model is a FlatBuffer (schema: tensorflow/lite/schema/schema.fbs): subgraphs of
 * tensors, each tensor pointing at a buffer. Constant tensors (weights) are those whose buffer holds
 * data, inline in the FlatBuffer (`Buffer.data`) or, for models over 2 GB, after it
 * (`Buffer.offset`/`size`, absolute file offsets). Kernels are OHWI (depthwise 1×H×W×C); float16
 * weights feed DEQUANTIZE ops; int8/uint8 weights carry scale/zero-point (per tensor or per channel)
 * and are dequantized on decode. Operators give layer hints (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED...), followed back through DEQUANTIZE to the stored tensor.
 */
import { BadInputError } from '../../errors.ts';
import { assertNoOverlap, ReaderCache } from '../checks.ts';
import { decodePlain, elementCount, plainByteLength } from '../dtypes.ts';
import type { FormatReader, LayerHint, ObjectOpener, OpenedCheckpoint, TensorInfo } from '../types.ts';
import { UniqueNames } from '../unique-names.ts';
import { extension } from '../uri.ts';
import { hintWeightInputs, type WeightRoles } from '../weight-hints.ts';
import { tfliteDescriptor } from './descriptor.ts';
import { FlatBufferFile, type Table } from './flatbuffer.ts';
import { TENSOR_TYPES } from './tensor-types.ts';

/** BuiltinOperator codes whose inputs are weights: input index → role. */
const WEIGHT_OPS: Record<number, { name: string; roles: WeightRoles; depthwise?: boolean }> = {
  3: { name: 'CONV_2D', roles: { 1: 'weight', 2: 'bias' } },
  4: { name: 'DEPTHWISE_CONV_2D', roles: { 1: 'weight', 2: 'bias' }, depthwise: true },
  7: { name: 'EMBEDDING_LOOKUP', roles: { 1: 'weight' } },
  9: { name: 'FULLY_CONNECTED', roles: { 1: 'weight', 2: 'bias' } },
  36: { name: 'GATHER', roles: { 0: 'weight' } },
  67: { name: 'TRANSPOSE_CONV', roles: { 1: 'weight', 3: 'bias' } },
  126: { name: 'BATCH_MATMUL', roles: { 1: 'weight' } },
  142: { name: 'CONV_3D', roles: { 1: 'weight', 2: 'bias' } },
};
const DEQUANTIZE = 6;

/** Affine dequantization of one tensor: value = scale[c] · (q − zeroPoint[c]) along `axis`. */
interface Affine {
  scales: number[];
  zeroPoints: number[];
  axis: number;
}

interface TfliteTensor {
  info: TensorInfo;
  affine?: Affine;
}

export const tfliteReader: FormatReader = {
  format: 'tflite',
  descriptor: tfliteDescriptor,
  detect(uri, head) {
    if (extension(uri) === '.tflite') return true;
    // File identifier "TFL3" at bytes 4..8.
    return head.length >= 8 && head[4] === 0x54 && head[5] === 0x46 && head[6] === 0x4c && head[7] === 0x33;
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const fb = new FlatBufferFile(await readers.get(uri));
    const model = await fb.root();
    const buffers = await model.tables(4);
    const opcodes = await readOpcodes(model);
    const subgraphs = await model.tables(2);
    const tensors: TfliteTensor[] = [];
    const hints = new Map<string, LayerHint>();
    const byBuffer = new Map<number, TensorInfo>();
    for (const [graphIndex, subgraph] of subgraphs.entries()) {
      const prefix = graphIndex === 0 ? '' : `subgraph${graphIndex}/`;
      const graphTensors = await subgraph.tables(0);
      const names: (string | undefined)[] = [];
      for (const [tensorIndex, tensor] of graphTensors.entries()) {
        const found = await readConstTensor(
          fb,
          tensor,
          buffers,
          `${prefix}${(await tensor.string(3)) ?? `tensor${tensorIndex}`}`,
        );
        names.push(found?.info.name);
        if (!found) continue;
        tensors.push(found);
        byBuffer.set(found.info.byteOffset, found.info);
      }
      await addHints(subgraph, opcodes, names, hints);
    }
    // One range per distinct buffer (tensors may share a buffer); distinct buffers may not overlap.
    assertNoOverlap([...byBuffer.values()], uri);
    const unique = new UniqueNames();
    for (const t of tensors) t.info.name = unique.claim(t.info.name);
    const byName = new Map(tensors.map((t) => [t.info.name, t]));
    return {
      format: 'tflite',
      uri,
      tensors: tensors.map((t) => t.info),
      layerHints: hints,
      async readTensor(info) {
        const tensor = byName.get(info.name);
        if (!tensor)
          throw new BadInputError('no such tensor in this checkpoint', { file: uri, tensor: info.name });
        const context = { file: uri, tensor: info.name };
        const bytes = await (await readers.get(uri)).read(tensor.info.byteOffset, tensor.info.byteLength);
        const values = decodePlain(
          tensor.info.dtype,
          bytes,
          elementCount(tensor.info.shape, context),
          context,
        );
        return tensor.affine ? dequantize(values, tensor.info.shape, tensor.affine) : values;
      },
    };
  },
};

async function readOpcodes(model: Table): Promise<number[]> {
  const codes: number[] = [];
  for (const opcode of await model.tables(1)) {
    // builtin_code (int32) superseded deprecated_builtin_code (int8) at 127 operators; take the larger.
    codes.push(Math.max(await opcode.scalar(0, 'i8', 0), await opcode.scalar(3, 'i32', 0)));
  }
  return codes;
}

/** The tensor as a TensorInfo when its buffer holds data (a constant); undefined otherwise. */
async function readConstTensor(
  fb: FlatBufferFile,
  tensor: Table,
  buffers: Table[],
  name: string,
): Promise<TfliteTensor | undefined> {
  const context = { file: fb.reader.uri, tensor: name };
  const bufferIndex = await tensor.scalar(2, 'u32', 0);
  if (bufferIndex === 0) return undefined; // buffer 0 is the empty sentinel: an activation
  const buffer = buffers[bufferIndex];
  if (!buffer)
    throw new BadInputError(`buffer index ${bufferIndex} beyond the ${buffers.length} buffers`, context);
  const range = await bufferRange(fb, buffer, context);
  if (!range || range.length === 0) return undefined;
  const typeCode = await tensor.scalar(1, 'i8', 0);
  if (typeCode < 0 || typeCode >= TENSOR_TYPES.length)
    throw new BadInputError(`unknown TFLite tensor type ${typeCode}`, context);
  const dtype = TENSOR_TYPES[typeCode];
  if (!dtype) return undefined;
  // Sparse tensors store a compressed layout; their dense shape does not describe the bytes.
  if (tensor.fieldPosition(6) !== undefined) return undefined;
  const shape = await tensor.int32s(0);
  const expected = plainByteLength(dtype, shape, context);
  if (expected !== range.length) {
    throw new BadInputError(
      `buffer holds ${range.length} bytes but shape [${shape.join(', ')}] × ${dtype} is ${expected}`,
      context,
    );
  }
  const info: TensorInfo = {
    name,
    dtype,
    shape,
    uri: fb.reader.uri,
    byteOffset: range.offset,
    byteLength: range.length,
  };
  if (shape.length === 4) info.layout = 'OHWI';
  if (dtype === 'F16') info.quantization = { scheme: 'float16' };
  const affine = await readAffine(tensor, shape, context);
  if (affine) {
    const perChannel = affine.scales.length > 1;
    info.quantization = {
      scheme: `${dtype.toLowerCase()}-affine${perChannel ? '-per-channel' : ''}`,
      scale: affine.scales[0]!,
    };
  }
  return { info, ...(affine ? { affine } : {}) };
}

async function bufferRange(
  fb: FlatBufferFile,
  buffer: Table,
  context: { file: string; tensor: string },
): Promise<{ offset: number; length: number } | undefined> {
  const data = await buffer.vector(0, 1);
  if (data && data.length > 0) return { offset: data.start, length: data.length };
  const offset = await buffer.scalar(1, 'u64', 0);
  const size = await buffer.scalar(2, 'u64', 0);
  // Offsets of 0/1 mean "no external data" in the schema.
  if (offset <= 1) return undefined;
  if (offset + size > fb.size) {
    throw new BadInputError(
      `buffer [${offset}, ${offset + size}) lies outside the file (${fb.size} bytes)`,
      context,
    );
  }
  return { offset, length: size };
}

/** QuantizationParameters: 2 scale, 3 zero_point, 6 quantized_dimension. */
async function readAffine(
  tensor: Table,
  shape: number[],
  context: { file: string; tensor: string },
): Promise<Affine | undefined> {
  const quantization = await tensor.table(4);
  if (!quantization) return undefined;
  const scales = await quantization.float32s(2);
  if (scales.length === 0) return undefined;
  const zeroPoints = await quantization.int64s(3);
  const axis = await quantization.scalar(6, 'i32', 0);
  const channels = scales.length === 1 ? 1 : shape[axis];
  if (channels !== scales.length || (zeroPoints.length !== 0 && zeroPoints.length !== scales.length)) {
    throw new BadInputError(
      `${scales.length} quantization scales do not match dimension ${axis} of [${shape.join(', ')}]`,
      context,
    );
  }
  if (!scales.every(Number.isFinite)) throw new BadInputError('non-finite quantization scale', context);
  return { scales, zeroPoints: zeroPoints.length ? zeroPoints : scales.map(() => 0), axis };
}

function dequantize(values: Float32Array | Float64Array, shape: number[], affine: Affine): Float32Array {
  const out = new Float32Array(values.length);
  // Elements between consecutive steps of the quantized axis (row-major).
  const inner = shape.slice(affine.axis + 1).reduce((a, b) => a * b, 1);
  const channels = affine.scales.length;
  for (let i = 0; i < values.length; i++) {
    const c = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = affine.scales[c]! * (values[i]! - affine.zeroPoints[c]!);
  }
  return out;
}

/** Hints from the subgraph's operators; DEQUANTIZE outputs are traced back to their stored input. */
async function addHints(
  subgraph: Table,
  opcodes: number[],
  names: (string | undefined)[],
  hints: Map<string, LayerHint>,
): Promise<void> {
  const operators = await subgraph.tables(3);
  const dequantizedFrom = new Map<number, number>();
  const parsed: { code: number; inputs: number[] }[] = [];
  for (const op of operators) {
    const code = opcodes[await op.scalar(0, 'u32', 0)] ?? -1;
    const inputs = await op.int32s(1);
    if (code === DEQUANTIZE) {
      const [output] = await op.int32s(2);
      if (output !== undefined && inputs[0] !== undefined) dequantizedFrom.set(output, inputs[0]);
    }
    parsed.push({ code, inputs });
  }
  for (const { code, inputs } of parsed) {
    const op = WEIGHT_OPS[code];
    if (!op) continue;
    hintWeightInputs(hints, op, (index) => {
      const tensorIndex = inputs[index];
      if (tensorIndex === undefined || tensorIndex < 0) return undefined;
      return names[dequantizedFrom.get(tensorIndex) ?? tensorIndex];
    });
  }
}
