/**
 * The committed record of the trained zoo (zoo/trained-manifest.json): per checkpoint its
 * hyperparameters and measured test accuracy, so a regeneration can be checked (±0.5 points).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetName } from '../lib/data/datasets.ts';

export const DEFAULT_TRAINED_ZOO_DIR = '/root/.cache/weightlens/zoo/trained';
export const MANIFEST_PATH = join(dirname(fileURLToPath(import.meta.url)), 'trained-manifest.json');
/** Allowed drift of a regenerated test accuracy (0.5 percentage points). */
export const ACCURACY_TOLERANCE = 0.005;

export interface ManifestEntry {
  id: string;
  run: string;
  set: string;
  varies: string;
  epoch: number;
  step: number;
  dataset: DatasetName;
  hyperparameters: Record<string, number | string>;
  test_accuracy: number;
}

export interface TrainedZooManifest {
  description: string;
  tfjs: string;
  backend: string;
  checkpoints: ManifestEntry[];
}

/** Compare regenerated accuracies with the committed manifest; returns the lines that differ. */
export function compareWithManifest(manifest: TrainedZooManifest, regenerated: ManifestEntry[]): string[] {
  const byId = new Map(regenerated.map((e) => [e.id, e]));
  const problems: string[] = [];
  for (const expected of manifest.checkpoints) {
    const got = byId.get(expected.id);
    if (got === undefined) continue;
    const delta = got.test_accuracy - expected.test_accuracy;
    if (Math.abs(delta) > ACCURACY_TOLERANCE) {
      problems.push(
        `${expected.id}: ${(got.test_accuracy * 100).toFixed(2)}% vs manifest ${(expected.test_accuracy * 100).toFixed(2)}%`,
      );
    }
  }
  return problems;
}
