import { dtypesOf, extensionDescriptor } from '../descriptor.ts';
import { GGML_TYPES } from './ggml-types.ts';

export const ggufDescriptor = extensionDescriptor(['gguf'], {
  preference: 2,
  kernelLayout: 'OIHW',
  stateDict: true,
  dtypes: dtypesOf(GGML_TYPES),
});
