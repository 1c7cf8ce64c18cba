import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { TENSOR_TYPES } from './tensor-types.ts';

export const tfliteDescriptor: FormatDescriptor = {
  fileNames: /\.tflite$/i,
  conventionalNames: conventionalModelNames(['tflite']),
  preference: 6,
  kernelLayout: 'OHWI',
  stateDict: false,
  dtypes: dtypesOf(TENSOR_TYPES),
};
