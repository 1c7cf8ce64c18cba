/**
 * Labelled batches for Hessian estimates: a stored `.npz` (arrays `x` and `y`), the Fashion-MNIST or
 * MNIST test split, or data-free — random inputs labelled by the model's own predictions. (ZeroQ
 * distillation and adversarial batches live in distill.ts and adversarial.ts.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { type DatasetName, loadDataset } from '../data/datasets.ts';
import { BadInputError } from '../errors.ts';
import { npzReader } from '../formats/numpy/index.ts';
import type { ObjectOpener } from '../formats/types.ts';
import type { LabelledBatch } from './hvp.ts';
import type { CurvatureNetwork } from './network.ts';
import { SeededRandom } from './vector.ts';

const perSample = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Reshape flat per-sample data to the model's input shape, when the element counts agree. */
function toModelInput(
  values: Float32Array,
  count: number,
  network: CurvatureNetwork,
  file: string,
): tf.Tensor {
  const size = perSample(network.inputShape);
  if (values.length !== count * size) {
    throw new BadInputError(
      `inputs hold ${values.length / count} values per sample, the model expects [${network.inputShape.join(', ')}]`,
      { file },
    );
  }
  return tf.tensor(values, [count, ...network.inputShape], 'float32');
}

/** The first `limit` samples of an `.npz` with `x` (inputs) and `y` (class indices or one-hot rows). */
export async function npzBatch(
  uri: string,
  opener: ObjectOpener,
  network: CurvatureNetwork,
  limit = Number.POSITIVE_INFINITY,
): Promise<LabelledBatch> {
  const ckpt = await npzReader.open(uri, opener);
  const find = (name: string) => {
    const t = ckpt.tensors.find((info) => info.name === name);
    if (!t)
      throw new BadInputError(
        `.npz has no array '${name}' (found: ${ckpt.tensors.map((i) => i.name).join(', ')})`,
        { file: uri },
      );
    return t;
  };
  const xInfo = find('x');
  const yInfo = find('y');
  const total = xInfo.shape[0] ?? 0;
  if (yInfo.shape[0] !== total)
    throw new BadInputError(`x has ${total} rows but y has ${yInfo.shape[0]}`, { file: uri });
  const count = Math.min(total, limit);
  const xAll = await ckpt.readTensor(xInfo);
  const yAll = await ckpt.readTensor(yInfo);
  const xSize = perSample(xInfo.shape.slice(1));
  const x = Float32Array.from(xAll.subarray(0, count * xSize));
  const labels = new Int32Array(count);
  const oneHotWidth = yInfo.shape.length === 2 ? yInfo.shape[1]! : 0;
  for (let i = 0; i < count; i++) {
    if (oneHotWidth > 0) {
      const row = yAll.subarray(i * oneHotWidth, (i + 1) * oneHotWidth);
      labels[i] = row.indexOf(Math.max(...row));
    } else {
      const label = yAll[i]!;
      if (!Number.isInteger(label))
        throw new BadInputError(`y[${i}] = ${label} is not a class index`, { file: uri });
      labels[i] = label;
    }
  }
  return { x: toModelInput(x, count, network, uri), labels };
}

/** The first `limit` images of a data set's official test split, scaled to [0, 1] as the zoo trains. */
export function datasetTestBatch(name: DatasetName, network: CurvatureNetwork, limit: number): LabelledBatch {
  const { test } = loadDataset(name);
  const count = Math.min(limit, test.count);
  const pixels = test.height * test.width;
  const x = new Float32Array(count * pixels);
  for (let i = 0; i < count * pixels; i++) x[i] = test.images[i]! / 255;
  return {
    x: toModelInput(x, count, network, name),
    labels: Int32Array.from(test.labels.subarray(0, count)),
  };
}

/** The model's predicted classes for `x` (argmax of the logits). */
export function predictLabels(network: CurvatureNetwork, x: tf.Tensor): Int32Array {
  const predicted = tf.tidy(() => tf.argMax(network.forward(network.values, x), 1));
  const labels = Int32Array.from(predicted.dataSync());
  predicted.dispose();
  return labels;
}

/**
 * Data-free: inputs drawn uniformly from [low, high] (default [0, 1], the zoo's pixel range) and
 * labelled by the model's own predictions.
 */
export function randomBatch(
  network: CurvatureNetwork,
  count: number,
  options: { seed?: number; low?: number; high?: number } = {},
): LabelledBatch {
  const rng = new SeededRandom(options.seed ?? 1);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const size = perSample(network.inputShape);
  const values = Float32Array.from({ length: count * size }, () => low + (high - low) * rng.next());
  const x = toModelInput(values, count, network, 'random');
  return { x, labels: predictLabels(network, x) };
}
