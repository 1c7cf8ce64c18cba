/**
 * `npm run experiment:quantization` — measured quality after weight-only mixed-precision
 * quantization planned by each method (lib/plan) at equal average bits (3, 4, 5), beside uniform
 * quantization at those widths and a random allocation; and magnitude pruning at 50/70/90 %
 * sparsity: α-guided ratios vs one ratio per layer vs one global magnitude threshold.
 * Models: the default zoo's trained Fashion-MNIST TF.js models (test accuracy on the official
 * 10 000-image test split; Hessian traces exist for them) and the pretrained ESRGAN-slim ×2
 * super-resolution model (PSNR against the original images; no curvature: its loss is not a
 * classification loss, so only the data-free and random plans run there).
 * Plans use candidate widths {2, 3, 4, 5, 6, 8}, the symmetric per-output-channel quantizer
 * (HAWQ-V3) and fake-quantized float32 weights; biases stay float32. HAWQ runs twice: on traces from
 * random inputs labelled by the model (data-free) and from the first training images (real
 * calibration data; test images are only used to measure); ZeroQ's KL sensitivity likewise on
 * data-free inputs (ZeroQ-distilled where the model has BatchNormalization layers to match, random
 * inputs labelled by the model otherwise) and on the same training images. Everything is seeded:
 * the same command gives the same numbers. Writes docs/experiments/quantization.md,
 * quantization.json and SVG plots.
 *
 * `--models a,b` plans only the models whose id contains one of the strings and `--out <dir>` writes
 * there instead (quick checks); the report in docs/ comes from the plain command.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initCurvatureBackend } from '../lib/curvature/backend.ts';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { type ImageDataset, loadDataset } from '../lib/data/datasets.ts';
import { UnsupportedError } from '../lib/errors.ts';
import { applyPlan, type OutputTensor, type PlanInputs, planCheckpoint } from '../lib/plan/checkpoint.ts';
import { alphaInputs, klInputs, traceInputs } from '../lib/plan/inputs.ts';
import type { PlanMethod, PlanOptions, PruneAllocation } from '../lib/plan/plan.ts';
import { createStorage } from '../storage/index.ts';
import {
  BUDGETS,
  type ExperimentModel,
  type ExperimentRun,
  type Row,
  renderPlots,
  renderReport,
  SPARSITIES,
} from './quantization-report.ts';
import { testAccuracy } from './trainer.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ZOO = join(REPO_ROOT, 'zoo', 'default');
const PRETRAINED = join(ZOO, 'pretrained', 'esrgan-slim', 'x2', 'model.json');
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const REPORT_DIR = flag('--out') ?? join(REPO_ROOT, 'docs', 'experiments');
const ONLY = flag('--models')?.split(',');
const BITS = [2, 3, 4, 5, 6, 8];
const CALIBRATION = 128;
const PROBES = 10;
const RANDOM_SEEDS = [1, 2];
const SR_IMAGES = 128;
const PRUNE_BY: readonly PruneAllocation[] = ['uniform', 'alpha', 'global'];

/** Seeded sensitivities for the random allocation (same solver, random Ω). */
function randomInputs(names: string[], seed: number): PlanInputs {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return { traces: new Map(names.map((n) => [n, { trace: next() + 1e-3, params: 1 }])) };
}

/** A TF.js layers model with the planned tensors in place of its weights. */
async function withWeights(modelUri: string, planned: OutputTensor[]) {
  const model = await loadLayersModelFromStorage(modelUri, createStorage());
  const byName = new Map(planned.map((t) => [t.name, t]));
  const values = model.weights.map((w) => {
    const t = byName.get(w.originalName) ?? byName.get(w.name);
    if (!t) throw new Error(`${modelUri}: no planned tensor for weight ${w.originalName}`);
    return tf.tensor(t.data, t.shape);
  });
  model.setWeights(values);
  for (const v of values) v.dispose();
  return model;
}

function trainBatch(train: ImageDataset['train']) {
  const pixels = train.height * train.width;
  const x = new Float32Array(CALIBRATION * pixels);
  for (let i = 0; i < x.length; i++) x[i] = train.images[i]! / 255;
  return {
    batch: {
      x: tf.tensor4d(x, [CALIBRATION, train.height, train.width, 1]),
      labels: Int32Array.from(train.labels.subarray(0, CALIBRATION)),
    },
    source: `fashion-mnist:train[0:${CALIBRATION}]`,
  };
}

/**
 * Super-resolution pairs from the first test images: high resolution = the 28×28 image as RGB in
 * [0, 255] (the model's range), low resolution = its 2×2 means (14×14).
 */
