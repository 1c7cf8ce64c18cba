import { conventionalModelNames, dtypesOf, extensionDescriptor } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { H5_DTYPES } from './h5-dtypes.ts';

const kerasFields = {
  kernelLayout: 'HWIO',
  stateDict: false,
  dtypes: [...dtypesOf(H5_DTYPES.float), ...dtypesOf(H5_DTYPES.signed), ...dtypesOf(H5_DTYPES.unsigned)],
} as const;

export const kerasArchiveDescriptor = extensionDescriptor(['keras'], { preference: 4, ...kerasFields });

/** Weights-only HDF5 files; only `model.h5` (not `.hdf5`) is a conventional model name. */
export const kerasH5Descriptor: FormatDescriptor = {
  fileNames: /\.(h5|hdf5)$/i,
  conventionalNames: conventionalModelNames(['h5']),
  preference: 5,
  ...kerasFields,
};
