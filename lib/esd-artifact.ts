/**
 * The ESD artifact: a layer's eigenvalues as stored by the pipeline and read back by the dashboard.
 * One object per layer, `esd/<checkpointContentHash>/<configHash>/<layer>.f64`, holding the
 * eigenvalues as float64 little-endian (whatever the host's byte order), nothing else: no header,
 * so the object's size alone says how many values it holds. This module is the only writer and
 * reader of that layout.
 */
import { BadInputError } from './errors.ts';

/** ESDs are at most max_evals (15,000 by default) float64s; anything past this is refused unread. */
export const ESD_MAX_BYTES = 64 * 1024 * 1024;
export const ESD_CONTENT_TYPE = 'application/octet-stream';
const BYTES_PER_VALUE = 8;

export interface EsdKey {
  contentHash: string;
  configHash: string;
  layerName: string;
}

/** Object key of a layer's ESD (layer names may hold '/', so they are URI-encoded). */
export function esdObjectKey(key: EsdKey): string {
  return `esd/${key.contentHash}/${key.configHash}/${encodeURIComponent(key.layerName)}.f64`;
}

export function encodeEsd(values: Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.length * BYTES_PER_VALUE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * BYTES_PER_VALUE, values[i]!, true);
  return bytes;
}

/**
 * How many eigenvalues an artifact of `byteLength` bytes holds; a size no encoder writes (not a
 * multiple of 8, or past ESD_MAX_BYTES) is refused before anything is read.
 */
export function esdValueCount(byteLength: number, uri: string): number {
  if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength % BYTES_PER_VALUE !== 0) {
    throw new BadInputError(`${byteLength} bytes is not a float64 eigenvalue array`, { file: uri });
  }
  if (byteLength > ESD_MAX_BYTES) {
    throw new BadInputError(`${byteLength} bytes exceeds the ${ESD_MAX_BYTES}-byte ESD limit`, { file: uri });
  }
  return byteLength / BYTES_PER_VALUE;
}

export function decodeEsd(bytes: Uint8Array, uri: string): Float64Array {
  const values = new Float64Array(esdValueCount(bytes.byteLength, uri));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * BYTES_PER_VALUE, true);
  return values;
}
