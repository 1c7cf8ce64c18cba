/**
 * Adversarial batches, to measure curvature along adversarial directions (large-batch solutions are
 * sharper and less robust): FGSM, x + ε·sign(∇ₓL), and PGD in the L∞ ball (random start, `steps`
 * signed-gradient steps of size α = 2.5ε/steps, projection after each, Madry et al.'s defaults).
 * Inputs are clipped to [low, high] (default the zoo's [0, 1]); labels stay the true ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyFromLogits, type LabelledBatch } from './hvp.ts';
import type { CurvatureNetwork } from './network.ts';

export interface AdversarialOptions {
  method: 'fgsm' | 'pgd';
  epsilon: number;
  steps?: number;
  stepSize?: number;
  low?: number;
  high?: number;
  seed?: number;
}

function inputGradientSign(network: CurvatureNetwork, x: tf.Tensor, oneHot: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() =>
    tf.sign(
      tf.grad((xi: tf.Tensor) => crossEntropyFromLogits(network.forward(network.values, xi), oneHot))(x),
    ),
  );
}

export function adversarialBatch(
  network: CurvatureNetwork,
  batch: LabelledBatch,
  options: AdversarialOptions,
): LabelledBatch {
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const eps = options.epsilon;
  const oneHot = tf.tidy(
    () =>
      tf.cast(tf.oneHot(tf.tensor1d(batch.labels, 'int32'), network.numClasses), 'float32') as tf.Tensor2D,
  );
  const project = (candidate: tf.Tensor) =>
    tf.tidy(() =>
      tf.clipByValue(
        tf.minimum(tf.maximum(candidate, tf.sub(batch.x, eps)), tf.add(batch.x, eps)),
        low,
        high,
      ),
    );
  let x: tf.Tensor;
  if (options.method === 'fgsm') {
    const sign = inputGradientSign(network, batch.x, oneHot);
    x = project(tf.add(batch.x, tf.mul(sign, eps)));
    sign.dispose();
  } else {
    const steps = options.steps ?? 10;
    const alpha = options.stepSize ?? (2.5 * eps) / steps;
    x = project(tf.add(batch.x, tf.randomUniform(batch.x.shape, -eps, eps, 'float32', options.seed ?? 1)));
    for (let i = 0; i < steps; i++) {
      const sign = inputGradientSign(network, x, oneHot);
      const next = project(tf.add(x, tf.mul(sign, alpha)));
      tf.dispose([sign, x]);
      x = next;
    }
  }
  oneHot.dispose();
  return { x, labels: batch.labels };
}
