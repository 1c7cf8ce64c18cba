/** Helpers the readers' descriptors (FormatDescriptor in types.ts) are built from. */

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