function srPairs(test: ImageDataset['test']) {
  const [h, w] = [test.height, test.width];
  const hr = new Float32Array(SR_IMAGES * h * w * 3);
  const lr = new Float32Array(SR_IMAGES * (h / 2) * (w / 2) * 3);
  for (let n = 0; n < SR_IMAGES; n++) {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = test.images[n * h * w + y * w + x]!;
        for (let c = 0; c < 3; c++) hr[((n * h + y) * w + x) * 3 + c] = v;
      }
    for (let y = 0; y < h / 2; y++)
      for (let x = 0; x < w / 2; x++) {
        const at = (dy: number, dx: number) => test.images[n * h * w + (2 * y + dy) * w + 2 * x + dx]!;
        const v = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4;
        for (let c = 0; c < 3; c++) lr[((n * (h / 2) + y) * (w / 2) + x) * 3 + c] = v;
      }
  }
  return { hr, lr, shape: [SR_IMAGES, h / 2, w / 2, 3] as [number, number, number, number] };
}

/** PSNR (dB, peak 255) of the model's ×2 output, clipped to [0, 255], against the originals. */
function psnr(model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }, pairs: ReturnType<typeof srPairs>) {
  const out = tf.tidy(() => {
    const y = model.predict(tf.tensor4d(pairs.lr, pairs.shape));
    return tf.clipByValue(Array.isArray(y) ? y[0]! : y, 0, 255);
  });
  const values = out.dataSync();
  out.dispose();
  if (values.length !== pairs.hr.length)
    throw new Error(`ESRGAN output has ${values.length} values, expected ${pairs.hr.length}`);
  let se = 0;
  for (let i = 0; i < values.length; i++) se += (values[i]! - pairs.hr[i]!) ** 2;
  return 10 * Math.log10(255 ** 2 / (se / values.length));
}

function experimentModels(dataset: ImageDataset): ExperimentModel[] {
  const zoo = readdirSync(ZOO)
    .filter((d) => d.startsWith('fmnist-') && !d.endsWith('-ep00'))
    .sort((a, b) => Number(a.includes('cnn')) - Number(b.includes('cnn')) || a.localeCompare(b));
  const models: ExperimentModel[] = zoo.map((id) => ({
    id,
    checkpoint: join(ZOO, id, 'model.safetensors'),
    modelUri: join(ZOO, id, 'model.json'),
    metric: 'accuracy',
    curvature: true,
    measure: (model) => testAccuracy(model, dataset.test) * 100,
  }));
  // The quick models first (the MLPs, then the pretrained one, then the CNNs): the report is
  // rewritten after every model.
  const firstCnn = models.findIndex((m) => m.id.includes('cnn'));
  if (existsSync(PRETRAINED)) {
    const pairs = srPairs(dataset.test);
    models.splice(firstCnn < 0 ? models.length : firstCnn, 0, {
      id: 'esrgan-slim-x2 (pretrained)',
      checkpoint: PRETRAINED,
      modelUri: PRETRAINED,
      metric: 'psnr',
      curvature: false,
      measure: (model) => psnr(model, pairs),
    });
  }
  return ONLY ? models.filter((m) => ONLY.some((s) => m.id.includes(s))) : models;
}

