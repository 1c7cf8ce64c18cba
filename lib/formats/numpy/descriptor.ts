import { dtypesOf, extensionDescriptor } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { DESCR_DTYPES } from './npy.ts';

const numpyFields = { kernelLayout: 'OIHW', stateDict: false, dtypes: dtypesOf(DESCR_DTYPES) } as const;

export const npzDescriptor = extensionDescriptor(['npz'], { preference: 8, ...numpyFields });

/** A lone .npy holds one tensor: never "the model" of a directory. */
export const npyDescriptor: FormatDescriptor = { fileNames: /\.npy$/i, preference: 9, ...numpyFields };
