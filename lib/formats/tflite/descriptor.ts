import { dtypesOf, extensionDescriptor } from '../descriptor.ts';
import { TENSOR_TYPES } from './tensor-types.ts';

export const tfliteDescriptor = extensionDescriptor(['tflite'], {
  preference: 6,
  kernelLayout: 'OHWI',
  stateDict: false,
  dtypes: dtypesOf(TENSOR_TYPES),
});
