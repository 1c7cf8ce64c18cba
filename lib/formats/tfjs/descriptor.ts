import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { LOGICAL_DTYPES, QUANTIZED_DTYPES } from './manifest.ts';

export const tfjsDescriptor: FormatDescriptor = {
  fileNames: /(^model\.json|weights_manifest\.json)$/i,
  conventionalNames: conventionalModelNames(['json']),
  preference: 7,
  kernelLayout: 'HWIO',
  stateDict: false,
  dtypes: dtypesOf({ ...LOGICAL_DTYPES, ...QUANTIZED_DTYPES }),
  directory(names) {
    // Graph models may be named <stem>.json next to their <stem>.bin shard (human-models).
    const graphStems = new Set(
      names
        .filter((n) => n.endsWith('.json') && names.includes(`${n.slice(0, -'.json'.length)}.bin`))
        .map((n) => n.slice(0, -'.json'.length)),
    );
    const hasModelJson = names.includes('model.json');
    const hasTfjs =
      graphStems.size > 0 || hasModelJson || names.some((n) => n.endsWith('weights_manifest.json'));
    return {
      isEntry: (name) => name.endsWith('.json') && graphStems.has(name.slice(0, -'.json'.length)),
      // The .bin files are the manifest's weight shards; a manifest beside model.json is its copy.
      isPart: (name) =>
        hasTfjs && (name.endsWith('.bin') || (hasModelJson && name.endsWith('weights_manifest.json'))),
    };
  },
};
