/**
 * Trains one run of the zoo plan and writes its checkpoints. Everything random is seeded: the
 * subsample and label noise (per set/run seed, our PRNG), initial weights (TF.js seeded
 * initializers) and the per-epoch shuffle (our PRNG; `fit` itself never shuffles).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset, LabeledImages } from '../lib/data/datasets.ts';
import { SeededRandom } from '../lib/random.ts';
import { writeZooCheckpoint } from './checkpoint-writer.ts';
import { buildModel } from './models.ts';
import { checkpointId, hyperparametersOf, type RunSpec } from './plan.ts';

const PIXELS = 28 * 28;
const EVAL_BATCH = 2000;

export interface TrainedCheckpoint {
  id: string;
  run: string;
  epoch: number;
  step: number;
  testAccuracy: number;
  trainLoss: number | null;
  seconds: number;
}

/** Images as an [n, 28, 28, 1] float tensor in [0, 1]. */
function imagesTensor(images: Uint8Array, indices: ArrayLike<number>): tf.Tensor4D {
  const values = new Float32Array(indices.length * PIXELS);
  for (let k = 0; k < indices.length; k++) {
    const src = indices[k]! * PIXELS;
    for (let p = 0; p < PIXELS; p++) values[k * PIXELS + p] = images[src + p]! / 255;
  }
  return tf.tensor4d(values, [indices.length, 28, 28, 1]);
}

/** The seeded training subsample of a set (identical for all runs of the set). */
export function subsampleIndices(train: LabeledImages, count: number, setSeed: number): Uint32Array {
  return new SeededRandom(setSeed).permutation(train.count).slice(0, Math.min(count, train.count));
}

/** Replace exactly round(p·n) labels by a uniformly chosen *different* class. */
export function noisyLabels(labels: Uint8Array, fraction: number, classes: number, seed: number): Uint8Array {
  const out = Uint8Array.from(labels);
  if (fraction <= 0) return out;
  const rng = new SeededRandom(seed);
  const flip = rng.permutation(labels.length).slice(0, Math.round(fraction * labels.length));
  for (const i of flip) out[i] = (labels[i]! + 1 + rng.int(classes - 1)) % classes;
  return out;
}

/** Accuracy on the whole test split (argmax of the softmax output). */
export function testAccuracy(
  model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  test: LabeledImages,
): number {
  let correct = 0;
  for (let start = 0; start < test.count; start += EVAL_BATCH) {
    const end = Math.min(start + EVAL_BATCH, test.count);
    const indices = Array.from({ length: end - start }, (_, k) => start + k);
    const predicted = tf.tidy(() => {
      const out = model.predict(imagesTensor(test.images, indices));
      return tf.argMax(Array.isArray(out) ? out[0]! : out, 1);
    });
    const classes = predicted.dataSync();
    predicted.dispose();
    for (let k = 0; k < classes.length; k++) if (classes[k] === test.labels[start + k]) correct++;
  }
  return correct / test.count;
}

function setSeed(set: string): number {
  let h = 2166136261;
  for (const ch of set) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

export interface TrainRunOptions {
  outDir: string;
  dataset: ImageDataset;
  log: (line: string) => void;
}

export async function trainRun(run: RunSpec, options: TrainRunOptions): Promise<TrainedCheckpoint[]> {
  const { dataset, outDir, log } = options;
  const subset = subsampleIndices(dataset.train, run.trainSubsample, setSeed(run.set));
  const cleanLabels = Uint8Array.from(subset, (i) => dataset.train.labels[i]!);
  const labels = noisyLabels(cleanLabels, run.labelNoise, dataset.classes, run.seed * 7919 + 17);
  const xs = imagesTensor(dataset.train.images, subset);
  const ys = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), dataset.classes), 'float32'));
  const model = buildModel(run.model, run.seed);
  model.compile({
    optimizer: tf.train.momentum(run.learningRate, run.momentum),
    loss: 'categoricalCrossentropy',
  });
  const shuffler = new SeededRandom(run.seed * 104729 + 3);
  const stepsPerEpoch = Math.ceil(subset.length / run.batchSize);
  const results: TrainedCheckpoint[] = [];
  const started = performance.now();
  let trainLoss: number | null = null;
  try {
    for (let epoch = 0; epoch <= run.epochs; epoch++) {
      if (epoch > 0) {
        const order = tf.tensor1d(Int32Array.from(shuffler.permutation(subset.length)), 'int32');
        const xEpoch = tf.gather(xs, order);
        const yEpoch = tf.gather(ys, order);
        const history = await model.fit(xEpoch, yEpoch, {
          batchSize: run.batchSize,
          epochs: 1,
          shuffle: false,
          verbose: 0,
        });
        tf.dispose([order, xEpoch, yEpoch]);
        const loss = history.history.loss?.[0];
        trainLoss = typeof loss === 'number' ? loss : null;
      }
      if (!run.checkpointEpochs.includes(epoch)) continue;
      const accuracy = testAccuracy(model, dataset.test);
      const id = checkpointId(run, epoch);
      const seconds = (performance.now() - started) / 1000;
      await writeZooCheckpoint(join(outDir, id), model, {
        family: `${run.set}/${run.checkpointEpochs.length > 1 ? 'epochs' : run.varies}`,
        run: run.run,
        step: epoch * stepsPerEpoch,
        epoch,
        known_test_accuracy: accuracy,
        known_metrics: trainLoss === null ? {} : { train_loss: trainLoss },
        dataset: dataset.name,
        architecture: run.model.architecture,
        parameters: model.countParams(),
        hyperparameters: hyperparametersOf(run),
        notes:
          `TF.js ${tf.version_core} (${tf.getBackend()} backend), SGD with momentum, categorical cross-entropy; ` +
          `trained on a seeded subsample of ${subset.length} of the ${dataset.train.count} training images` +
          `${run.labelNoise > 0 ? ` with ${run.labelNoise * 100}% of labels replaced by another class` : ''}; ` +
          `accuracy measured on the official ${dataset.test.count}-image test split. Made by zoo/train.ts.`,
      });
      results.push({
        id,
        run: run.run,
        epoch,
        step: epoch * stepsPerEpoch,
        testAccuracy: accuracy,
        trainLoss,
        seconds,
      });
      log(`${id}: test accuracy ${(accuracy * 100).toFixed(2)}% (${seconds.toFixed(1)} s)`);
    }
  } finally {
    model.dispose();
    tf.dispose([xs, ys]);
  }
  return results;
}
