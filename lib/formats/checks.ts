/**
 * Validation shared by the readers: JSON parsing with typed errors, overlap checks over byte
 * ranges, and reading a tensor's declared range and decoding it.
 */
import { BadInputError, type ErrorContext } from '../errors.ts';
import { decodePlain, elementCount } from './dtypes.ts';
import type { ObjectOpener, RangeReader, TensorInfo } from './types.ts';
import { dirname, siblingUri } from './uri.ts';

export function parseJson(text: string, context: ErrorContext, what = 'JSON'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`malformed ${what}: ${(err as Error).message}`, context, { cause: err });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
export function decodeUtf8(bytes: Uint8Array, context: ErrorContext): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw new BadInputError('text is not valid UTF-8', context, { cause: err });
  }
}

/**
 * Throws when two tensors of one object claim overlapping bytes (a corrupt or crafted header:
 * decoding one would silently return another's data).
 */
export function assertNoOverlap(tensors: readonly TensorInfo[], file: string): void {
  const byUri = new Map<string, TensorInfo[]>();
  for (const t of tensors) {
    const key = t.member === undefined ? t.uri : `${t.uri}\0${t.member}`;
    const list = byUri.get(key) ?? [];
    list.push(t);
    byUri.set(key, list);
  }
  for (const list of byUri.values()) {
    const sorted = [...list].sort((a, b) => a.byteOffset - b.byteOffset);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (cur.byteLength > 0 && prev.byteOffset + prev.byteLength > cur.byteOffset) {
        throw new BadInputError(`byte range overlaps that of tensor "${prev.name}"`, {
          file,
          tensor: cur.name,
        });
      }
    }
  }
}

/** Caches one reader per URI so shards are opened (stat'ed) once. */
export class ReaderCache {
  private readonly readers = new Map<string, Promise<RangeReader>>();
  constructor(private readonly opener: ObjectOpener) {}
  get(uri: string): Promise<RangeReader> {
    let reader = this.readers.get(uri);
    if (!reader) {
      reader = this.opener.open(uri);
      this.readers.set(uri, reader);
    }
    return reader;
  }

  /**
   * Open an object a checkpoint file refers to (a shard, external data): `name` is resolved by
   * `siblingUri` and the object must stay inside `baseUri`'s directory, symlinks included.
   * Returns the sibling's URI with its reader.
   */
  async sibling(
    baseUri: string,
    name: string,
    context: ErrorContext,
  ): Promise<{ uri: string; reader: RangeReader }> {
    const uri = siblingUri(baseUri, name, context);
    let reader = this.readers.get(uri);
    if (!reader) {
      reader = this.opener.open(uri, { within: dirname(baseUri) });
      this.readers.set(uri, reader);
    }
    return { uri, reader: await reader };
  }
}

/** Read exactly the tensor's byte range and decode a plain (non-block) dtype. */
export async function readPlainTensor(
  info: TensorInfo,
  readers: ReaderCache,
): Promise<Float32Array | Float64Array> {
  const context = { file: info.uri, tensor: info.name };
  const count = elementCount(info.shape, context);
  const reader = await readers.get(info.uri);
  const bytes = await reader.read(info.byteOffset, info.byteLength);
  return decodePlain(info.dtype, bytes, count, context);
}
