/**
 * ONNX reader. The model is one protobuf message; it is scanned with ranged reads (payloads are
 * skipped, not read), and every value-holding TensorProto becomes a tensor: initializers,
 * `Constant` nodes and tensors inside `If`/`Loop`/`Scan` subgraphs. Values may be `raw_data`
 * (a plain byte range), a typed repeated field (decoded from the TensorProto's bytes), or an
 * external data file (`data_location = EXTERNAL`, location/offset/length resolved next to the
 * model). Node ops become layer hints (Conv with group > 1 is depthwise/grouped).
 */
import { BadInputError } from '../../errors.ts';
import { assertNoOverlap, ReaderCache, readPlainTensor } from '../checks.ts';
import { elementCount, plainByteLength } from '../dtypes.ts';
import { ProtoSource } from '../protobuf.ts';
import type { FormatReader, ObjectOpener, OpenedCheckpoint, TensorInfo } from '../types.ts';
import { UniqueNames } from '../unique-names.ts';
import { extension } from '../uri.ts';
import { onnxDescriptor } from './descriptor.ts';
import { type FoundTensor, scanOnnxModel } from './graph.ts';
import { onnxLayerHints } from './hints.ts';
import { decodeTypedTensor } from './tensor-proto.ts';

/** How a listed tensor's bytes are decoded: a plain range, or a TensorProto's typed field. */
type Storage = { kind: 'plain' } | { kind: 'typed' };

export const onnxReader: FormatReader = {
  format: 'onnx',
  descriptor: onnxDescriptor,
  detect(uri, head) {
    if (extension(uri) === '.onnx') return true;
    // ModelProto starts with ir_version (field 1, varint: 0x08, small) then producer/graph/opset.
    return (
      head.length >= 3 &&
      head[0] === 0x08 &&
      head[1]! >= 3 &&
      head[1]! <= 20 &&
      [0x12, 0x1a, 0x3a, 0x42].includes(head[2]!)
    );
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const source = new ProtoSource(await readers.get(uri));
    const scanned = await scanOnnxModel(source, uri);
    const storage = new Map<string, Storage>();
    const tensors: TensorInfo[] = [];
    const finalNames = new Map<string, string>();
    const names = new UniqueNames();
    for (const found of scanned.tensors) {
      const info = await locateTensor(found, uri, readers);
      if (!info) continue;
      info.tensor.name = names.claim(tensorBaseName(found));
      finalNames.set(`${found.scope}\u0000${found.graphName}`, info.tensor.name);
      storage.set(info.tensor.name, info.storage);
      tensors.push(info.tensor);
    }
    assertNoOverlap(tensors, uri);
    return {
      format: 'onnx',
      uri,
      tensors,
      layerHints: onnxLayerHints(scanned.nodes, finalNames),
      async readTensor(info) {
        const how = storage.get(info.name);
        if (!how)
          throw new BadInputError('no such tensor in this checkpoint', { file: uri, tensor: info.name });
        if (how.kind === 'plain') return readPlainTensor(info, readers);
        const reader = await readers.get(info.uri);
        const message = await reader.read(info.byteOffset, info.byteLength);
        return decodeTypedTensor(message, info.dtype, info.shape, { file: info.uri, tensor: info.name });
      },
    };
  },
};

/**
 * The graph's name; tensors of subgraphs are prefixed with their scope ("If_0/then_branch/w"), as
 * both branches of an If often use the same names. Remaining clashes get a "#n" suffix (UniqueNames).
 */
function tensorBaseName(found: FoundTensor): string {
  return found.scope ? `${found.scope}/${found.graphName}` : found.graphName || 'unnamed';
}

async function locateTensor(
  found: FoundTensor,
  uri: string,
  readers: ReaderCache,
): Promise<{ tensor: TensorInfo; storage: Storage } | undefined> {
  const proto = found.proto;
  const context = { file: uri, tensor: found.graphName || proto.name };
  // Strings, complex and 4-bit types carry no analyzable weights.
  if (!proto.dtype) return undefined;
  const dtype = proto.dtype;
  const shape = proto.dims;
  const expected = plainByteLength(dtype, shape, context);
  const base = { name: '', dtype, shape, ...(shape.length === 4 ? { layout: 'OIHW' as const } : {}) };
  if (proto.external) {
    const location = proto.external.get('location');
    if (!location) throw new BadInputError('external data without a location', context);
    const offset = parseExternalInt(proto.external.get('offset') ?? '0', 'offset', context);
    const length = parseExternalInt(proto.external.get('length') ?? String(expected), 'length', context);
    if (length !== expected) {
      throw new BadInputError(
        `external length ${length} ≠ ${expected} bytes of shape [${shape.join(', ')}] × ${dtype}`,
        context,
      );
    }
    const { uri: dataUri, reader: dataReader } = await readers.sibling(uri, location, context);
    if (offset + length > dataReader.size) {
      throw new BadInputError(
        `external range [${offset}, ${offset + length}) lies outside ${location} (${dataReader.size} bytes)`,
        context,
      );
    }
    return {
      tensor: { ...base, uri: dataUri, byteOffset: offset, byteLength: length },
      storage: { kind: 'plain' },
    };
  }
  if (proto.raw) {
    if (proto.raw.length !== expected) {
      throw new BadInputError(
        `raw_data is ${proto.raw.length} bytes but shape [${shape.join(', ')}] × ${dtype} is ${expected}`,
        context,
      );
    }
    return {
      tensor: { ...base, uri, byteOffset: proto.raw.offset, byteLength: proto.raw.length },
      storage: { kind: 'plain' },
    };
  }
  // Packed float/double data is already little-endian storage: a plain range.
  if (proto.typedPacked && (dtype === 'F32' || dtype === 'F64') && proto.typedPacked.length === expected) {
    return {
      tensor: { ...base, uri, byteOffset: proto.typedPacked.offset, byteLength: proto.typedPacked.length },
      storage: { kind: 'plain' },
    };
  }
  const count = elementCount(shape, context);
  if (proto.typedFieldCount === 0 && count > 0) {
    throw new BadInputError(
      `tensor of ${count} values has no data (no raw_data, typed field or external data)`,
      context,
    );
  }
  // Varint-encoded or unpacked values: the whole TensorProto is read and decoded on demand.
  return {
    tensor: { ...base, uri, byteOffset: proto.messageOffset, byteLength: proto.messageLength },
    storage: { kind: 'typed' },
  };
}

function parseExternalInt(text: string, what: string, context: { file: string; tensor: string }): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new BadInputError(`external data ${what} "${text}" is not a non-negative integer`, context);
  }
  return Number(text);
}
