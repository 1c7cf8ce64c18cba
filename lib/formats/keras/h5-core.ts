/**
 * HDF5 through h5wasm. h5wasm (the HDF5 C library compiled to WebAssembly) reads files from its
 * in-memory virtual file system only, so the whole file must be loaded: files above
 * `h5MaxBytes()` (env WEIGHTLENS_H5_MAX_BYTES, default 512 MiB) are rejected before any byte is read.
 *
 * To keep later tensor reads ranged, each dataset's stored bytes are located in the file at open:
 * Keras writes weights as contiguous, unfiltered little-endian datasets, so the dataset's values
 * (as h5wasm returns them) occur verbatim in the file. A found range decodes to exactly those values
 * by construction; a dataset not found (chunked, compressed, big-endian) is read through h5wasm
 * again on demand (slow path: the file is reloaded).
 */
import h5wasm, { type File as H5File } from 'h5wasm/node';
import { BadInputError, type ErrorContext, UnsupportedError, WeightlensError } from '../../errors.ts';
import type { DType } from '../types.ts';

export const DEFAULT_H5_MAX_BYTES = 512 * 1024 * 1024;

/** Largest HDF5 file (or .keras weights entry) loaded into h5wasm's memory. */
export function h5MaxBytes(): number {
  const env = process.env.WEIGHTLENS_H5_MAX_BYTES;
  const parsed = env ? Number(env) : Number.NaN;
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : DEFAULT_H5_MAX_BYTES;
}

export function checkH5Size(size: number, context: ErrorContext): void {
  const max = h5MaxBytes();
  if (size > max) {
    throw new UnsupportedError(
      `HDF5 file of ${size} bytes exceeds the ${max}-byte limit (h5wasm loads whole files into memory; raise WEIGHTLENS_H5_MAX_BYTES to allow it)`,
      context,
    );
  }
}

/** `\x89HDF\r\n\x1a\n`, at offset 0 (or after a user block of 512·2^k bytes, not handled here). */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5Head(head: Uint8Array): boolean {
  return HDF5_SIGNATURE.every((b, i) => head[i] === b);
}

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
  if (metadata.type === H5T_FLOAT)
    return ({ 2: 'F16', 4: 'F32', 8: 'F64' } as Record<number, DType>)[metadata.size];
  if (metadata.type === H5T_INTEGER) {
    const signed: Record<number, DType> = { 1: 'I8', 2: 'I16', 4: 'I32', 8: 'I64' };
    const unsigned: Record<number, DType> = { 1: 'U8', 2: 'U16', 4: 'U32', 8: 'U64' };
    return (metadata.signed ? signed : unsigned)[metadata.size];
  }
  return undefined;
}

let fileCounter = 0;

/** Load `bytes` into h5wasm's memory FS, run `use` on the open file, then close and delete it. */
async function withH5File<T>(bytes: Uint8Array, context: ErrorContext, use: (file: H5File) => T): Promise<T> {
  const module = await h5wasm.ready;
  const path = `/weightlens-${process.pid}-${++fileCounter}.h5`;
  module.FS.writeFile(path, bytes);
  let file: H5File | undefined;
  try {
    try {
      file = new h5wasm.File(path, 'r');
    } catch (err) {
      throw new BadInputError(`malformed HDF5: ${(err as Error).message}`, context, { cause: err });
    }
    try {
      return use(file);
    } catch (err) {
      // h5wasm reports HDF5 failures (corrupt object headers, B-trees...) as plain Errors.
      if (err instanceof WeightlensError) throw err;
      throw new BadInputError(`malformed HDF5: ${(err as Error).message}`, context, { cause: err });
    }
  } finally {
    try {
      file?.close();
    } finally {
      module.FS.unlink(path);
    }
  }
}

/** Values of one dataset as a typed array whose bytes are the little-endian storage. */
function storageBytes(value: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return undefined;
}

/** List every numeric dataset and locate its stored bytes in `bytes`. */
export async function listH5(bytes: Uint8Array, context: ErrorContext): Promise<H5Listing> {
  const image = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return withH5File(bytes, context, (file) => {
    const rootAttributes: Record<string, string> = {};
    for (const name of Object.keys(file.attrs)) {
      try {
        const value = file.get_attribute(name, true);
        if (typeof value === 'string') rootAttributes[name] = value;
      } catch {
        // Attributes of types h5wasm cannot convert carry nothing we use.
      }
    }
    const datasets: H5DatasetInfo[] = [];
    for (const path of file.paths()) {
      let entity: ReturnType<H5File['get']>;
      try {
        entity = file.get(path);
      } catch (err) {
        throw new BadInputError(`malformed HDF5 object "${path}": ${(err as Error).message}`, context, {
          cause: err,
        });
      }
      if (!(entity instanceof h5wasm.Dataset)) continue;
      const metadata = entity.metadata;
      const dtype = dtypeOf(metadata);
      if (!dtype || !metadata.shape) continue;
      const info: H5DatasetInfo = { path, dtype, shape: metadata.shape };
      const needle = metadata.littleEndian ? storageBytes(entity.value) : undefined;
      if (needle && needle.byteLength === metadata.total_size * metadata.size) {
        info.range = findRange(image, needle);
      }
      datasets.push(info);
    }
    return { datasets, rootAttributes };
  });
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
export async function readH5Dataset(
  bytes: Uint8Array,
  path: string,
  context: ErrorContext,
): Promise<Float32Array | Float64Array> {
  return withH5File(bytes, context, (file) => {
    const entity = file.get(path);
    if (!(entity instanceof h5wasm.Dataset)) throw new BadInputError(`no dataset "${path}"`, context);
    const value = entity.value;
    if (value instanceof Float64Array || value instanceof BigInt64Array || value instanceof BigUint64Array) {
      return Float64Array.from(value as ArrayLike<number | bigint>, Number);
    }
    if (ArrayBuffer.isView(value) && !(value instanceof DataView))
      return Float32Array.from(value as unknown as ArrayLike<number>);
    throw new UnsupportedError(`dataset "${path}" is not numeric`, context);
  });
}
