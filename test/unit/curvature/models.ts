/** Tiny tf.layers models with seeded weights for the curvature tests (float32-exact references). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SeededRandom } from '../../../lib/curvature/vector.ts';
import type { Problem } from './reference.ts';

/**
 * Random weights, rounded to float32 so float64 references see exactly the model's values; returns
 * the trainable ones flattened in the network's parameter order (model.weights lists them first).
 */
export function setSeededWeights(model: tfl.LayersModel, seed: number, scaleBy = 0.8): Float64Array {
  const rng = new SeededRandom(seed);
  const all: number[] = [];
  model.weights.forEach((w) => {
    // Variances must stay positive; everything else is Gaussian.
    const positive = w.name.includes('moving_variance');
    const shape = w.shape as number[];
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
      positive ? 0.5 + Math.abs(rng.gaussian()) : scaleBy * rng.gaussian(),
    );
    if (w.trainable) all.push(...values);
    w.write(tf.tensor(values, shape));
  });
  return Float64Array.from(all);
}

export function seededProblem(n: number, d: number, c: number, seed: number): Problem {
  const rng = new SeededRandom(seed);
  const x = Float64Array.from(Float32Array.from({ length: n * d }, () => rng.gaussian()));
  const labels = Int32Array.from({ length: n }, () => Math.floor(rng.next() * c));
  return { x, labels, n, d, c };
}

export function softmaxRegression(d: number, c: number): tfl.Sequential {
  return tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [d], units: c, activation: 'softmax' })] });
}

export function tanhMlp(d: number, hidden: number, c: number): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [d], units: hidden, activation: 'tanh' }),
      tfl.layers.dense({ units: c, activation: 'softmax' }),
    ],
  });
}

/** A small CNN with every layer kind the exact engine supports. */
export function tinyCnn(withBatchNorm: boolean): tfl.Sequential {
  const layers: tfl.layers.Layer[] = [
    tfl.layers.conv2d({
      inputShape: [6, 6, 1],
      filters: 3,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
    }),
  ];
  if (withBatchNorm) layers.push(tfl.layers.batchNormalization());
  layers.push(
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ filters: 4, kernelSize: 2, activation: 'tanh' }),
    tfl.layers.averagePooling2d({ poolSize: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 3, activation: 'softmax' }),
  );
  return tfl.sequential({ layers });
}
