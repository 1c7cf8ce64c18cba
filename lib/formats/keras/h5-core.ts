/**
 * h5wasm calls, run inside the HDF5 worker thread (h5-worker.ts; h5.ts is the caller's side). The
 * HDF5 library can loop forever or abort() on a corrupt file, which is why it never runs on the
 * caller's thread.
 *
 * Each dataset's stored bytes are located in the file image: Keras writes weights as contiguous,
 * unfiltered little-endian datasets, so the values (as h5wasm returns them) occur verbatim in the
 * file. A found range decodes to exactly those values by construction; a dataset not found
 * (chunked, compressed, big-endian) is decoded here on demand instead (slow path).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm, { type File as H5File } from 'h5wasm/node';
import { BadInputError, type ErrorContext, UnsupportedError, WeightlensError } from '../../errors.ts';
import type { DType } from '../types.ts';
import { DEFAULT_ZIP_LIMITS } from '../zip-directory.ts';
import { H5_DTYPES } from './h5-dtypes.ts';

export interface H5DatasetInfo {
  path: string;
  dtype: DType;
  shape: number[];
  /** Where the stored bytes were found in the file image, if they were. */
  range?: { offset: number; length: number };
}

export interface H5Listing {
  datasets: H5DatasetInfo[];
  /** String attributes of the root group (Keras: model_config, keras_version...). */
  rootAttributes: Record<string, string>;
}

// h5wasm datatype classes (H5T_class_t).
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

function dtypeOf(metadata: { type: number; size: number; signed: boolean }): DType | undefined {
  if (metadata.type === H5T_FLOAT) return H5_DTYPES.float[metadata.size];
  if (metadata.type === H5T_INTEGER) {
    return (metadata.signed ? H5_DTYPES.signed : H5_DTYPES.unsigned)[metadata.size];
  }
  return undefined;
}

/** An abort() inside the HDF5 library leaves the wasm instance unusable: the worker must be replaced. */
export function isAbort(err: unknown): boolean {
  if (err instanceof WeightlensError) return false;
  return err instanceof WebAssembly.RuntimeError || /\babort/i.test(String((err as Error)?.message));
}

/**
 * Write `bytes` into `directory` (a private, empty one from the caller: h5wasm's Node build reads
 * real files, NODERAWFS), run `use` on the open file, then close and delete it.
 */
async function withH5File<T>(
  bytes: Uint8Array,
  directory: string,
  context: ErrorContext,
  use: (file: H5File) => T,
): Promise<T> {
  await h5wasm.ready;
  const path = join(directory, 'image.h5');
  writeFileSync(path, bytes);
  let file: H5File | undefined;
  try {
    file = new h5wasm.File(path, 'r');
    return use(file);
  } catch (err) {
    // h5wasm reports HDF5 failures (corrupt object headers, B-trees...) as plain Errors.
    if (err instanceof WeightlensError || isAbort(err)) throw err;
    throw new BadInputError(`malformed HDF5: ${(err as Error).message}`, context, { cause: err });
  } finally {
    try {
      file?.close();
    } catch {
      // An aborted instance cannot close; its worker is replaced.
    }
    rmSync(path, { force: true });
  }
}

/** Bytes of a dataset's values as its header declares them (BigInt: a corrupt shape may overflow). */
function declaredBytes(metadata: { shape: number[] | null; size: number }): bigint {
  let bytes = BigInt(metadata.size);
  for (const dim of metadata.shape ?? []) {
    if (!Number.isSafeInteger(dim) || dim < 0) return BigInt(Number.MAX_SAFE_INTEGER) ** 2n;
    bytes *= BigInt(dim);
  }
  return bytes;
}

/** Values of one dataset as a typed array whose bytes are the little-endian storage. */
function storageBytes(value: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return undefined;
}

