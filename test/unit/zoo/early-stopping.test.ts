/**
 * Converged runs (zoo/plan-converged.ts) on a small synthetic data set: the hold-out is disjoint
 * from the training subsample, training stops by the patience rule, and the checkpoint written is
 * the best validation epoch's (its stored weights reproduce the recorded validation accuracy).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset, LabeledImages } from '../../../lib/data/datasets.ts';
import { MemoryRangeReader } from '../../../lib/formats/range.ts';
import { readSafetensorsHeader } from '../../../lib/formats/safetensors/index.ts';
import { SeededRandom } from '../../../lib/random.ts';
import { buildModel } from '../../../zoo/models.ts';
import { checkpointId, type RunSpec } from '../../../zoo/plan.ts';
import { initTrainingBackend } from '../../../zoo/tfjs-wasm.ts';
import { earlyStoppingSplit, testAccuracy, trainRun } from '../../../zoo/trainer.ts';

const PIXELS = 28 * 28;

/** Class k lights up row block k (plus noise); a fifth of the labels are random, so accuracy wobbles. */
function synthetic(count: number, seed: number): LabeledImages {
  const rng = new SeededRandom(seed);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const k = rng.int(10);
    labels[n] = rng.next() < 0.2 ? rng.int(10) : k;
    for (let p = 0; p < PIXELS; p++) {
      const row = Math.floor(p / 28);
      images[n * PIXELS + p] = Math.floor(rng.next() * 90) + (Math.floor(row / 2.8) === k ? 120 : 0);
    }
  }
  return { images, labels, count, height: 28, width: 28 };
}

const dataset: ImageDataset = {
  name: 'mnist',
  classes: 10,
  train: synthetic(500, 1),
  test: synthetic(200, 2),
};

const run: RunSpec = {
  run: 'synthetic-converged-w8',
  set: 'synthetic-converged',
  varies: 'base',
  dataset: 'mnist',
  model: { architecture: 'mlp', hiddenWidth: 8, weightDecay: 0 },
  batchSize: 32,
  learningRate: 0.05,
  momentum: 0.9,
  epochs: 12,
  labelNoise: 0,
  trainSubsample: 380,
  seed: 3,
  checkpointEpochs: [12],
  earlyStopping: { validation: 120, patience: 2 },
};

describe('early-stopped (converged) runs', () => {
  let dir: string;
  beforeAll(async () => {
    await initTrainingBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'zoo-converged-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await tf.setBackend('cpu');
  });

  it('holds out images disjoint from the training subsample, and refuses a split larger than the set', () => {
    const { subset, validation } = earlyStoppingSplit(dataset, run, run.earlyStopping!);
    expect(subset.length).toBe(380);
    expect(validation.count).toBe(120);
    // Every training image appears once across the two parts: the hold-out is the rest of the permutation.
    const heldOut = new Set<string>();
    for (let k = 0; k < validation.count; k++)
      heldOut.add(validation.images.subarray(k * PIXELS, (k + 1) * PIXELS).join(','));
    const overlap = [...subset].filter((i) =>
      heldOut.has(dataset.train.images.subarray(i * PIXELS, (i + 1) * PIXELS).join(',')),
    );
    expect(overlap).toEqual([]);
    expect(() => earlyStoppingSplit(dataset, { ...run, trainSubsample: 400 }, run.earlyStopping!)).toThrow(
      /synthetic-converged-w8: 400 training \+ 120 validation images exceed the 500/,
    );
  });

  it('stops by the patience rule and writes the best validation epoch as "<run>-best"', async () => {
    const lines: string[] = [];
    const [result, ...rest] = await trainRun(run, { outDir: dir, dataset, log: (l) => lines.push(l) });
    expect(rest).toEqual([]);
    expect(result!.id).toBe(checkpointId(run, run.epochs));
    expect(result!.id).toBe('synthetic-converged-w8-best');
    const sidecar = JSON.parse(readFileSync(join(dir, result!.id, 'weightlens.json'), 'utf8'));
    const { epochs_trained, validation_accuracy, train_seconds } = sidecar.known_metrics;
    expect(sidecar.epoch).toBe(result!.epoch);
    expect(sidecar.epoch).toBeGreaterThanOrEqual(1);
    expect(train_seconds).toBeGreaterThanOrEqual(0);
    const stoppedEarly = epochs_trained - sidecar.epoch === run.earlyStopping!.patience;
    expect(stoppedEarly || epochs_trained === run.epochs).toBe(true);
    expect(sidecar.notes).toContain('120 held-out training images');
    // One validation line per epoch run, and the best is the first epoch reaching the maximum.
    const perEpoch = lines
      .filter((l) => / epoch \d+: /.test(l))
      .map((l) => Number(/validation ([\d.]+)%/.exec(l)![1]));
    expect(perEpoch).toHaveLength(epochs_trained);
    expect(perEpoch.indexOf(Math.max(...perEpoch)) + 1).toBe(sidecar.epoch);
    expect(Math.max(...perEpoch)).toBeCloseTo(validation_accuracy * 100, 2);

    // The stored weights are the best epoch's: they reproduce its validation accuracy.
    const model = buildModel(run.model, run.seed);
    const bytes = new Uint8Array(readFileSync(join(dir, result!.id, 'model.safetensors')));
    const header = await readSafetensorsHeader(new MemoryRangeReader('mem://best.safetensors', bytes));
    // Stored in the model's weight order (writeZooCheckpoint's test checks the names).
    const weights = header.tensors.map((t) =>
      tf.tensor(new Float32Array(bytes.slice(t.byteOffset, t.byteOffset + t.byteLength).buffer), t.shape),
    );
    model.setWeights(weights);
    const { validation } = earlyStoppingSplit(dataset, run, run.earlyStopping!);
    expect(testAccuracy(model, validation)).toBeCloseTo(validation_accuracy, 10);
    expect(testAccuracy(model, dataset.test)).toBeCloseTo(sidecar.known_test_accuracy, 10);
    tf.dispose(weights);
    model.dispose();
  });
});
