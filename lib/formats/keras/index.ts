/**
 * Keras readers: HDF5 (`.h5`: Keras 2 `model.save` with `model_weights/<layer>/<layer>/kernel:0`
 * and the JSON `model_config` root attribute, `save_weights` files, Keras 3 `.weights.h5` with
 * `layers/<layer>/vars/<i>`) and `.keras` zip archives (`config.json` + `model.weights.h5`).
 * HDF5 goes through h5wasm, which needs the whole file in memory (bounded: see h5.ts); tensors are
 * then ranged reads of the bytes located at open. Optimizer state is not listed.
 */
import { BadInputError, UnsupportedError } from '../../errors.ts';
import { decodeUtf8, isRecord, parseJson, ReaderCache } from '../checks.ts';
import { decodePlain, elementCount, plainByteLength } from '../dtypes.ts';
import { MemoryRangeReader } from '../range.ts';
import type {
  CheckpointFormat,
  FormatReader,
  ObjectOpener,
  OpenedCheckpoint,
  RangeReader,
  TensorInfo,
} from '../types.ts';
import { UniqueNames } from '../unique-names.ts';
import { extension, memberUri } from '../uri.ts';
import { ZipArchive } from '../zip.ts';
import { kerasArchiveDescriptor, kerasH5Descriptor } from './descriptor.ts';
import { checkH5Size, type H5DatasetInfo, isHdf5Head, listH5, readH5Dataset } from './h5.ts';
import { collectKerasLayers, kerasLayerHints } from './layer-hints.ts';

/** config.json of a .keras archive: real ones are kilobytes to a few MB. */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
const OPTIMIZER_PATH = /^(optimizer_weights|optimizer)(\/|$)/;

