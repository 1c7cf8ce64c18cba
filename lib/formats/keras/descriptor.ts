import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { H5_DTYPES } from './h5-dtypes.ts';

const dtypes = [...dtypesOf(H5_DTYPES.float), ...dtypesOf(H5_DTYPES.signed), ...dtypesOf(H5_DTYPES.unsigned)];

export const kerasArchiveDescriptor: FormatDescriptor = {
  fileNames: /\.keras$/i,
  conventionalNames: conventionalModelNames(['keras']),
  preference: 4,
  kernelLayout: 'HWIO',
  stateDict: false,
  dtypes,
};

export const kerasH5Descriptor: FormatDescriptor = {
  fileNames: /\.(h5|hdf5)$/i,
  conventionalNames: conventionalModelNames(['h5']),
  preference: 5,
  kernelLayout: 'HWIO',
  stateDict: false,
  dtypes,
};
