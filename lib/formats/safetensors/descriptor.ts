import { conventionalModelNames } from '../descriptor.ts';
import { PLAIN_DTYPES } from '../dtypes.ts';
import type { FormatDescriptor } from '../types.ts';

export const safetensorsDescriptor: FormatDescriptor = {
  fileNames: /\.safetensors(\.index\.json)?$/i,
  conventionalNames: conventionalModelNames(['safetensors']),
  preference: 0,
  kernelLayout: 'OIHW',
  stateDict: true,
  dtypes: PLAIN_DTYPES,
  directory(names) {
    // With an index, the .safetensors files of the directory are its shards.
    const indexed = names.some((n) => n.endsWith('.safetensors.index.json'));
    return { isPart: (name) => indexed && name.endsWith('.safetensors') };
  },
};
