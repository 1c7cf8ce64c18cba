/**
 * PyTorch checkpoints written by `torch.save` (zip format, torch ≥ 1.6): `<prefix>/data.pkl` is a
 * pickle of the state dict whose tensors point (persistent ids) at stored zip entries
 * `<prefix>/data/<key>`. The pickle goes through our restricted unpickler (nothing executes);
 * tensors become byte ranges inside the archive, so each is one ranged read. Sharded checkpoints
 * come with `pytorch_model.bin.index.json`. Legacy (pre-zip) files are refused with a hint.
 */
import { BadInputError, UnsupportedError } from '../../errors.ts';
import { ReaderCache, readPlainTensor } from '../checks.ts';
import { mapLimited } from '../concurrency.ts';
import { decodePlain, elementBytes, elementCount } from '../dtypes.ts';
import { leadingSlice } from '../experts.ts';
import { readShardedTensors } from '../safetensors/sharded.ts';
import { gatherStrided, rowMajorStrides } from '../strided.ts';
import type { FormatReader, ObjectOpener, OpenedCheckpoint, RangeReader, TensorInfo } from '../types.ts';
import { basename, extension } from '../uri.ts';
import { ZipArchive, type ZipEntry } from '../zip.ts';
import { pytorchDescriptor } from './descriptor.ts';
import { PickleTuple, type PickleValue, TensorRef, unpickle, WalkBudget } from './unpickle.ts';

/** State-dict pickles are small (names, shapes); a huge one is not a weights file. */
const MAX_PICKLE_BYTES = 512 * 1024 * 1024;
/** Nesting of dicts/lists we follow when collecting tensors (training checkpoints nest a few levels). */
const MAX_NESTING = 32;
/** Parallel local-header reads at open (one small read per storage; matters on S3). */
const HEADER_READ_CONCURRENCY = 16;
/** Keys under which training scripts keep the model's state dict (WW unwraps 'state_dict'). */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model'];

const TORCH_EXTENSIONS = new Set(['.bin', '.pt', '.pth', '.ckpt']);
const LEGACY_HINT =
  'legacy (non-zip) torch.save format is unsupported, re-save with torch.save(…, _use_new_zipfile_serialization=True)';

function isIndexName(uri: string): boolean {
  return basename(uri).toLowerCase().endsWith('.bin.index.json');
}

function isZipHead(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** Legacy torch files are a bare pickle (protocol 2) starting with the magic number as a LONG1. */
function isLegacyHead(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a;
}

/** Strided tensors (saved views such as `w.t()`): their strides, for gathering on read. */
type Strides = Map<string, number[]>;

/** A dict key or list index as a name segment (state dicts key by str; anything else by its type). */
function keySegment(key: PickleValue): string {
  if (typeof key === 'string') return key;
  if (key === null || typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') {
    return String(key);
  }
  return `<${key.constructor.name}>`;
}

/**
 * Collect the tensors of a (possibly nested) state dict as dotted names. The walk's work is
 * counted against `budget` (memo references may share one subtree many times).
 */
function collectTensors(value: PickleValue, file: string, budget: WalkBudget): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  let root = value;
  if (root instanceof Map) {
    for (const key of STATE_DICT_KEYS) {
      const inner = root.get(key);
      if (inner instanceof Map) {
        root = inner;
        break;
      }
    }
  }
  const visit = (node: PickleValue, prefix: string, depth: number): void => {
    budget.visit(prefix.length);
    if (depth > MAX_NESTING)
      throw new BadInputError(`state dict nests deeper than ${MAX_NESTING} levels`, { file });
    if (node instanceof TensorRef) {
      out.set(prefix || 'tensor', node);
      return;
    }
    const join = (key: PickleValue) => (prefix ? `${prefix}.${keySegment(key)}` : keySegment(key));
    if (node instanceof Map) for (const [k, v] of node) visit(v, join(k), depth + 1);
    else if (Array.isArray(node) || node instanceof PickleTuple) {
      const items = Array.isArray(node) ? node : node.items;
      for (let i = 0; i < items.length; i++) visit(items[i]!, join(i), depth + 1);
    }
  };
  visit(root, '', 0);
  return out;
}

