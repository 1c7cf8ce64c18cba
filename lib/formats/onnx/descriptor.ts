import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { ONNX_DTYPES } from './tensor-proto.ts';

export const onnxDescriptor: FormatDescriptor = {
  fileNames: /\.onnx$/i,
  conventionalNames: conventionalModelNames(['onnx']),
  preference: 3,
  kernelLayout: 'OIHW',
  stateDict: false,
  dtypes: dtypesOf(ONNX_DTYPES),
};
