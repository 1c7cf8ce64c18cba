/**
 * `npm run experiment:quantization` — measured Fashion-MNIST test accuracy of the default zoo's
 * trained TF.js models after weight-only mixed-precision quantization planned by each method
 * (lib/plan) at equal average bits (3, 4, 5), beside uniform quantization at those widths and a
 * random allocation; and magnitude pruning at 50/70/90 % sparsity, α-guided ratios vs uniform.
 * Plans use candidate widths {2, 3, 4, 5, 6, 8}, the symmetric per-output-channel quantizer
 * (HAWQ-V3) and fake-quantized float32 weights; biases stay float32. HAWQ runs twice: on Hessian
 * traces from 256 random inputs labelled by the model (data-free) and from the first 256 training
 * images (real calibration data; the 10 000 test images are only used to measure accuracy).
 * Writes docs/experiments/quantization.md, quantization.json and SVG plots; every number in the
 * report comes from this one command.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initCurvatureBackend } from '../lib/curvature/backend.ts';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { loadDataset } from '../lib/data/datasets.ts';
import { applyPlan, type PlanInputs, planCheckpoint } from '../lib/plan/checkpoint.ts';
import { alphaInputs, traceInputs } from '../lib/plan/inputs.ts';
import type { Plan, PlanMethod, PlanOptions } from '../lib/plan/plan.ts';
import { createStorage } from '../storage/index.ts';
import { testAccuracy } from './trainer.ts';
import { scatterSvg } from './trends/svg.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ZOO = join(REPO_ROOT, 'zoo', 'default');
const REPORT_DIR = join(REPO_ROOT, 'docs', 'experiments');
const BITS = [2, 3, 4, 5, 6, 8];
const BUDGETS = [3, 4, 5];
const SPARSITIES = [0.5, 0.7, 0.9];
const CALIBRATION = 128;
const PROBES = 10;
const RANDOM_SEEDS = [1, 2];

interface Row {
  model: string;
  architecture: string;
  fp32: number;
  kind: 'quantization' | 'pruning';
  method: string;
  budget: number;
  avg_bits: number;
  sparsity: number;
  accuracy: number;
  bits: number[];
}

/** Seeded sensitivities for the random allocation (same solver, random Ω). */
function randomInputs(names: string[], seed: number): PlanInputs {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const traces = new Map(names.map((n) => [n, { trace: next() + 1e-3, params: 1 }]));
  return { traces };
}

async function accuracyOf(
  modelUri: string,
  planned: Awaited<ReturnType<typeof applyPlan>>,
  test: ReturnType<typeof loadDataset>['test'],
) {
  const storage = createStorage();
  const model = await loadLayersModelFromStorage(modelUri, storage);
  const byName = new Map(planned.map((t) => [t.name, t]));
  const values = model.weights.map((w) => {
    const t = byName.get(w.originalName) ?? byName.get(w.name);
    if (!t) throw new Error(`${modelUri}: no planned tensor for weight ${w.originalName}`);
    return tf.tensor(t.data, t.shape);
  });
  model.setWeights(values);
  for (const v of values) v.dispose();
  const acc = testAccuracy(model, test);
  model.dispose();
  return acc;
}

