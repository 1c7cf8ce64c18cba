/**
 * Copies a few trained-zoo checkpoints into zoo/default/ (committed): the small zoo the README's
 * main job sweeps (`npx weightlens sweep zoo/default --wait`). Chosen to span good and bad test
 * accuracy and both architectures (dense and conv2d layers); each is under 1 MB.
 *
 *   npx tsx zoo/make-default.ts [--from /root/.cache/weightlens/zoo/trained]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/errors.ts';
import { DEFAULT_TRAINED_ZOO_DIR } from './manifest.ts';

export const DEFAULT_ZOO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'default');
export const DEFAULT_ZOO_IDS = [
  'fmnist-mlp-base-ep00',
  'fmnist-mlp-base-ep01',
  'fmnist-mlp-base-ep03',
  'fmnist-mlp-bs1024-ep03',
  'fmnist-mlp-lr0.002-ep03',
  'fmnist-cnn-base-ep01',
  'fmnist-cnn-base-ep03',
] as const;
const FILES = ['model.json', 'weights.bin', 'model.safetensors', 'weightlens.json'] as const;

function main(): void {
  const { values } = parseArgs({ options: { from: { type: 'string', default: DEFAULT_TRAINED_ZOO_DIR } } });
  const missing = DEFAULT_ZOO_IDS.filter((id) => !existsSync(join(values.from, id, 'weightlens.json')));
  if (missing.length)
    throw new ConfigError(`not trained yet: ${missing.join(', ')} (run \`npm run zoo:train\`)`);
  rmSync(DEFAULT_ZOO_DIR, { recursive: true, force: true });
  const lines = [
    '# Default zoo',
    '',
    'A few checkpoints of the trained zoo (made by `npm run zoo:train`, copied by `npx tsx zoo/make-default.ts`),',
    "for the README's main job: `npx weightlens sweep zoo/default --wait`. Each directory holds the same weights",
    'as a TF.js layers model (model.json + weights.bin) and as model.safetensors (TF.js tensor names, dense',
    'kernels [in, out], conv kernels HWIO, `__metadata__.kernel_layout = "HWIO"`), plus weightlens.json with the',
    'test accuracy measured on the official Fashion-MNIST test split.',
    '',
    '| checkpoint | architecture | varied | epoch | test accuracy |',
    '|---|---|---|---|---|',
  ];
  let total = 0;
  for (const id of DEFAULT_ZOO_IDS) {
    mkdirSync(join(DEFAULT_ZOO_DIR, id), { recursive: true });
    for (const file of FILES) {
      copyFileSync(join(values.from, id, file), join(DEFAULT_ZOO_DIR, id, file));
      total += statSync(join(DEFAULT_ZOO_DIR, id, file)).size;
    }
    const sidecar = JSON.parse(readFileSync(join(DEFAULT_ZOO_DIR, id, 'weightlens.json'), 'utf8')) as {
      architecture: string;
      epoch: number;
      known_test_accuracy: number;
      hyperparameters: { varies: string };
    };
    lines.push(
      `| ${id} | ${sidecar.architecture} | ${sidecar.hyperparameters.varies} | ${sidecar.epoch} | ${(sidecar.known_test_accuracy * 100).toFixed(2)} % |`,
    );
  }
  writeFileSync(join(DEFAULT_ZOO_DIR, 'README.md'), `${lines.join('\n')}\n`);
  console.log(`zoo/default: ${DEFAULT_ZOO_IDS.length} checkpoints, ${(total / 1e6).toFixed(2)} MB`);
}

main();
