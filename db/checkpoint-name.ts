/** How a stored checkpoint is named in leaderboards, tables and charts (CLI and dashboard). */

/** File names that say nothing about the model: such a file is named with its folder. */
const GENERIC_FILE =
  /^(model|pytorch_model|tf_model|adapter_model|weights?|checkpoint|ckpt|params)([-_.]|$)/i;

/**
 * A short human name: the sidecar's name if any, else the end of the URI. Checkpoints are often
 * directories of generic files (step-0003/model.safetensors), so a generic file name keeps its parent.
 */
export function checkpointDisplayName(uri: string, metadataName?: string | null): string {
  if (metadataName) return metadataName;
  const segments = uri.replace(/\/+$/, '').split('/');
  const last = segments[segments.length - 1] ?? uri;
  const parent = segments.length > 1 ? segments[segments.length - 2] : undefined;
  const named = parent !== undefined && parent !== '' && !parent.endsWith(':');
  return GENERIC_FILE.test(last) && named ? `${parent}/${last}` : last;
}
