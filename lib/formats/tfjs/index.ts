/**
 * TensorFlow.js reader: `model.json` (layers-model or graph-model) or a bare
 * `*weights_manifest.json`, with the weights in binary shards next to it. The JSON is read whole
 * (bounded); tensors are ranged reads across shard boundaries. Quantized storage is dequantized on
 * decode and recorded in `TensorInfo.quantization`. Layer hints come from the Keras layer classes
 * (layers models) or the graph's consuming ops (graph models; int32 shape constants are marked 'other').
 */
import { BadInputError } from '../../errors.ts';
import { assertNoOverlap, decodeUtf8, isRecord, parseJson, ReaderCache } from '../checks.ts';
import { decodePlain, elementCount } from '../dtypes.ts';
import { collectKerasLayers, kerasLayerHints } from '../keras/layer-hints.ts';
import type { FormatReader, LayerHint, ObjectOpener, OpenedCheckpoint, RangeReader } from '../types.ts';
import { basename, extension } from '../uri.ts';
import { tfjsDescriptor } from './descriptor.ts';
import { graphModelHints } from './graph-hints.ts';
import { type ManifestTensor, resolveManifest } from './manifest.ts';

/** model.json files of real models are ≤ 1 MB (topology included); 64 MB is a corrupt or hostile file. */
export const MAX_TFJS_JSON_BYTES = 64 * 1024 * 1024;

const JSON_STARTS = ['{"format"', '{"modelTopology"', '{"weightsManifest"', '[{"paths"', '[{"weights"'];

function looksLikeTfjs(uri: string, head: Uint8Array): boolean {
  const name = basename(uri).toLowerCase();
  if (name === 'model.json' || name.endsWith('weights_manifest.json')) return true;
  if (extension(uri) !== '.json') return false;
  const text = new TextDecoder().decode(head).replace(/\s+/g, '');
  return JSON_STARTS.some((start) => text.startsWith(start));
}

async function readJson(reader: RangeReader): Promise<unknown> {
  if (reader.size > MAX_TFJS_JSON_BYTES) {
    throw new BadInputError(`JSON of ${reader.size} bytes exceeds the ${MAX_TFJS_JSON_BYTES}-byte limit`, {
      file: reader.uri,
    });
  }
  const text = decodeUtf8(await reader.read(0, reader.size), { file: reader.uri });
  return parseJson(text, { file: reader.uri }, 'tfjs model JSON');
}

export const tfjsReader: FormatReader = {
  format: 'tfjs',
  descriptor: tfjsDescriptor,
  detect: looksLikeTfjs,
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const json = await readJson(await readers.get(uri));
    let manifest: unknown;
    let hints: Map<string, LayerHint> | undefined;
    let entries: ManifestTensor[];
    if (Array.isArray(json)) {
      manifest = json;
      entries = await resolveManifest(manifest, uri, readers);
    } else if (isRecord(json) && json.weightsManifest !== undefined) {
      entries = await resolveManifest(json.weightsManifest, uri, readers);
      const names = entries.map((e) => e.info.name);
      const topology = json.modelTopology;
      if (json.format === 'graph-model' || (isRecord(topology) && Array.isArray(topology.node))) {
        hints = graphModelHints(
          topology,
          entries.map((e) => e.info),
        );
      } else if (isRecord(topology)) {
        hints = kerasLayerHints(collectKerasLayers(topology.model_config ?? topology), names);
      }
    } else {
      throw new BadInputError('not a tfjs model: no weightsManifest', { file: uri });
    }
    const byName = new Map<string, ManifestTensor>();
    for (const entry of entries) {
      if (byName.has(entry.info.name))
        throw new BadInputError('weight listed twice', { file: uri, tensor: entry.info.name });
      byName.set(entry.info.name, entry);
    }
    // Single-shard tensors are checked for overlaps; multi-shard ones are laid out by construction.
    assertNoOverlap(
      entries.filter((e) => e.pieces.length === 1).map((e) => e.info),
      uri,
    );
    return {
      format: 'tfjs',
      uri,
      tensors: entries.map((e) => e.info),
      ...(hints ? { layerHints: hints } : {}),
      async readTensor(info) {
        const entry = byName.get(info.name);
        if (!entry)
          throw new BadInputError('no such tensor in this checkpoint', { file: uri, tensor: info.name });
        return readManifestTensor(entry, readers);
      },
    };
  },
};

/** Read a tensor's pieces (one per shard it spans), decode the stored dtype, dequantize. */
async function readManifestTensor(
  entry: ManifestTensor,
  readers: ReaderCache,
): Promise<Float32Array | Float64Array> {
  const { info, pieces, affine } = entry;
  const context = { file: info.uri, tensor: info.name };
  const count = elementCount(info.shape, context);
  let bytes: Uint8Array;
  if (pieces.length === 1) {
    bytes = await (await readers.get(pieces[0]!.uri)).read(pieces[0]!.offset, pieces[0]!.length);
  } else {
    bytes = new Uint8Array(info.byteLength);
    let at = 0;
    for (const piece of pieces) {
      bytes.set(await (await readers.get(piece.uri)).read(piece.offset, piece.length), at);
      at += piece.length;
    }
  }
  const values = decodePlain(info.dtype, bytes, count, context);
  if (affine) {
    // tfjs's own dequantization: q · scale + min, in float32.
    for (let i = 0; i < values.length; i++) values[i] = values[i]! * affine.scale + affine.min;
  }
  return values;
}
