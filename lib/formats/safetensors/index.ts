/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
 * Sharded checkpoints add `model.safetensors.index.json` ({"weight_map": {tensor: shard}}); their
 * tensors are listed in model order (model-order.ts), a single file's in its stored order.
 * Only the header is read at open; each tensor is one ranged read.
 */
import { BadInputError, UnsupportedError } from '../../errors.ts';
import { assertNoOverlap, decodeUtf8, isRecord, parseJson, ReaderCache, readPlainTensor } from '../checks.ts';
import { isPlainDType, plainByteLength } from '../dtypes.ts';
import { leadingSlice } from '../experts.ts';
import { rowRange } from '../row-blocks.ts';
import type { FormatReader, ObjectOpener, OpenedCheckpoint, RangeReader, TensorInfo } from '../types.ts';
import { basename } from '../uri.ts';
import { safetensorsDescriptor } from './descriptor.ts';
import { readShardedTensors } from './sharded.ts';

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

/** Parse the header of one safetensors file and validate every entry against the file size. */
export async function readSafetensorsHeader(reader: RangeReader): Promise<SafetensorsHeader> {
  const file = reader.uri;
  if (reader.size < 8) throw new BadInputError('truncated: shorter than the 8-byte header length', { file });
  const lengthBytes = await reader.read(0, 8);
  const headerLength = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw new BadInputError(
      `header length ${headerLength} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`,
      {
        file,
      },
    );
  }
  if (headerLength + 8n > BigInt(reader.size)) {
    throw new BadInputError(
      `header length ${headerLength} runs past the end of the file (${reader.size} bytes)`,
      {
        file,
      },
    );
  }
  const dataStart = 8 + Number(headerLength);
  const dataLength = reader.size - dataStart;
  const headerText = decodeUtf8(await reader.read(8, Number(headerLength)), { file });
  const header = parseJson(headerText, { file }, 'header JSON');
  if (!isRecord(header)) throw new BadInputError('header JSON is not an object', { file });
  // JSON.parse keeps the last of two equal keys; the reference library refuses such a header.
  const repeated = repeatedTopLevelKey(headerText);
  if (repeated !== undefined) {
    throw new BadInputError('header names this tensor twice', { file, tensor: repeated });
  }

  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(header)) {
    const context = { file, tensor: name };
    if (name === '__metadata__') {
      if (!isRecord(entry)) throw new BadInputError('__metadata__ is not an object', { file });
      for (const [k, v] of Object.entries(entry)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
      continue;
    }
    if (!isRecord(entry)) throw new BadInputError('header entry is not an object', context);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') throw new BadInputError('missing dtype', context);
    if (!isPlainDType(dtype)) throw new UnsupportedError(`unknown dtype "${dtype}"`, context);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new BadInputError('shape is not a list of non-negative integers', context);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new BadInputError('data_offsets is not an ordered pair of non-negative integers', context);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      throw new BadInputError(
        `data_offsets [${begin}, ${end}] lie outside the data (${dataLength} bytes)`,
        context,
      );
    }
    const expected = plainByteLength(dtype, shape as number[], context);
    if (expected !== end - begin) {
      throw new BadInputError(
        `shape [${shape.join(', ')}] × ${dtype} is ${expected} bytes but data_offsets span ${end - begin}`,
        context,
      );
    }
    tensors.push({
      name,
      dtype,
      shape: shape as number[],
      uri: file,
      byteOffset: dataStart + begin,
      byteLength: end - begin,
    });
  }
  assertNoOverlap(tensors, file);
  tensors.sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  assertContiguous(tensors, dataStart, dataLength, file);
  // Writers that store kernels in another layout than torch's say so (e.g. the zoo's TF.js-trained
  // checkpoints: "kernel_layout": "HWIO"); layers.ts then canonicalizes from it.
  const layout = metadata.kernel_layout;
  if (layout === 'OIHW' || layout === 'HWIO' || layout === 'OHWI') {
    for (const t of tensors) if (t.shape.length === 3 || t.shape.length === 4) t.layout = layout;
  }
  return { tensors, metadata };
}

/**
 * The reference library's layout rule: sorted by offset, each tensor starts where the previous one
 * ends, the first at 0 and the last at the end of the file (no gaps, nothing unaccounted for).
 */
function assertContiguous(
  sorted: readonly TensorInfo[],
  dataStart: number,
  dataLength: number,
  file: string,
) {
  let end = dataStart;
  for (const t of sorted) {
    if (t.byteOffset !== end) {
      throw new BadInputError(
        `data_offsets start at ${t.byteOffset - dataStart} where the previous tensor ends at ${end - dataStart}: gaps are not allowed`,
        { file, tensor: t.name },
      );
    }
    end = t.byteOffset + t.byteLength;
  }
  if (end !== dataStart + dataLength) {
    throw new BadInputError(
      `tensors cover ${end - dataStart} of the ${dataLength} data bytes: the file is not fully covered`,
      { file },
    );
  }
}

/**
 * The first key of the header's top-level object that occurs twice, if any (one linear scan of
 * the JSON text, already known to parse).
 */
export function repeatedTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

function isIndexName(uri: string): boolean {
  return basename(uri).toLowerCase().endsWith('.safetensors.index.json');
}

export const safetensorsReader: FormatReader = {
  format: 'safetensors',
  descriptor: safetensorsDescriptor,
  detect(uri, head) {
    if (isIndexName(uri)) return true;
    if (basename(uri).toLowerCase().endsWith('.safetensors')) return true;
    // Header length (u64 LE) followed by '{': how an extension-less safetensors file starts.
    return head.length >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0;
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const tensors = isIndexName(uri)
      ? await readShardedTensors(
          uri,
          readers,
          async (shard) => (await readSafetensorsHeader(shard)).tensors,
          'names',
        )
      : (await readSafetensorsHeader(await readers.get(uri))).tensors;
    return {
      format: 'safetensors',
      uri,
      tensors,
      readTensor: (info) => readPlainTensor(info, readers),
      readLeadingSlice: (info, index) => readPlainTensor(leadingSlice(info, index), readers),
      rowReader: (info) => (start, count) => readPlainTensor(rowRange(info, start, count), readers),
    };
  },
};
