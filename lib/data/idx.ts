/**
 * IDX files (LeCun's MNIST container, also used by Fashion-MNIST): a 4-byte magic
 * (0, 0, element type, rank), `rank` big-endian uint32 dimensions, then the elements row-major.
 * Only unsigned bytes (type 0x08) occur in the data sets we ship against. Gzip-compressed files
 * (Debian's dataset-fashion-mnist) are recognized by their magic and inflated first.
 */
import { gunzipSync } from 'node:zlib';
import { BadInputError, UnsupportedError } from '../errors.ts';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decode an IDX file (plain or gzip) held in memory. `file` only names it in errors. */
export function parseIdx(raw: Uint8Array, file = '<memory>'): IdxArray {
  const bytes = isGzip(raw) ? new Uint8Array(gunzipSync(raw)) : raw;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new BadInputError('not an IDX file (bad magic)', { file });
  }
  const elementType = bytes[2]!;
  const rank = bytes[3]!;
  if (elementType !== IDX_UBYTE) {
    throw new UnsupportedError(`IDX element type 0x${elementType.toString(16)} (only unsigned byte)`, {
      file,
    });
  }
  const headerBytes = 4 + 4 * rank;
  if (rank === 0 || bytes.length < headerBytes) throw new BadInputError('truncated IDX header', { file });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerBytes + count) {
    throw new BadInputError(
      `IDX payload has ${bytes.length - headerBytes} bytes, shape [${shape.join(', ')}] needs ${count}`,
      { file },
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}
