/**
 * NumPy `.npy` (one array) and `.npz` (a zip of `<name>.npy` members, stored by `np.savez` or
 * deflated by `np.savez_compressed`). Stored members are byte ranges of the archive (one ranged
 * read per tensor); deflated members carry the URI "<archive>#<member>" and are inflated on read,
 * bounded by their declared size. Fortran-order arrays are gathered into row-major order.
 */
import { BadInputError } from '../../errors.ts';
import { ReaderCache } from '../checks.ts';
import { decodePlain, elementCount } from '../dtypes.ts';
import { columnMajorStrides, gatherStrided } from '../strided.ts';
import type { FormatReader, ObjectOpener, OpenedCheckpoint, RangeReader, TensorInfo } from '../types.ts';
import { extension } from '../uri.ts';
import { ZipArchive } from '../zip.ts';
import { npyDescriptor, npzDescriptor } from './descriptor.ts';
import {
  hasNpyMagic,
  MAX_NPY_HEADER_BYTES,
  NPY_PREAMBLE_BYTES,
  npyHeaderSize,
  parseNpyHeader,
} from './npy.ts';

/** Names of Fortran-order tensors (decoded with column-major strides). */
type FortranSet = Set<string>;

async function readNpyInfo(reader: RangeReader, name: string, fortran: FortranSet): Promise<TensorInfo> {
  const context = { file: reader.uri, tensor: name };
  const preamble = await reader.read(0, Math.min(reader.size, NPY_PREAMBLE_BYTES));
  const headerSize = Math.min(npyHeaderSize(preamble, context), reader.size);
  const header = parseNpyHeader(await reader.read(0, headerSize), reader.size, context);
  if (header.fortranOrder && header.shape.length > 1) fortran.add(name);
  return {
    name,
    dtype: header.dtype,
    shape: header.shape,
    uri: reader.uri,
    byteOffset: header.dataOffset,
    byteLength: header.dataLength,
  };
}

async function decodeNpy(info: TensorInfo, bytes: Uint8Array, fortran: FortranSet) {
  const context = { file: info.uri, tensor: info.name };
  const count = elementCount(info.shape, context);
  const data = decodePlain(info.dtype, bytes, count, context);
  return fortran.has(info.name) ? gatherStrided(data, info.shape, columnMajorStrides(info.shape)) : data;
}

export const npyReader: FormatReader = {
  format: 'npy',
  descriptor: npyDescriptor,
  detect(uri, head) {
    return extension(uri) === '.npy' || hasNpyMagic(head);
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const readers = new ReaderCache(opener);
    const fortran: FortranSet = new Set();
    const name = uri.slice(uri.lastIndexOf('/') + 1).replace(/\.npy$/i, '');
    const info = await readNpyInfo(await readers.get(uri), name, fortran);
    return {
      format: 'npy',
      uri,
      tensors: [info],
      readTensor: async (t) =>
        decodeNpy(t, await (await readers.get(t.uri)).read(t.byteOffset, t.byteLength), fortran),
    };
  },
};

export const npzReader: FormatReader = {
  format: 'npz',
  descriptor: npzDescriptor,
  detect(uri, head) {
    return extension(uri) === '.npz' && head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b;
  },
  async open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint> {
    const zip = await ZipArchive.open(await opener.open(uri));
    const fortran: FortranSet = new Set();
    const tensors: TensorInfo[] = [];
    for (const entry of zip.entries) {
      if (entry.name.endsWith('/')) continue;
      const context = { file: uri, tensor: entry.name };
      if (!entry.name.endsWith('.npy')) throw new BadInputError('.npz member is not a .npy array', context);
      const name = entry.name.slice(0, -'.npy'.length);
      const prefix = await zip.readEntryPrefix(entry, NPY_PREAMBLE_BYTES);
      const headerSize = npyHeaderSize(prefix, context);
      if (headerSize > MAX_NPY_HEADER_BYTES + NPY_PREAMBLE_BYTES) {
        throw new BadInputError('.npy header is too large', context);
      }
      const headerBytes = await zip.readEntryPrefix(entry, headerSize);
      const header = parseNpyHeader(headerBytes, entry.uncompressedSize, context);
      if (header.fortranOrder && header.shape.length > 1) fortran.add(name);
      if (header.dataOffset + header.dataLength !== entry.uncompressedSize) {
        throw new BadInputError(
          `.npz member holds ${entry.uncompressedSize} bytes but its header describes ${header.dataOffset + header.dataLength}`,
          context,
        );
      }
      const stored = entry.method === 0 ? await zip.storedRange(entry) : undefined;
      tensors.push({
        name,
        dtype: header.dtype,
        shape: header.shape,
        uri,
        // Deflated members have no byte range in the archive: address them inside the member.
        ...(stored ? {} : { member: entry.name }),
        byteOffset: (stored?.offset ?? 0) + header.dataOffset,
        byteLength: header.dataLength,
      });
    }
    return {
      format: 'npz',
      uri,
      tensors,
      async readTensor(info) {
        let bytes: Uint8Array;
        if (info.member === undefined) {
          bytes = await zip.reader.read(info.byteOffset, info.byteLength);
        } else {
          const entry = zip.get(info.member);
          if (!entry) throw new BadInputError('no such .npz member', { file: info.uri, tensor: info.name });
          const member = await zip.readEntry(entry);
          if (info.byteOffset + info.byteLength > member.byteLength) {
            throw new BadInputError('tensor range lies outside its .npz member', {
              file: info.uri,
              tensor: info.name,
            });
          }
          bytes = member.subarray(info.byteOffset, info.byteOffset + info.byteLength);
        }
        return decodeNpy(info, bytes, fortran);
      },
    };
  },
};
