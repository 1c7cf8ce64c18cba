import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { DESCR_DTYPES } from './npy.ts';

export const npzDescriptor: FormatDescriptor = {
  fileNames: /\.npz$/i,
  conventionalNames: conventionalModelNames(['npz']),
  preference: 8,
  kernelLayout: 'OIHW',
  stateDict: false,
  dtypes: dtypesOf(DESCR_DTYPES),
};

export const npyDescriptor: FormatDescriptor = {
  fileNames: /\.npy$/i,
  preference: 9,
  kernelLayout: 'OIHW',
  stateDict: false,
  dtypes: dtypesOf(DESCR_DTYPES),
};
