import type { DType } from '../types.ts';

/** TFLite TensorType → dtype; null = a type that holds no analyzable weights (strings, complex, int4...). */
export const TENSOR_TYPES: (DType | null)[] = [
  'F32',
  'F16',
  'I32',
  'U8',
  'I64',
  null,
  'BOOL',
  'I16',
  null,
  'I8',
  'F64',
  null,
  'U64',
  null,
  null,
  'U32',
  'U16',
  null,
  'BF16',
];
