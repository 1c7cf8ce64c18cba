/**
 * Legacy (pre-zip, torch < 1.6 or `_use_new_zipfile_serialization=False`) torch.save files: five
 * pickles back to back — the magic number, the protocol version (1001), a sys_info dict, the object
 * itself (storages as persistent ids, the same restricted unpickler as the zip format), the sorted
 * list of storage keys — then, for each key in that order, an int64 element count and the
 * storage's raw bytes. Tensors become byte ranges of the file, so each is one ranged read.
 * The pickles are read from a growing prefix of the file (they precede all data).
 */
import { BadInputError, UnsupportedError } from '../../errors.ts';
import { mapLimited } from '../concurrency.ts';
import { elementBytes } from '../dtypes.ts';
import type { RangeReader, TensorInfo } from '../types.ts';
import { collectStorages, collectTensors, type Strides, tensorInfos } from './state-dict.ts';
import { type PickleValue, TruncatedPickleError, unpickleAt, WalkBudget } from './unpickle.ts';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
/** First prefix read for the pickles; grown ×4 while they run past it. */
const FIRST_READ_BYTES = 1 << 20;
/** Parallel reads of the per-storage element counts (one 8-byte read each). */
const HEADER_READ_CONCURRENCY = 16;

/** Legacy torch files are a bare pickle (protocol 2) starting with the magic number as a LONG1. */
export function isLegacyHead(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a;
}

interface LegacyPickles {
  value: PickleValue;
  keys: string[];
  /** Offset of the first storage record. */
  dataStart: number;
}

function parsePickles(bytes: Uint8Array, file: string): LegacyPickles {
  const context = { file };
  const magic = unpickleAt(bytes, 0, context);
  if (magic.value !== MAGIC_NUMBER && magic.value !== Number(MAGIC_NUMBER)) {
    throw new BadInputError('not a legacy torch.save file (wrong magic number)', context);
  }
  const protocol = unpickleAt(bytes, magic.end, context);
  if (protocol.value !== PROTOCOL_VERSION) {
    throw new UnsupportedError(
      `legacy torch.save protocol ${String(protocol.value)} (expected 1001)`,
      context,
    );
  }
  const sysInfo = unpickleAt(bytes, protocol.end, context);
  if (!(sysInfo.value instanceof Map) || sysInfo.value.get('little_endian') !== true) {
    throw new UnsupportedError('legacy torch.save file written on a big-endian machine', context);
  }
  const object = unpickleAt(bytes, sysInfo.end, { file, tensor: 'state dict pickle' });
  const keys = unpickleAt(bytes, object.end, { file, tensor: 'storage key list' });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new BadInputError('the storage key list is not a list of strings', context);
  }
  return { value: object.value, keys: keys.value as string[], dataStart: keys.end };
}

export interface LegacyReadOptions {
  /** The pickles may not be longer than this. */
  maxPickleBytes: number;
  /** First prefix read (default 1 MiB; tests make it tiny to exercise the growth). */
  firstReadBytes?: number;
}

/** The pickles, reading a longer prefix while they run past the one read (never past the maximum). */
async function readPickles(reader: RangeReader, options: LegacyReadOptions): Promise<LegacyPickles> {
  const maxBytes = options.maxPickleBytes;
  let length = Math.min(reader.size, options.firstReadBytes ?? FIRST_READ_BYTES);
  for (;;) {
    const bytes = await reader.read(0, length);
    try {
      return parsePickles(bytes, reader.uri);
    } catch (err) {
      if (!(err instanceof TruncatedPickleError) || length >= reader.size) throw err;
      if (length >= maxBytes) {
        throw new BadInputError(`legacy torch.save pickles exceed ${maxBytes} bytes`, { file: reader.uri });
      }
      length = Math.min(reader.size, maxBytes, length * 4);
    }
  }
}

/** Open one legacy torch.save file and list its tensors as byte ranges of the file. */
export async function readTorchLegacy(
  reader: RangeReader,
  strides: Strides,
  options: LegacyReadOptions,
): Promise<TensorInfo[]> {
  const file = reader.uri;
  const { value, keys, dataStart } = await readPickles(reader, options);
  // Two walks, each bounded by the pickles' length on its own.
  const budget = () => new WalkBudget(dataStart, { file, tensor: 'state dict pickle' });
  const storages = collectStorages(value, file, budget());
  const refs = [...collectTensors(value, file, budget())];

  // Storage records in key order: [int64 element count][count × element bytes].
  const records = new Map<string, { header: number; offset: number; bytes: number; numel: number }>();
  let offset = dataStart;
  for (const key of keys) {
    const storage = storages.get(key);
    if (!storage)
      throw new BadInputError(`storage key ${key} is listed but never named by the pickle`, { file });
    if (records.has(key)) throw new BadInputError(`storage key ${key} is listed twice`, { file });
    const bytes = storage.numel * elementBytes(storage.dtype)!;
    records.set(key, { header: offset, offset: offset + 8, bytes, numel: storage.numel });
    offset += 8 + bytes;
    if (offset > reader.size) {
      throw new BadInputError(
        `storage ${key} ends at byte ${offset}, past the end of the ${reader.size}-byte file`,
        { file },
      );
    }
  }
  for (const key of storages.keys()) {
    if (!records.has(key)) throw new BadInputError(`storage ${key} is not in the storage key list`, { file });
  }
  // Each record's own element count must agree with the pickle's (a misplaced record would not).
  await mapLimited([...records], HEADER_READ_CONCURRENCY, async ([key, record]) => {
    const header = await reader.read(record.header, 8);
    const count = new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, true);
    if (count !== BigInt(record.numel)) {
      throw new BadInputError(
        `storage ${key} record holds ${count} elements, the pickle says ${record.numel}`,
        { file },
      );
    }
  });
  return tensorInfos(refs, file, strides, (key) => records.get(key)!);
}
