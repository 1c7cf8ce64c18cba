/**
 * Trains one run of the zoo plan and writes its checkpoints. Everything random is seeded: the
 * subsample and label noise (per set/run seed, our PRNG), initial weights (TF.js seeded
 * initializers) and the per-epoch shuffle (our PRNG; `fit` itself never shuffles).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset, LabeledImages } from '../lib/data/datasets.ts';
import { ConfigError } from '../lib/errors.ts';
import { SeededRandom } from '../lib/random.ts';
import { writeZooCheckpoint } from './checkpoint-writer.ts';
import { buildModel } from './models.ts';
import { checkpointId, type EarlyStopping, hyperparametersOf, type RunSpec } from './plan.ts';

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

function sidecarNotes(run: RunSpec, dataset: ImageDataset, used: number, extra = ''): string {
  return (
    `TF.js ${tf.version_core} (${tf.getBackend()} backend), SGD with momentum, categorical cross-entropy; ` +
    `trained on a seeded subsample of ${used} of the ${dataset.train.count} training images` +
    `${run.labelNoise > 0 ? ` with ${run.labelNoise * 100}% of labels replaced by another class` : ''}${extra}; ` +
    `accuracy measured on the official ${dataset.test.count}-image test split. Made by zoo/train.ts.`
  );
}

export interface TrainRunOptions {
  outDir: string;
  dataset: ImageDataset;
  log: (line: string) => void;
}

export async function trainRun(run: RunSpec, options: TrainRunOptions): Promise<TrainedCheckpoint[]> {
  if (run.earlyStopping !== undefined) return [await trainEarlyStopped(run, run.earlyStopping, options)];
  const { dataset, outDir, log } = options;
  const subset = subsampleIndices(dataset.train, run.trainSubsample, setSeed(run.set));
  const cleanLabels = Uint8Array.from(subset, (i) => dataset.train.labels[i]!);
  const labels = noisyLabels(cleanLabels, run.labelNoise, dataset.classes, run.seed * 7919 + 17);
  const training = startTraining(run, dataset, subset, labels);
  const { model, stepsPerEpoch } = training;
  const results: TrainedCheckpoint[] = [];
  const started = performance.now();
  let trainLoss: number | null = null;
  try {
    for (let epoch = 0; epoch <= run.epochs; epoch++) {
      if (epoch > 0) trainLoss = await training.fitEpoch();
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
        notes: sidecarNotes(run, dataset, subset.length),
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
    training.dispose();
  }
  return results;
}

/** One run's model and training tensors; each epoch visits the subset in a seeded order. */
interface Training {
  model: ReturnType<typeof buildModel>;
  stepsPerEpoch: number;
  /** One epoch of SGD; its training loss (null when the history has none). */
  fitEpoch(): Promise<number | null>;
  dispose(): void;
}

function startTraining(
  run: RunSpec,
  dataset: ImageDataset,
  subset: Uint32Array,
  labels: Uint8Array,
): Training {
  const xs = imagesTensor(dataset.train.images, subset);
  const ys = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), dataset.classes), 'float32'));
  const model = buildModel(run.model, run.seed);
  model.compile({
    optimizer: tf.train.momentum(run.learningRate, run.momentum),
    loss: 'categoricalCrossentropy',
  });
  const shuffler = new SeededRandom(run.seed * 104729 + 3);
  return {
    model,
    stepsPerEpoch: Math.ceil(subset.length / run.batchSize),
    async fitEpoch() {
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
      return typeof loss === 'number' ? loss : null;
    },
    dispose() {
      model.dispose();
      tf.dispose([xs, ys]);
    },
  };
}

/** The images and labels at `indices` as a split of their own (for the validation hold-out). */
function pick(split: LabeledImages, indices: Uint32Array): LabeledImages {
  const size = split.height * split.width;
  const images = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    images.set(split.images.subarray(i * size, (i + 1) * size), k * size);
  }
  const labels = Uint8Array.from(indices, (i) => split.labels[i]!);
  return { images, labels, count: indices.length, height: split.height, width: split.width };
}

/**
 * The training subsample and the validation hold-out of an early-stopped run: the first
 * `trainSubsample` and the next `validation` images of the set's seeded permutation (disjoint).
 */