/** A tensor name from its dataset path: "model_weights/F_0/F_0/kernel:0" → "F_0/kernel". */
export function kerasTensorName(path: string): string {
  const segments = path
    .replace(/^\/+/, '')
    .replace(/^model_weights\//, '')
    .replace(/:\d+$/, '')
    .split('/');
  // Keras 2 nests each layer's weights under a group of the same name.
  if (segments.length > 2 && segments[0] === segments[1]) segments.shift();
  return segments.join('/');
}

/**
 * One name per dataset: the short name of kerasTensorName where it is unique, else the dataset's
 * full path (every dataset of a colliding short name keeps its path: "/a/a/kernel:0" and "/a/kernel"
 * both shorten to "a/kernel"), made unique as a last resort.
 */
function tensorNames(datasets: readonly H5DatasetInfo[]): [H5DatasetInfo, string][] {
  const short = datasets.map((d) => kerasTensorName(d.path));
  const uses = new Map<string, number>();
  for (const name of short) uses.set(name, (uses.get(name) ?? 0) + 1);
  const unique = new UniqueNames();
  return datasets.map((d, i) => {
    const name = uses.get(short[i]!) === 1 ? short[i]! : d.path.replace(/^\/+/, '');
    return [d, unique.claim(name)];
  });
}

/** Where the HDF5 image lives: a file, a stored zip entry (offset `base`), or memory (deflated entry). */
interface H5Image {
  uri: string;
  /** The zip entry holding the image when it is an in-memory copy of a deflated entry. */
  member?: string;
  base: number;
  reader: RangeReader;
}

async function openH5Image(
  format: CheckpointFormat,
  uri: string,
  image: H5Image,
  bytes: Uint8Array,
  config: unknown,
): Promise<OpenedCheckpoint> {
  const context = { file: uri };
  const listing = await listH5(bytes, context);
  const datasets = listing.datasets.filter((d) => !OPTIMIZER_PATH.test(d.path.replace(/^\/+/, '')));
  const modelConfig = config ?? parseModelConfig(listing.rootAttributes.model_config, uri);
  const tensors: TensorInfo[] = [];
  const slowPaths = new Map<string, string>();
  const names = new Set<string>();
  for (const [dataset, name] of tensorNames(datasets)) {
    names.add(name);
    tensors.push(tensorInfo(name, dataset, image, uri));
    if (!dataset.range) slowPaths.set(name, dataset.path);
  }
  const imageLength = bytes.byteLength;
  const hints = kerasLayerHints(
    collectKerasLayers(modelConfig),
    tensors.map((t) => t.name),
  );
  return {
    format,
    uri,
    tensors,
    layerHints: hints,
    async readTensor(info) {
      const tensorContext = { file: uri, tensor: info.name };
      const slowPath = slowPaths.get(info.name);
      if (slowPath !== undefined) {
        // Chunked/filtered datasets: reload the HDF5 image and let h5wasm decode the dataset.
        const whole = await image.reader.read(image.base, imageLength);
        return readH5Dataset(whole, slowPath, tensorContext);
      }
      if (!names.has(info.name)) throw new BadInputError('no such tensor in this checkpoint', tensorContext);
      const raw = await image.reader.read(info.byteOffset, info.byteLength);
      return decodePlain(info.dtype, raw, elementCount(info.shape, tensorContext), tensorContext);
    },
  };
}

function tensorInfo(name: string, dataset: H5DatasetInfo, image: H5Image, uri: string): TensorInfo {
  const byteLength = plainByteLength(dataset.dtype, dataset.shape, { file: uri, tensor: name });
  const info: TensorInfo = {
    name,
    dtype: dataset.dtype,
    shape: dataset.shape,
    uri: image.uri,
    ...(image.member === undefined ? {} : { member: image.member }),
    byteOffset: image.base + (dataset.range?.offset ?? 0),
    byteLength,
  };
  if (dataset.shape.length === 4) info.layout = 'HWIO';
  if (dataset.dtype === 'F16') info.quantization = { scheme: 'float16' };
  return info;
}

function parseModelConfig(text: string | undefined, uri: string): unknown {
  if (text === undefined) return undefined;
  return parseJson(text, { file: uri }, 'Keras model_config');
}

export const kerasH5Reader: FormatReader = {
  format: 'keras-h5',
  descriptor: kerasH5Descriptor,
  detect(uri, head) {
    const ext = extension(uri);
    return ext === '.h5' || ext === '.hdf5' || isHdf5Head(head);
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const reader = await new ReaderCache(opener).get(uri);
    checkH5Size(reader.size, { file: uri });
    const bytes = await reader.read(0, reader.size);
    if (!isHdf5Head(bytes)) throw new BadInputError('not an HDF5 file (signature missing)', { file: uri });
    return openH5Image('keras-h5', uri, { uri, base: 0, reader }, bytes, undefined);
  },
};

export const kerasArchiveReader: FormatReader = {
  format: 'keras',
  descriptor: kerasArchiveDescriptor,
  detect(uri) {
    return extension(uri) === '.keras';
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const reader = await new ReaderCache(opener).get(uri);
    const archive = await ZipArchive.open(reader);
    const weights = archive.get('model.weights.h5');
    if (!weights) throw new UnsupportedError('.keras archive has no model.weights.h5', { file: uri });
    checkH5Size(weights.uncompressedSize, { file: uri, tensor: weights.name });
    let config: unknown;
    const configEntry = archive.get('config.json');
    if (configEntry) {
      if (configEntry.uncompressedSize > MAX_CONFIG_BYTES) {
        throw new BadInputError(`config.json of ${configEntry.uncompressedSize} bytes is too large`, {
          file: uri,
        });
      }
      const text = decodeUtf8(await archive.readEntry(configEntry), { file: uri, tensor: 'config.json' });
      config = parseJson(text, { file: uri, tensor: 'config.json' }, 'config.json');
      if (!isRecord(config)) config = undefined;
    }
    const bytes = await archive.readEntry(weights);
    // A stored entry is a byte range of the archive; a deflated one stays in memory (bounded above).
    const image: H5Image =
      weights.method === 0
        ? { uri, base: await archive.dataOffset(weights), reader }
        : {
            uri,
            member: weights.name,
            base: 0,
            reader: new MemoryRangeReader(memberUri(uri, weights.name), bytes),
          };
    return openH5Image('keras', uri, image, bytes, config);
  },
};
