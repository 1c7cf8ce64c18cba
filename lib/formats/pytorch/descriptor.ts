import { conventionalModelNames, dtypesOf } from '../descriptor.ts';
import type { FormatDescriptor } from '../types.ts';
import { STORAGE_DTYPES } from './torch-globals.ts';

/** Hugging Face's primary weight files: when present, other torch files in the directory are auxiliary. */
const HF_PRIMARY = /^(model|pytorch_model|adapter_model)([-.].*)?\.(safetensors|bin)(\.index\.json)?$/i;
const TORCH_FILE = /\.(bin|pt|pth|ckpt)$/;

export const pytorchDescriptor: FormatDescriptor = {
  fileNames: /\.(bin|pt|pth|ckpt|bin\.index\.json)$/i,
  conventionalNames: conventionalModelNames(['bin']),
  preference: 1,
  kernelLayout: 'OIHW',
  stateDict: true,
  dtypes: dtypesOf(STORAGE_DTYPES),
  directory(names) {
    const indexed = names.some((n) => n.endsWith('.bin.index.json'));
    const hasHfPrimary = names.some((n) => HF_PRIMARY.test(n));
    return {
      isPart: (name) =>
        (indexed && name.endsWith('.bin')) ||
        (hasHfPrimary && TORCH_FILE.test(name) && !HF_PRIMARY.test(name)),
    };
  },
};
