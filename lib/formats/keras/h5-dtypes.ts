/**
 * The HDF5 dtype table, apart from h5-core.ts: importing h5wasm instantiates its WebAssembly
 * module (~600 MB RSS, seconds of start-up), so only the HDF5 worker thread may load it; the
 * descriptor (imported by every process that knows the formats) reads the table from here.
 */
import type { DType } from '../types.ts';

/** HDF5 element size in bytes → dtype, per datatype class. */
export const H5_DTYPES: Record<'float' | 'signed' | 'unsigned', Record<number, DType>> = {
  float: { 2: 'F16', 4: 'F32', 8: 'F64' },
  signed: { 1: 'I8', 2: 'I16', 4: 'I32', 8: 'I64' },
  unsigned: { 1: 'U8', 2: 'U16', 4: 'U32', 8: 'U64' },
};
