/**
 * PyTorch checkpoints written by `torch.save` (zip format, torch ≥ 1.6): `<prefix>/data.pkl` is a
 * pickle of the state dict whose tensors point (persistent ids) at stored zip entries
 * `<prefix>/data/<key>`. The pickle goes through our restricted unpickler (nothing executes);
 * tensors become byte ranges inside the archive, so each is one ranged read. Sharded checkpoints
 * come with `pytorch_model.bin.index.json` (zip or legacy shards). Legacy (pre-zip) files go through
 * legacy.ts with the same unpickler and checks.
 */
import { BadInputError, UnsupportedError } from '../../errors.ts';
import { ReaderCache, readPlainTensor } from '../checks.ts';
import { mapLimited } from '../concurrency.ts';
import { decodePlain, elementBytes, elementCount } from '../dtypes.ts';
import { leadingSlice } from '../experts.ts';
import { rowRange } from '../row-blocks.ts';
import { readShardedTensors } from '../safetensors/sharded.ts';
import { gatherStrided } from '../strided.ts';
import type { FormatReader, ObjectOpener, OpenedCheckpoint, RangeReader, TensorInfo } from '../types.ts';
import { basename, extension } from '../uri.ts';
import { ZipArchive, type ZipEntry } from '../zip.ts';
import { pytorchDescriptor } from './descriptor.ts';
import { isLegacyHead, readTorchLegacy } from './legacy.ts';
import { collectTensors, type Strides, tensorInfos } from './state-dict.ts';
import { unpickle, WalkBudget } from './unpickle.ts';

/** State-dict pickles are small (names, shapes); a huge one is not a weights file. */
const MAX_PICKLE_BYTES = 512 * 1024 * 1024;
/** Parallel local-header reads at open (one small read per storage; matters on S3). */
const HEADER_READ_CONCURRENCY = 16;
const TORCH_EXTENSIONS = new Set(['.bin', '.pt', '.pth', '.ckpt']);
function isIndexName(uri: string): boolean {
  return basename(uri).toLowerCase().endsWith('.bin.index.json');
}

function isZipHead(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** Open one torch.save file (zip or legacy) and list its tensors as byte ranges of the file. */
async function readTorchFile(reader: RangeReader, strides: Strides): Promise<TensorInfo[]> {
  const head = await reader.read(0, Math.min(reader.size, 8));
  if (isLegacyHead(head)) return readTorchLegacy(reader, strides, { maxPickleBytes: MAX_PICKLE_BYTES });
  return readTorchZip(reader, strides);
}

/** Open one torch.save zip and list its tensors as byte ranges of the archive. */
export async function readTorchZip(reader: RangeReader, strides: Strides): Promise<TensorInfo[]> {
  const file = reader.uri;
  const head = await reader.read(0, Math.min(reader.size, 8));
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

  return tensorInfos(refs, file, strides, (key) => {
    const entry = storageEntries.get(key)!;
    return { offset: offsets.get(key)!, bytes: entry.uncompressedSize };
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
      ? await readShardedTensors(uri, readers, (shard) => readTorchFile(shard, strides), 'shards')
      : await readTorchFile(await readers.get(uri), strides);
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
      rowReader: (info) =>
        strides.has(info.name)
          ? undefined
          : (start, count) => readTorchTensor(rowRange(info, start, count), readers, strides),
    };
  },
};
