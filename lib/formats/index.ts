/**
 * The format registry: every `FormatReader` in one array, and `openCheckpoint`, which picks the
 * reader by file name and first bytes. Adding a format is its folder (reader + descriptor) plus one
 * import and one array entry here: discovery and layer mapping read the descriptors.
 */
import { UnsupportedError } from '../errors.ts';
import { loraFactorOf, readAdapterConfig } from './adapters.ts';
import { ggufReader } from './gguf/index.ts';
import { headCachingOpener } from './header-cache.ts';
import { kerasArchiveReader, kerasH5Reader } from './keras/index.ts';
import { npyReader, npzReader } from './numpy/index.ts';
import { onnxReader } from './onnx/index.ts';
import { pytorchReader } from './pytorch/index.ts';
import { safetensorsReader } from './safetensors/index.ts';
import { tfjsReader } from './tfjs/index.ts';
import { tfliteReader } from './tflite/index.ts';
import { findTiedHead } from './tied-embeddings.ts';
import type {
  CheckpointFormat,
  FormatDescriptor,
  FormatReader,
  ObjectOpener,
  OpenedCheckpoint,
} from './types.ts';

/** How many leading bytes `detect` sees (magic numbers, zip signature, JSON brace...). */
export const DETECT_HEAD_BYTES = 64;

/** Order matters only when two readers could claim one file; specific magics come first. */
export const formatReaders: FormatReader[] = [
  // One reader per line, so parallel additions merge cleanly.
  safetensorsReader,
  ggufReader,
  npzReader,
  npyReader,
  pytorchReader,
  onnxReader,
  tfjsReader,
  tfliteReader,
  kerasH5Reader,
  kerasArchiveReader,
];

/** The descriptor of a registered format. */
export function formatDescriptor(format: CheckpointFormat): FormatDescriptor {
  const reader = formatReaders.find((r) => r.format === format);
  if (!reader) throw new UnsupportedError(`no reader is registered for format "${format}"`);
  return reader.descriptor;
}

/** The reader that claims `uri`, given its first bytes; undefined when none does. */
export function detectFormat(uri: string, head: Uint8Array): FormatReader | undefined {
  return formatReaders.find((reader) => reader.detect(uri, head));
}

/** Open one checkpoint file (or index/manifest file) by detecting its format from name and head. */
export async function openCheckpoint(uri: string, sourceOpener: ObjectOpener): Promise<OpenedCheckpoint> {
  // Detection and the reader's header parse share one open and one read of the file's start.
  const opener = headCachingOpener(sourceOpener);
  try {
    const reader = await opener.open(uri);
    const head = await reader.read(0, Math.min(reader.size, DETECT_HEAD_BYTES));
    const format = detectFormat(uri, head);
    if (!format) {
      throw new UnsupportedError(
        `not a recognized checkpoint format (known: ${formatReaders.map((r) => r.format).join(', ')})`,
        { file: uri },
      );
    }
    const ckpt = await format.open(uri, opener);
    if (ckpt.tensors.some((t) => loraFactorOf(t.name))) {
      const adapter = await readAdapterConfig(uri, sourceOpener);
      if (adapter) ckpt.adapter = adapter;
    }
    const tiedHead = await findTiedHead(ckpt, uri, sourceOpener);
    if (tiedHead) ckpt.tiedHead = tiedHead;
    return ckpt;
  } finally {
    opener.release();
  }
}
