/** Helpers the readers' descriptors (FormatDescriptor in types.ts) are built from. */
import type { FormatDescriptor } from './types.ts';

/** Stems Hugging Face, Keras and TF use for "the model" of a directory (shard suffix optional). */
const CONVENTIONAL_STEM = '(model|pytorch_model|tf_model|adapter_model)([-.]\\d{5}-of-\\d{5})?';

/** Conventional model names with one of `extensions` (without dots), optionally `.index.json`. */
export function conventionalModelNames(extensions: readonly string[]): RegExp {
  return new RegExp(`^${CONVENTIONAL_STEM}\\.(${extensions.join('|')})(\\.index\\.json)?$`, 'i');
}

/** The distinct non-null values of a type table. */
export function dtypesOf<T>(table: Record<string | number, T | null> | readonly (T | null)[]): T[] {
  return [...new Set(Object.values(table).filter((v): v is T => v !== null))];
}

/**
 * The descriptor of a format whose checkpoints are single files named by their extension: the
 * file-name pattern and the conventional model names both come from `extensions` (no dots).
 */
export function extensionDescriptor(
  extensions: readonly string[],
  rest: Omit<FormatDescriptor, 'fileNames' | 'conventionalNames'>,
): FormatDescriptor {
  return {
    fileNames: new RegExp(`\\.(${extensions.join('|')})$`, 'i'),
    conventionalNames: conventionalModelNames(extensions),
    ...rest,
  };
}