/** List every numeric dataset and locate its stored bytes in `bytes`. */
export async function listH5InThread(
  bytes: Uint8Array,
  directory: string,
  context: ErrorContext,
): Promise<H5Listing> {
  const image = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return withH5File(bytes, directory, context, (file) => {
    const rootAttributes: Record<string, string> = {};
    for (const name of Object.keys(file.attrs)) {
      try {
        const value = file.get_attribute(name, true);
        if (typeof value === 'string') rootAttributes[name] = value;
      } catch (err) {
        // Attributes of types h5wasm cannot convert carry nothing we use; an abort must surface.
        if (isAbort(err)) throw err;
      }
    }
    const datasets: H5DatasetInfo[] = [];
    const paths = file.paths();
    const listed = new Set(paths.map(absolutePath));
    for (const path of ['/', ...paths]) {
      let entity: ReturnType<H5File['get']>;
      try {
        entity = path === '/' ? file : file.get(path);
      } catch (err) {
        throw new BadInputError(`malformed HDF5 object "${path}": ${(err as Error).message}`, context, {
          cause: err,
        });
      }
      if (entity instanceof h5wasm.Group) checkGroupListed(entity, absolutePath(path), listed, context);
      if (!(entity instanceof h5wasm.Dataset)) continue;
      const metadata = entity.metadata;
      const dtype = dtypeOf(metadata);
      if (!dtype || !metadata.shape) continue;
      const info: H5DatasetInfo = { path, dtype, shape: metadata.shape };
      // Values that cannot all be stored in the file are not read here: they cannot be found in it
      // (a corrupt header may declare any size; a filtered dataset is bounded when it is read).
      const fits = declaredBytes(metadata) <= BigInt(image.byteLength);
      const needle = fits && metadata.littleEndian ? storageBytes(entity.value) : undefined;
      if (needle && needle.byteLength === metadata.total_size * metadata.size) {
        info.range = findRange(image, needle);
      }
      datasets.push(info);
    }
    return { datasets, rootAttributes };
  });
}

function absolutePath(path: string): string {
  return `/${path.replace(/^\/+/, '')}`;
}

/**
 * An object whose header HDF5 cannot read is not silently absent: the library's recursive listing
 * stops at it (so it and whatever follows are missing), and h5wasm takes it for a group whose
 * links cannot be read. Every link of every group must therefore be listed, and every group's
 * links readable.
 */
function checkGroupListed(
  group: InstanceType<typeof h5wasm.Group>,
  path: string,
  listed: ReadonlySet<string>,
  context: ErrorContext,
): void {
  let names: string[];
  try {
    names = group.keys();
  } catch (err) {
    throw new BadInputError(`HDF5 object "${path}" cannot be read: ${(err as Error).message}`, context, {
      cause: err,
    });
  }
  for (const name of names) {
    const child = path === '/' ? `/${name}` : `${path}/${name}`;
    if (!listed.has(child)) {
      throw new BadInputError(`HDF5 object "${child}" cannot be read (the library cannot list it)`, context);
    }
  }
}

/**
 * First occurrence of `needle` in `image`. Identical datasets (zero biases) may resolve to the same
 * bytes: any copy decodes to the same values, so sharing is harmless.
 */
function findRange(image: Buffer, needle: Uint8Array): { offset: number; length: number } | undefined {
  if (needle.byteLength === 0) return { offset: 0, length: 0 };
  const at = image.indexOf(needle);
  return at < 0 ? undefined : { offset: at, length: needle.byteLength };
}

/** Slow path: one dataset's values read through h5wasm from the whole file image. */
export async function readH5DatasetInThread(
  bytes: Uint8Array,
  path: string,
  directory: string,
  context: ErrorContext,
): Promise<Float32Array | Float64Array> {
  return withH5File(bytes, directory, context, (file) => {
    const entity = file.get(path);
    if (!(entity instanceof h5wasm.Dataset)) throw new BadInputError(`no dataset "${path}"`, context);
    // Compressed chunks are bounded like a zip's deflated entries (DEFAULT_ZIP_LIMITS: a declared
    // ratio plus an allowance, and an absolute cap): weights compress little, so a dataset beyond
    // that is a bomb of zeros or a lying header (unallocated chunks are conjured from the fill value).
    const declared = declaredBytes(entity.metadata);
    const limits = DEFAULT_ZIP_LIMITS;
    const bound = BigInt(
      Math.min(
        limits.maxInflatedBytes,
        limits.inflateAllowanceBytes + bytes.byteLength * limits.maxInflateRatio,
      ),
    );
    if (declared > bound) {
      throw new BadInputError(
        `dataset declares ${declared} bytes, more than a ${bytes.byteLength}-byte file can hold`,
        context,
      );
    }
    const value = entity.value;
    if (value instanceof Float64Array || value instanceof BigInt64Array || value instanceof BigUint64Array) {
      return Float64Array.from(value as ArrayLike<number | bigint>, Number);
    }
    if (ArrayBuffer.isView(value) && !(value instanceof DataView))
      return Float32Array.from(value as unknown as ArrayLike<number>);
    throw new UnsupportedError(`dataset "${path}" is not numeric`, context);
  });
}
