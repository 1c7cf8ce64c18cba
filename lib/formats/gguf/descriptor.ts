import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { GGML_TYPES } from './ggml-types.ts';

export const ggufDescriptor: FormatDescriptor = {
  fileNames: /\.gguf$/i,
  conventionalNames: conventionalModelNames(['gguf']),
  preference: 2,
  kernelLayout: 'OIHW',
  stateDict: true,
  dtypes: dtypesOf(GGML_TYPES),
};