/** Open one torch.save zip and list its tensors as byte ranges of the archive. */
export async function readTorchZip(reader: RangeReader, strides: Strides): Promise<TensorInfo[]> {
  const file = reader.uri;
  const head = await reader.read(0, Math.min(reader.size, 8));
  if (isLegacyHead(head)) throw new UnsupportedError(LEGACY_HINT, { file });
  if (!isZipHead(head)) throw new BadInputError('not a torch.save zip archive', { file });
  const zip = await ZipArchive.open(reader);
  const pickles = zip.entries.filter((e) => e.name.endsWith('data.pkl') && e.name.split('/').length === 2);
  if (pickles.length !== 1) {
    throw new BadInputError(`expected one <name>/data.pkl entry, found ${pickles.length}`, { file });
  }
  const pickleEntry = pickles[0]!;
  const prefix = pickleEntry.name.slice(0, pickleEntry.name.length - 'data.pkl'.length);
  const byteorder = zip.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(await zip.readEntry(byteorder)).trim();
    if (order !== 'little') throw new UnsupportedError(`byte order "${order}" is not supported`, { file });
  }
  if (pickleEntry.uncompressedSize > MAX_PICKLE_BYTES) {
    throw new BadInputError(`data.pkl of ${pickleEntry.uncompressedSize} bytes is too large`, { file });
  }
  const pickle = await zip.readEntry(pickleEntry);
  const value = unpickle(pickle, { file, tensor: pickleEntry.name });
  const budget = new WalkBudget(pickle.byteLength, { file, tensor: pickleEntry.name });
  const refs = [...collectTensors(value, file, budget)];

  const storageEntries = new Map<string, ZipEntry>();
  for (const [name, ref] of refs) {
    const entryName = `${prefix}data/${ref.storage.key}`;
    const entry = zip.get(entryName);
    if (!entry) throw new BadInputError(`storage entry ${entryName} is missing`, { file, tensor: name });
    if (entry.method !== 0) {
      throw new UnsupportedError(`storage ${entryName} is compressed; torch.save stores it uncompressed`, {
        file,
        tensor: name,
      });
    }
    storageEntries.set(ref.storage.key, entry);
  }
  const offsets = new Map<string, number>();
  await mapLimited([...storageEntries], HEADER_READ_CONCURRENCY, async ([key, entry]) => {
    offsets.set(key, (await zip.storedRange(entry)).offset);
  });

  return refs.map(([name, ref]): TensorInfo => {
    const context = { file, tensor: name };
    const size = elementBytes(ref.storage.dtype)!;
    const entry = storageEntries.get(ref.storage.key)!;
    if (BigInt(ref.storage.numel) * BigInt(size) > BigInt(entry.uncompressedSize)) {
      throw new BadInputError(
        `storage declares ${ref.storage.numel} × ${ref.storage.dtype} but its entry holds ${entry.uncompressedSize} bytes`,
        context,
      );
    }
    const count = elementCount(ref.shape, context);
    // Highest element index the view touches, checked against the storage (BigInt: no overflow).
    let last = BigInt(ref.storageOffset);
    for (let axis = 0; axis < ref.shape.length; axis++) {
      if (ref.shape[axis]! > 0) last += BigInt(ref.shape[axis]! - 1) * BigInt(ref.stride[axis]!);
    }
    if (count > 0 && last >= BigInt(ref.storage.numel)) {
      throw new BadInputError(
        `tensor view reaches element ${last} of a ${ref.storage.numel}-element storage`,
        context,
      );
    }
    const rowMajor = rowMajorStrides(ref.shape);
    const contiguous = ref.stride.every((s, axis) => ref.shape[axis]! <= 1 || s === rowMajor[axis]);
    const span = count === 0 ? 0 : contiguous ? count : Number(last) - ref.storageOffset + 1;
    // A view whose strides revisit elements (stride 0 from expand(), overlapping windows) would
    // decode more values than it stores: decoded bytes must stay bounded by stored bytes.
    if (count > span) {
      throw new BadInputError(
        `tensor view [${ref.shape.join(', ')}] with strides [${ref.stride.join(', ')}] reads ${count} elements from ${span} stored: overlapping views are not analyzed`,
        context,
      );
    }
    if (!contiguous) strides.set(name, ref.stride);
    return {
      name,
      dtype: ref.storage.dtype,
      shape: ref.shape,
      uri: file,
      byteOffset: offsets.get(ref.storage.key)! + ref.storageOffset * size,
      byteLength: span * size,
    };
  });
}

/** Decode a tensor, gathering strided views from the covering byte span. */
async function readTorchTensor(
  info: TensorInfo,
  readers: ReaderCache,
  strides: Strides,
): Promise<Float32Array | Float64Array> {
  const stride = strides.get(info.name);
  if (!stride) return readPlainTensor(info, readers);
  const context = { file: info.uri, tensor: info.name };
  elementCount(info.shape, context);
  const bytes = await (await readers.get(info.uri)).read(info.byteOffset, info.byteLength);
  const spanElements = info.byteLength / elementBytes(info.dtype)!;
  return gatherStrided(decodePlain(info.dtype, bytes, spanElements, context), info.shape, stride);
}

export const pytorchReader: FormatReader = {
  format: 'pytorch',
  descriptor: pytorchDescriptor,
  detect(uri, head) {
    if (isIndexName(uri)) return true;
    return TORCH_EXTENSIONS.has(extension(uri)) && (isZipHead(head) || isLegacyHead(head));
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const strides: Strides = new Map();
    const tensors = isIndexName(uri)
      ? await readShardedTensors(uri, readers, (shard) => readTorchZip(shard, strides))
      : await readTorchZip(await readers.get(uri), strides);
    return {
      format: 'pytorch',
      uri,
      tensors,
      readTensor: (info) => readTorchTensor(info, readers, strides),
      // A contiguous tensor's slice is its own byte range; a strided view is gathered whole, then cut.
      readLeadingSlice: async (info, index) => {
        if (!strides.has(info.name)) return readTorchTensor(leadingSlice(info, index), readers, strides);
        const whole = await readTorchTensor(info, readers, strides);
        const per = whole.length / info.shape[0]!;
        return whole.slice(index * per, (index + 1) * per);
      },
    };
  },
};