function trainBatch(train: ReturnType<typeof loadDataset>['train']) {
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

async function main() {
  await initCurvatureBackend('wasm', () => {});
  const storage = createStorage();
  const dataset = loadDataset('fashion-mnist');
  // MLPs first (they are quick); the report is rewritten after every model.
  const models = readdirSync(ZOO)
    .filter((d) => d.startsWith('fmnist-') && !d.endsWith('-ep00'))
    .sort((a, b) => Number(a.includes('cnn')) - Number(b.includes('cnn')) || a.localeCompare(b));
  const rows: Row[] = [];
  const started = Date.now();
  for (const id of models) {
    const dir = join(ZOO, id);
    const checkpoint = join(dir, 'model.safetensors');
    const modelUri = join(dir, 'model.json');
    const architecture = id.includes('cnn') ? 'cnn' : 'mlp';
    const base: PlanOptions = {
      method: 'uniform',
      bits: BITS,
      avgBits: 8,
      scheme: 'symmetric',
      epsilon: 0.3,
    };
    const identity = await planCheckpoint(checkpoint, storage, base);
    const names = identity.planned.map((p) => p.tensor.name);
    const fp32Model = await loadLayersModelFromStorage(modelUri, storage);
    const fp32 = testAccuracy(fp32Model, dataset.test);
    fp32Model.dispose();
    process.stderr.write(`${id}: fp32 ${(fp32 * 100).toFixed(2)} %\n`);
    const stamp = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
    process.stderr.write(`  inputs… (${stamp()})\n`);
    const inputs: Record<string, { method: PlanMethod; inputs: PlanInputs }> = {
      uniform: { method: 'uniform', inputs: {} },
      alpha: { method: 'alpha', inputs: await alphaInputs(checkpoint, storage) },
      'hawq-random': {
        method: 'hawq',
        inputs: await traceInputs(modelUri, names, storage, {
          data: { random: true, samples: CALIBRATION, seed: 1 },
          probes: PROBES,
        }),
      },
      'hawq-train': {
        method: 'hawq',
        inputs: await traceInputs(modelUri, names, storage, {
          data: { samples: CALIBRATION, seed: 1 },
          batch: trainBatch(dataset.train),
          probes: PROBES,
        }),
      },
      ...Object.fromEntries(
        RANDOM_SEEDS.map((s) => [
          `random-${s}`,
          { method: 'hawq' as PlanMethod, inputs: randomInputs(names, s) },
        ]),
      ),
    };
    process.stderr.write(`  inputs done (${stamp()})\n`);
    const record = async (
      kind: Row['kind'],
      method: string,
      budget: number,
      plan: Plan,
      result: Awaited<ReturnType<typeof planCheckpoint>>,
    ) => {
      const accuracy = await accuracyOf(modelUri, await applyPlan(result), dataset.test);
      rows.push({
        model: id,
        architecture,
        fp32,
        kind,
        method,
        budget,
        avg_bits: plan.avg_bits,
        sparsity: plan.sparsity,
        accuracy,
        bits: plan.layers.map((l) => l.bits),
      });
      process.stderr.write(
        `  ${kind} ${method} ${budget}: ${(accuracy * 100).toFixed(2)} % (bits ${plan.layers.map((l) => l.bits).join('/')})\n`,
      );
    };
    for (const budget of BUDGETS) {
      for (const [name, { method, inputs: given }] of Object.entries(inputs)) {
        const options: PlanOptions = { ...base, method, avgBits: budget };
        const result = await planCheckpoint(checkpoint, storage, options, given);
        await record('quantization', name, budget, result.plan, result);
      }
    }
    for (const sparsity of SPARSITIES) {
      for (const method of ['uniform', 'alpha'] as const) {
        // Weights stay at the finest grid (8 bits) so that the comparison is about the ratios.
        const options: PlanOptions = { ...base, method, bits: [8], avgBits: 8, sparsity };
        const result = await planCheckpoint(
          checkpoint,
          storage,
          options,
          method === 'alpha' ? inputs.alpha!.inputs : {},
        );
        await record('pruning', method, sparsity, result.plan, result);
      }
    }
    writeOutputs(rows, (Date.now() - started) / 1000, models.length);
  }
  process.stderr.write(
    `wrote docs/experiments/quantization.md in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

function writeOutputs(rows: Row[], seconds: number, planned: number) {
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(join(REPORT_DIR, 'quantization.json'), `${JSON.stringify({ seconds, rows }, null, 1)}\n`);
  writeFileSync(join(REPORT_DIR, 'quantization.md'), renderReport(rows, seconds, planned));
  for (const budget of BUDGETS) {
    const series = ['alpha', 'hawq-random', 'hawq-train', 'random-1'].map((method) => ({
      label: method,
      points: rows
        .filter((r) => r.kind === 'quantization' && r.budget === budget && r.method === method)
        .map((r) => {
          const uniform = rows.find(
            (u) =>
              u.kind === 'quantization' &&
              u.model === r.model &&
              u.budget === budget &&
              u.method === 'uniform',
          )!;
          return {
            x: uniform.accuracy * 100,
            y: r.accuracy * 100,
            title: `${r.model}: ${(r.accuracy * 100).toFixed(2)} % vs uniform ${(uniform.accuracy * 100).toFixed(2)} %`,
          };
        }),
    }));
    writeFileSync(
      join(REPORT_DIR, `quantization-${budget}bit.svg`),
      scatterSvg(
        `${budget} average bits: method vs uniform (test accuracy %)`,
        'uniform accuracy (%)',
        'method accuracy (%)',
        series,
      ),
    );
  }
  process.stderr.write(`wrote docs/experiments/quantization.md in ${seconds.toFixed(0)} s\n`);
}

const pct = (v: number) => (v * 100).toFixed(2);

function renderReport(rows: Row[], seconds: number, planned: number): string {
  const models = [...new Set(rows.map((r) => r.model))];
  const quantMethods = [...new Set(rows.filter((r) => r.kind === 'quantization').map((r) => r.method))];
  const lines: string[] = [
    '# Mixed-precision quantization and pruning plans on the default zoo',
    '',
    'Generated by `npm run experiment:quantization` (zoo/experiment-quantization.ts); all numbers below are',
    `from that run (${seconds.toFixed(0)} s on this machine${models.length < planned ? `; ${models.length} of the ${planned} models were done when it was stopped` : ''}). Data: quantization.json. Models: the trained`,
    'Fashion-MNIST checkpoints of zoo/default (the untrained ep00 one is left out); accuracy is measured on',
    'the official 10 000-image test split with the planned weights (fake-quantized float32, symmetric',
    "per-output-channel, biases float32). Candidate widths {2, 3, 4, 5, 6, 8}; a plan's average bits never",
    'exceed its budget. Methods: `uniform` (every layer at the budget), `alpha` (data-free: α of the spectral',
    `analysis, AlphaPruning's map as importance), \`hawq-random\` (HAWQ-V2/V3 Ω from per-layer Hessian traces on`,
    `${CALIBRATION} random inputs labelled by the model, ${PROBES} probes per layer), \`hawq-train\` (the same on the first ${CALIBRATION}`,
    "training images), `random-1..2` (the same solver with each layer's perturbation weighted by a seeded",
    'uniform random number instead of its trace: a random allocation at the same budget).',
    '',
  ];
  for (const budget of BUDGETS) {
    lines.push(`## ${budget} average bits: test accuracy (%)`, '');
    lines.push(
      `| model | fp32 | ${quantMethods.join(' | ')} |`,
      `|---|---|${quantMethods.map(() => '---').join('|')}|`,
    );
    for (const m of models) {
      const cells = quantMethods.map((method) => {
        const r = rows.find(
          (x) => x.kind === 'quantization' && x.model === m && x.budget === budget && x.method === method,
        )!;
        return `${pct(r.accuracy)} (${r.bits.join('/')})`;
      });
      lines.push(`| ${m} | ${pct(rows.find((x) => x.model === m)!.fp32)} | ${cells.join(' | ')} |`);
    }
    const mean = (method: string) => {
      const rs = rows.filter((x) => x.kind === 'quantization' && x.budget === budget && x.method === method);
      return rs.reduce((a, r) => a + r.accuracy, 0) / rs.length;
    };
    lines.push(
      `| **mean** | ${pct(models.reduce((a, m) => a + rows.find((x) => x.model === m)!.fp32, 0) / models.length)} | ${quantMethods.map((q) => `**${pct(mean(q))}**`).join(' | ')} |`,
      '',
    );
    const wins = (method: string) =>
      models.filter((m) => {
        const a = rows.find(
          (x) => x.kind === 'quantization' && x.model === m && x.budget === budget && x.method === method,
        )!;
        const u = rows.find(
          (x) => x.kind === 'quantization' && x.model === m && x.budget === budget && x.method === 'uniform',
        )!;
        return a.accuracy > u.accuracy;
      }).length;
    lines.push(
      `Beats uniform on: ${quantMethods
        .filter((q) => q !== 'uniform')
        .map((q) => `${q} ${wins(q)}/${models.length}`)
        .join(', ')}. Plot: quantization-${budget}bit.svg.`,
      '',
    );
  }
  lines.push('## Pruning (weights kept at 8 bits): test accuracy (%)', '');
  lines.push(
    `| model | ${SPARSITIES.flatMap((s) => [`uniform ${s * 100}%`, `alpha ${s * 100}%`]).join(' | ')} |`,
    `|---|${SPARSITIES.flatMap(() => ['---', '---']).join('|')}|`,
  );
  for (const m of models) {
    const cells = SPARSITIES.flatMap((s) =>
      ['uniform', 'alpha'].map((method) =>
        pct(
          rows.find((x) => x.kind === 'pruning' && x.model === m && x.budget === s && x.method === method)!
            .accuracy,
        ),
      ),
    );
    lines.push(`| ${m} | ${cells.join(' | ')} |`);
  }
  lines.push('', 'Bits per layer are listed in parentheses in checkpoint order (first layer first).', '');
  return `${lines.join('\n')}\n`;
}

await main();
