/**
 * The randomized-ESD control: a copy of each zoo checkpoint whose weight matrices have their
 * entries shuffled (a seeded permutation per tensor). Shuffling keeps every entry, hence the
 * Frobenius norm and the entry distribution, but destroys the correlations training put in; if a
 * metric predicts accuracy as well on the shuffled copies, it is reading scale, not learned
 * structure (Martin & Mahoney's randomization test). Written in TF.js format only (model.json +
 * weights.bin), so each directory is one checkpoint with an unambiguous conv layout.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadInputError } from '../../lib/errors.ts';
import { SeededRandom } from '../../lib/random.ts';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

interface ModelJson {
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Shuffle `values` in place with a permutation seeded by `seed`. */
export function shuffleEntries(values: Float32Array, seed: number): void {
  const rng = new SeededRandom(seed);
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}

/** Write the shuffled copy of checkpoint `id` from `zooDir` into `controlDir/id`. Idempotent. */
export function writeShuffledCheckpoint(zooDir: string, controlDir: string, id: string): void {
  const source = join(zooDir, id);
  const target = join(controlDir, id);
  if (existsSync(join(target, 'weights.bin'))) return;
  const modelJson = JSON.parse(readFileSync(join(source, 'model.json'), 'utf8')) as ModelJson;
  const group = modelJson.weightsManifest[0];
  if (modelJson.weightsManifest.length !== 1 || group === undefined || group.paths.length !== 1) {
    throw new BadInputError('expected one weights group with one shard', {
      file: join(source, 'model.json'),
    });
  }
  const raw = readFileSync(join(source, group.paths[0]!));
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let offset = 0;
  for (const spec of group.weights) {
    if (spec.dtype !== 'float32')
      throw new BadInputError(`dtype ${spec.dtype}`, { file: source, tensor: spec.name });
    const count = spec.shape.reduce((a, b) => a * b, 1);
    // Biases (1-D) are not analyzed; leave them as they are.
    if (spec.shape.length >= 2)
      shuffleEntries(weights.subarray(offset, offset + count), hashString(`${id}/${spec.name}`));
    offset += count;
  }
  mkdirSync(target, { recursive: true });
  copyFileSync(join(source, 'model.json'), join(target, 'model.json'));
  writeFileSync(join(target, group.paths[0]!), new Uint8Array(weights.buffer));
  const sidecar = JSON.parse(readFileSync(join(source, 'weightlens.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  // The shuffled weights have no measured accuracy of their own; say whose control they are.
  delete sidecar.known_test_accuracy;
  sidecar.family = `${String(sidecar.family)}/shuffled-control`;
  sidecar.run = `${String(sidecar.run)}-shuffled`;
  sidecar.control_of = id;
  writeFileSync(join(target, 'weightlens.json'), `${JSON.stringify(sidecar, null, 2)}\n`);
}
