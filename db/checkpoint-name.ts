/** How the dashboard's queries name a stored checkpoint. */

/**
 * A short human name: the sidecar's name if any, else the end of the URI. Checkpoints are often
 * directories of generic files (step-0003/model.safetensors), so a generic file name keeps its parent.
 */
export function checkpointDisplayName(uri: string, metadataName: string | null | undefined): string {
  if (metadataName) return metadataName;
  const segments = uri.replace(/\/+$/, '').split('/');
  const last = segments[segments.length - 1] ?? uri;
  const parent = segments.length > 3 ? segments[segments.length - 2] : undefined;
  const generic = /^(model|pytorch_model|tf_model|weights|checkpoint|adapter_model)([.-]|$)/i.test(last);
  return generic && parent ? `${parent}/${last}` : last;
}
