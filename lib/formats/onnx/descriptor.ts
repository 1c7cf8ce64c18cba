import { dtypesOf, extensionDescriptor } from '../descriptor.ts';
import { ONNX_DTYPES } from './tensor-proto.ts';

export const onnxDescriptor = extensionDescriptor(['onnx'], {
  preference: 3,
  kernelLayout: 'OIHW',
  stateDict: false,
  dtypes: dtypesOf(ONNX_DTYPES),
});
