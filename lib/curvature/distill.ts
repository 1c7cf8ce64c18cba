/**
 * ZeroQ distilled data: inputs optimised so that, at every BatchNormalization layer, each image's
 * per-channel mean and standard deviation match the layer's running statistics (and the input
 * matches mean 0 / std 1 per channel). Defaults as ZeroQ's release: Adam, lr 0.5, 500 steps, one
 * batch; we start from N(0, 1) (the released code's start is ≈100× narrower by a variance/std mix-up)
 * and keep the learning rate constant (ZeroQ adds a plateau schedule). Labels are the model's own
 * predictions on the distilled inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '../errors.ts';
import { predictLabels } from './data.ts';
import type { LabelledBatch } from './hvp.ts';
import type { BatchNormTap, CurvatureNetwork } from './network.ts';

export interface DistillOptions {
  count?: number;
  steps?: number;
  learningRate?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

const EPS = 1e-6;

/** Per-image, per-channel mean and std for NHWC activations; per-feature over the batch for [n, f]. */
function statistics(x: tf.Tensor): { mean: tf.Tensor; std: tf.Tensor } {
  const axes = x.rank === 4 ? [1, 2] : [0];
  const { mean, variance } = tf.moments(x, axes);
  return { mean, std: tf.sqrt(tf.add(variance, EPS)) };
}

export function batchNormStatisticsLoss(x: tf.Tensor, taps: readonly BatchNormTap[]): tf.Scalar {
  const n = x.shape[0]!;
  const terms: tf.Scalar[] = [];
  const input = statistics(x);
  terms.push(tf.add(tf.sum(tf.square(input.mean)), tf.sum(tf.square(tf.sub(input.std, 1)))) as tf.Scalar);
  for (const tap of taps) {
    const s = statistics(tap.input);
    const targetStd = tf.sqrt(tf.add(tap.movingVariance, EPS));
    terms.push(
      tf.add(
        tf.sum(tf.square(tf.sub(s.mean, tap.movingMean))),
        tf.sum(tf.square(tf.sub(s.std, targetStd))),
      ) as tf.Scalar,
    );
  }
  return tf.div(tf.addN(terms), n) as tf.Scalar;
}

export function distilledBatch(
  network: CurvatureNetwork,
  options: DistillOptions = {},
): LabelledBatch & { finalLoss: number } {
  const count = options.count ?? 32;
  const steps = options.steps ?? 500;
  const probe: BatchNormTap[] = [];
  tf.tidy(() => {
    network.forward(network.values, tf.zeros([1, ...network.inputShape]), probe);
  });
  if (probe.length === 0) {
    throw new UnsupportedError(
      'distilled (ZeroQ) data needs BatchNormalization layers; this model has none (use random data)',
    );
  }
  const x = tf.variable(tf.randomNormal([count, ...network.inputShape], 0, 1, 'float32', options.seed ?? 1));
  const optimizer = tf.train.adam(options.learningRate ?? 0.5);
  let finalLoss = Number.NaN;
  for (let step = 0; step < steps; step++) {
    const loss = optimizer.minimize(
      () => {
        const taps: BatchNormTap[] = [];
        network.forward(network.values, x, taps);
        return batchNormStatisticsLoss(x, taps);
      },
      true,
      [x],
    );
    finalLoss = loss?.dataSync()[0] ?? Number.NaN;
    loss?.dispose();
    options.onStep?.(step, finalLoss);
  }
  optimizer.dispose();
  const inputs = tf.clone(x);
  x.dispose();
  return { x: inputs, labels: predictLabels(network, inputs), finalLoss };
}
