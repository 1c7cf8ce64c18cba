/**
 * The pretrained zoo installed by zoo/install-pretrained.sh: where it lives and which checkpoint
 * files each package holds. Packages and versions come from zoo/pretrained-packages.txt (shared
 * with the install script), the model files from per-package patterns below.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError } from '../lib/errors.ts';
import type { CheckpointFormat } from '../lib/formats/types.ts';

export const DEFAULT_MODELS_DIR = '/root/.cache/weightlens/models';

/** Root of installed models: WEIGHTLENS_MODELS_DIR, or /root/.cache/weightlens/models. */
export function modelsDir(): string {
  return process.env.WEIGHTLENS_MODELS_DIR || DEFAULT_MODELS_DIR;
}

export interface PretrainedPackage {
  name: string;
  version: string;
  /** `<modelsDir>/npm/<name>@<version>` */
  dir: string;
}

export interface PretrainedModel {
  /** "<package>@<version>/<path inside the package>" */
  id: string;
  package: PretrainedPackage;
  /** Absolute path of the file to open (model.json, manifest, .tflite, .onnx, .h5). */
  path: string;
  format: CheckpointFormat;
}

/** The package@version pins, in file order. */
export function pretrainedPackages(): PretrainedPackage[] {
  const list = readFileSync(join(import.meta.dirname, 'pretrained-packages.txt'), 'utf8');
  return list
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((spec) => {
      const at = spec.lastIndexOf('@');
      return { name: spec.slice(0, at), version: spec.slice(at + 1), dir: join(modelsDir(), 'npm', spec) };
    });
}

/** Which files of an installed package are checkpoints, by path relative to the package. */
function formatOf(relativePath: string): CheckpointFormat | undefined {
  if (relativePath.startsWith('node_modules/') || relativePath.includes('/.')) return undefined;
  if (relativePath.endsWith('.tflite')) return 'tflite';
  if (relativePath.endsWith('.onnx')) return 'onnx';
  if (relativePath.endsWith('.h5')) return 'keras-h5';
  if (/(^|\/)model\.json$/.test(relativePath) || relativePath.endsWith('weights_manifest.json'))
    return 'tfjs';
  // human-models names its graph models <model>.json next to <model>.bin.
  if (/^models\/[^/]+\.json$/.test(relativePath) && !relativePath.endsWith('config.json')) return 'tfjs';
  return undefined;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Every checkpoint file of the installed zoo, sorted by id. Throws ConfigError naming the install
 * script when a package is missing (callers must not silently skip the zoo).
 */
export function listPretrainedModels(): PretrainedModel[] {
  const models: PretrainedModel[] = [];
  for (const pkg of pretrainedPackages()) {
    if (!existsSync(join(pkg.dir, '.complete'))) {
      throw new ConfigError(
        `pretrained package ${pkg.name}@${pkg.version} is not installed in ${modelsDir()}/npm: run \`bash zoo/install-pretrained.sh\``,
      );
    }
    for (const path of walk(pkg.dir)) {
      const rel = relative(pkg.dir, path);
      const format = formatOf(rel);
      if (format) models.push({ id: `${pkg.name}@${pkg.version}/${rel}`, package: pkg, path, format });
    }
  }
  return models.sort((a, b) => a.id.localeCompare(b.id));
}
