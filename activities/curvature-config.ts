/**
 * Small, tfjs-free helpers around curvature results: the configuration hash that keys
 * CurvatureResult rows, where a checkpoint's differentiable model lives, how a data source is
 * described in rows, and the model size read from a model.json (to size activity timeouts).
 * Kept apart from activities/curvature.ts so cpu workers and the CLI never load tfjs.
 */
import { createHash } from 'node:crypto';
import type { CurvatureSettings } from '../contracts/curvature.ts';
import type { DataSourceOptions } from '../lib/curvature/batch.ts';

export type { CurvatureSettings } from '../contracts/curvature.ts';

/** Stable hex hash of the data source and settings (key order and undefined fields ignored). */
export function curvatureConfigHash(data: DataSourceOptions, settings: CurvatureSettings): string {
  const canonical = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical({ data, settings })))
    .digest('hex');
}

/**
 * The TF.js layers model.json of a checkpoint: the checkpoint itself when it is one, otherwise
 * the model.json in the same directory/prefix (the zoo stores model.safetensors beside
 * model.json + weights.bin).
 */
export function curvatureModelUri(checkpointUri: string): string {
  if (/\.json$/i.test(checkpointUri)) return checkpointUri;
  const slash = checkpointUri.lastIndexOf('/');
  return slash < 0 ? 'model.json' : `${checkpointUri.slice(0, slash + 1)}model.json`;
}

/** The data source as rows record it before a batch exists (skips, failures): "random:256"… */
export function describeCurvatureData(data: DataSourceOptions): string {
  let text: string;
  if (data.distilled) text = `distilled:${data.samples}`;
  else if (data.random) text = `random:${data.samples}`;
  else text = `${data.data ?? '?'}[0:${data.samples}]`;
  return data.adversarial ? `${text}+${data.adversarial}(${data.epsilon})` : text;
}

/**
 * Parameter and weight-tensor counts from a model.json's weightsManifest; nulls when the text is
 * not a layers model (the curvature activity then reports the precise problem).
 */
export function modelJsonSize(text: string): { parameters: number | null; weightTensors: number | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { parameters: null, weightTensors: null };
  }
  const manifest = (json as { weightsManifest?: unknown })?.weightsManifest;
  if (!Array.isArray(manifest)) return { parameters: null, weightTensors: null };
  let parameters = 0;
  let weightTensors = 0;
  for (const group of manifest) {
    const weights = (group as { weights?: unknown })?.weights;
    if (!Array.isArray(weights)) return { parameters: null, weightTensors: null };
    for (const weight of weights) {
      const shape = (weight as { shape?: unknown })?.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        return { parameters: null, weightTensors: null };
      }
      parameters += (shape as number[]).reduce((a, b) => a * b, 1);
      weightTensors += 1;
    }
  }
  return { parameters, weightTensors };
}