async function main() {
  await initCurvatureBackend('wasm', () => {});
  const storage = createStorage();
  const dataset = loadDataset('fashion-mnist');
  const models = experimentModels(dataset);
  const rows: Row[] = [];
  const sources: Record<string, string> = {};
  const started = Date.now();
  const load = [loadavg()[0]!];
  const run = (): ExperimentRun => ({
    seconds: (Date.now() - started) / 1000,
    load: [Math.min(...load), Math.max(...load)],
    planned: models.length,
    pretrainedMissing: !existsSync(PRETRAINED),
    calibration: CALIBRATION,
    probes: PROBES,
    srImages: SR_IMAGES,
    zeroqSources: sources,
  });
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  for (const m of models) {
    const base: PlanOptions = {
      method: 'uniform',
      bits: BITS,
      avgBits: 8,
      scheme: 'symmetric',
      epsilon: 0.3,
    };
    const identity = await planCheckpoint(m.checkpoint, storage, base);
    const names = identity.planned.map((p) => p.tensor.name);
    const fp32Model = await loadLayersModelFromStorage(m.modelUri, storage);
    const fp32 = m.measure(fp32Model);
    fp32Model.dispose();
    process.stderr.write(`${m.id}: fp32 ${fp32.toFixed(2)} (${stamp()})\n`);
    const alpha = await alphaInputs(m.checkpoint, storage);
    const inputs: Record<string, { method: PlanMethod; inputs: PlanInputs }> = {
      uniform: { method: 'uniform', inputs: {} },
      alpha: { method: 'alpha', inputs: alpha },
    };
    if (m.curvature) {
      inputs['hawq-random'] = {
        method: 'hawq',
        inputs: await traceInputs(m.modelUri, names, storage, {
          data: { random: true, samples: CALIBRATION, seed: 1 },
          probes: PROBES,
        }),
      };
      const calibration = trainBatch(dataset.train);
      inputs['hawq-train'] = {
        method: 'hawq',
        inputs: await traceInputs(m.modelUri, names, storage, {
          data: { samples: CALIBRATION, seed: 1 },
          batch: calibration,
          probes: PROBES,
        }),
      };
      const kl = (data: { random?: boolean; distilled?: boolean }, batch?: typeof calibration) =>
        klInputs(m.modelUri, identity.ckpt, identity.planned, storage, {
          data: { ...data, samples: CALIBRATION, seed: 1 },
          ...(batch ? { batch } : {}),
          probes: 0,
          bits: BITS,
          scheme: 'symmetric',
        });
      // ZeroQ distils inputs that match BatchNormalization statistics; without BN layers there is
      // nothing to match, and random inputs labelled by the model are the data-free inputs.
      let dataFree: Awaited<ReturnType<typeof kl>>;
      try {
        dataFree = await kl({ distilled: true });
      } catch (err) {
        if (!(err instanceof UnsupportedError)) throw err;
        dataFree = await kl({ random: true });
      }
      sources[m.id] = dataFree.source;
      inputs['zeroq-datafree'] = { method: 'zeroq', inputs: dataFree };
      // traceInputs disposed the calibration batch it was given: the same images again.
      const images = trainBatch(dataset.train);
      inputs['zeroq-train'] = { method: 'zeroq', inputs: await kl({}, images) };
      images.batch.x.dispose();
    }
    for (const s of RANDOM_SEEDS) inputs[`random-${s}`] = { method: 'hawq', inputs: randomInputs(names, s) };
    process.stderr.write(`  inputs done (${stamp()})\n`);
    // Plans that give every layer the same bits and pruning ratios give the same weights: measure once.
    const measured = new Map<string, number>();
    const record = async (
      kind: Row['kind'],
      method: string,
      budget: number,
      result: Awaited<ReturnType<typeof planCheckpoint>>,
    ) => {
      const plan = result.plan;
      const key = JSON.stringify(plan.layers.map((l) => [l.bits, l.sparsity]));
      let value = measured.get(key);
      if (value === undefined) {
        const model = await withWeights(m.modelUri, await applyPlan(result));
        value = m.measure(model);
        model.dispose();
        measured.set(key, value);
      }
      rows.push({
        model: m.id,
        metric: m.metric,
        fp32,
        kind,
        method,
        budget,
        avg_bits: plan.avg_bits,
        sparsity: plan.sparsity,
        value,
        bits: plan.layers.map((l) => l.bits),
        ratios: plan.layers.map((l) => l.sparsity),
      });
      process.stderr.write(
        `  ${kind} ${method} ${budget}: ${value.toFixed(2)} (bits ${plan.layers.map((l) => l.bits).join('/')})\n`,
      );
    };
    for (const budget of BUDGETS) {
      for (const [name, { method, inputs: given }] of Object.entries(inputs)) {
        const options: PlanOptions = { ...base, method, avgBits: budget };
        await record(
          'quantization',
          name,
          budget,
          await planCheckpoint(m.checkpoint, storage, options, given),
        );
      }
    }
    for (const sparsity of SPARSITIES) {
      for (const pruneBy of PRUNE_BY) {
        // Weights stay at the finest grid (8 bits) so that the comparison is about the ratios.
        const options: PlanOptions = { ...base, bits: [8], avgBits: 8, sparsity, pruneBy };
        const result = await planCheckpoint(m.checkpoint, storage, options, pruneBy === 'alpha' ? alpha : {});
        await record('pruning', pruneBy, sparsity, result);
      }
    }
    load.push(loadavg()[0]!);
    writeOutputs(rows, run());
  }
  process.stderr.write(`wrote docs/experiments/quantization.md in ${stamp()}\n`);
}

function writeOutputs(rows: Row[], run: ExperimentRun) {
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(join(REPORT_DIR, 'quantization.json'), `${JSON.stringify({ ...run, rows }, null, 1)}\n`);
  writeFileSync(join(REPORT_DIR, 'quantization.md'), renderReport(rows, run));
  for (const [file, svg] of renderPlots(rows)) writeFileSync(join(REPORT_DIR, file), svg);
}

await main();