export function earlyStoppingSplit(
  dataset: ImageDataset,
  run: RunSpec,
  stopping: EarlyStopping,
): { subset: Uint32Array; validation: LabeledImages } {
  if (run.trainSubsample + stopping.validation > dataset.train.count)
    throw new ConfigError(
      `run ${run.run}: ${run.trainSubsample} training + ${stopping.validation} validation images exceed the ${dataset.train.count} of ${dataset.name}`,
    );
  const order = new SeededRandom(setSeed(run.set)).permutation(dataset.train.count);
  const end = run.trainSubsample + stopping.validation;
  return {
    subset: order.slice(0, run.trainSubsample),
    validation: pick(dataset.train, order.slice(run.trainSubsample, end)),
  };
}

/**
 * A converged run: epochs until `patience` of them bring no better validation accuracy, then the
 * best epoch's weights are restored, tested and written. The hold-out is the next `validation`
 * images of the same seeded permutation the training subsample is cut from, so the two are disjoint.
 */
async function trainEarlyStopped(
  run: RunSpec,
  stopping: EarlyStopping,
  options: TrainRunOptions,
): Promise<TrainedCheckpoint> {
  const { dataset, outDir, log } = options;
  const { subset, validation } = earlyStoppingSplit(dataset, run, stopping);
  const labels = Uint8Array.from(subset, (i) => dataset.train.labels[i]!);
  const training = startTraining(run, dataset, subset, labels);
  const { model, stepsPerEpoch } = training;
  const started = performance.now();
  let best = { epoch: 0, accuracy: testAccuracy(model, validation), loss: Number.NaN };
  let bestWeights = model.getWeights().map((w) => w.clone());
  let epoch = 0;
  try {
    while (epoch < run.epochs && epoch - best.epoch < stopping.patience) {
      epoch++;
      const loss = (await training.fitEpoch()) ?? Number.NaN;
      const accuracy = testAccuracy(model, validation);
      const seconds = (performance.now() - started) / 1000;
      log(
        `${run.run} epoch ${epoch}: train loss ${loss.toFixed(4)}, validation ${(accuracy * 100).toFixed(2)}% (${seconds.toFixed(0)} s)`,
      );
      if (accuracy > best.accuracy) {
        best = { epoch, accuracy, loss };
        tf.dispose(bestWeights);
        bestWeights = model.getWeights().map((w) => w.clone());
      }
    }
    const trainSeconds = (performance.now() - started) / 1000;
    model.setWeights(bestWeights);
    const accuracy = testAccuracy(model, dataset.test);
    const id = checkpointId(run, best.epoch);
    const stopped =
      epoch - best.epoch >= stopping.patience
        ? `stopped after epoch ${epoch}`
        : `reached the ${run.epochs}-epoch limit`;
    await writeZooCheckpoint(join(outDir, id), model, {
      // One series per converged set (its base run included), so leaderboards rank the widths together.
      family: run.set,
      run: run.run,
      step: best.epoch * stepsPerEpoch,
      epoch: best.epoch,
      known_test_accuracy: accuracy,
      known_metrics: {
        ...(Number.isFinite(best.loss) ? { train_loss: best.loss } : {}),
        validation_accuracy: best.accuracy,
        epochs_trained: epoch,
        train_seconds: Math.round(trainSeconds),
      },
      dataset: dataset.name,
      architecture: run.model.architecture,
      parameters: model.countParams(),
      hyperparameters: hyperparametersOf(run),
      notes: sidecarNotes(
        run,
        dataset,
        subset.length,
        ` until ${stopping.patience} epochs brought no better accuracy on ${stopping.validation} held-out training images ` +
          `(${stopped}; these are the weights of epoch ${best.epoch})`,
      ),
    });
    log(
      `${id}: epoch ${best.epoch} of ${epoch} (${stopped}), validation ${(best.accuracy * 100).toFixed(2)}%, ` +
        `test accuracy ${(accuracy * 100).toFixed(2)}% (${trainSeconds.toFixed(0)} s)`,
    );
    return {
      id,
      run: run.run,
      epoch: best.epoch,
      step: best.epoch * stepsPerEpoch,
      testAccuracy: accuracy,
      trainLoss: best.loss,
      seconds: trainSeconds,
    };
  } finally {
    tf.dispose(bestWeights);
    training.dispose();
  }
}
