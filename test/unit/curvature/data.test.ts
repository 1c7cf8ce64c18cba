/**
 * Data sources: .npz batches through storage, random inputs labelled by the model, ZeroQ
 * distillation (lowers the BatchNorm-statistics loss; refused without BatchNorm), FGSM/PGD.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adversarialBatch } from '../../../lib/curvature/adversarial.ts';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { resolveBatch } from '../../../lib/curvature/batch.ts';
import { npzBatch, predictLabels, randomBatch } from '../../../lib/curvature/data.ts';
import { batchNormStatisticsLoss, distilledBatch } from '../../../lib/curvature/distill.ts';
import { crossEntropyFromLogits } from '../../../lib/curvature/hvp.ts';
import {
  type BatchNormTap,
  buildCurvatureNetwork,
  type CurvatureNetwork,
} from '../../../lib/curvature/network.ts';
import { BadInputError, UnsupportedError } from '../../../lib/errors.ts';
import { createStorage } from '../../../storage/index.ts';
import { seededProblem, setSeededWeights, tanhMlp, tinyCnn } from './models.ts';

const npzUri = join(import.meta.dirname, '../../fixtures/curvature/batch.npz');

beforeAll(async () => {
  await initCurvatureBackend('cpu', () => {});
});

function bnLoss(network: CurvatureNetwork, x: tf.Tensor): number {
  return tf.tidy(() => {
    const taps: BatchNormTap[] = [];
    network.forward(network.values, x, taps);
    return batchNormStatisticsLoss(x, taps).dataSync()[0]!;
  });
}

function meanLoss(network: CurvatureNetwork, x: tf.Tensor, labels: Int32Array): number {
  return tf.tidy(() => {
    const oneHot = tf.cast(
      tf.oneHot(tf.tensor1d(labels, 'int32'), network.numClasses),
      'float32',
    ) as tf.Tensor2D;
    return crossEntropyFromLogits(network.forward(network.values, x), oneHot).dataSync()[0]!;
  });
}

describe('curvature data sources', () => {
  it('reads x and y from an .npz through storage, honouring the sample limit', async () => {
    const network = buildCurvatureNetwork(tinyCnn(true));
    const batch = await npzBatch(npzUri, createStorage(), network, 10);
    expect(batch.x.shape).toEqual([10, 6, 6, 1]);
    expect(batch.labels.length).toBe(10);
    for (const label of batch.labels) expect([0, 1, 2]).toContain(label);
  });

  it('rejects an .npz whose samples do not fit the model input', async () => {
    const network = buildCurvatureNetwork(tanhMlp(5, 3, 3));
    await expect(npzBatch(npzUri, createStorage(), network)).rejects.toBeInstanceOf(BadInputError);
  });

  it('random inputs are labelled with the model predictions', () => {
    const model = tanhMlp(4, 5, 3);
    setSeededWeights(model, 3, 2);
    const network = buildCurvatureNetwork(model);
    const batch = randomBatch(network, 50, { seed: 4 });
    expect(batch.labels).toEqual(predictLabels(network, batch.x));
    expect(new Set(batch.labels).size).toBeGreaterThan(1);
  });

  it('ZeroQ distillation lowers the BatchNorm statistics loss; models without BatchNorm are refused', () => {
    const model = tinyCnn(true);
    setSeededWeights(model, 5, 0.5);
    const network = buildCurvatureNetwork(model);
    const start = tf.randomNormal([8, 6, 6, 1], 0, 1, 'float32', 9);
    const before = bnLoss(network, start);
    const distilled = distilledBatch(network, { count: 8, steps: 40, learningRate: 0.1, seed: 9 });
    expect(distilled.finalLoss).toBeLessThan(before / 2);
    expect(bnLoss(network, distilled.x)).toBeCloseTo(distilled.finalLoss, 1);
    expect(() => distilledBatch(buildCurvatureNetwork(tanhMlp(4, 5, 3)), { steps: 1 })).toThrow(
      UnsupportedError,
    );
  });

  it('FGSM and PGD raise the loss and stay in the ε-ball and the input range', () => {
    const p = seededProblem(40, 4, 3, 6);
    const model = tanhMlp(4, 6, 3);
    setSeededWeights(model, 7);
    const network = buildCurvatureNetwork(model);
    const clean = {
      x: tf.tensor(Float32Array.from(p.x.map((v) => 0.5 + 0.2 * v)), [p.n, p.d]),
      labels: p.labels,
    };
    const base = meanLoss(network, clean.x, clean.labels);
    for (const method of ['fgsm', 'pgd'] as const) {
      const adv = adversarialBatch(network, clean, { method, epsilon: 0.05, low: -10, high: 10 });
      expect(meanLoss(network, adv.x, adv.labels)).toBeGreaterThan(base);
      const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(adv.x, clean.x))).dataSync()[0]!);
      expect(gap).toBeLessThanOrEqual(0.05 + 1e-6);
    }
    const clipped = adversarialBatch(network, clean, { method: 'fgsm', epsilon: 1 });
    const [lo, hi] = tf.tidy(() => [tf.min(clipped.x).dataSync()[0]!, tf.max(clipped.x).dataSync()[0]!]);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
  });

  it('resolveBatch wants exactly one source and describes it', async () => {
    const network = buildCurvatureNetwork(tinyCnn(true));
    const storage = createStorage();
    const base = { samples: 5, seed: 1, epsilon: 0.1 };
    await expect(
      resolveBatch(network, { ...base, random: true, data: npzUri }, storage),
    ).rejects.toBeInstanceOf(BadInputError);
    const fromNpz = await resolveBatch(network, { ...base, data: npzUri, adversarial: 'fgsm' }, storage);
    expect(fromNpz.source).toBe(`${npzUri}[0:5]+fgsm(0.1)`);
    expect((await resolveBatch(network, { ...base, random: true }, storage)).source).toBe('random:5');
  });
});
