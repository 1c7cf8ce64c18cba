/**
 * The cached R-operator products (the default exact method) against the independent nested
 * double-backprop products, on networks covering every stage kind and option: conv strides 1/2,
 * 'same'/'valid', max/avg pooling with 'same' padding over a partial window, BatchNorm with and
 * without scale/center, every activation, dense layers without bias; several directions through one
 * operator (the cache must not leak one product into the next), chunked batches, cpu and wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { HessianOperator } from '../../../lib/curvature/hvp.ts';
import { GATHER_INDEX, registerIndexKernels } from '../../../lib/curvature/jsKernels.ts';
import { buildCurvatureNetwork } from '../../../lib/curvature/network.ts';
import { SeededRandom } from '../../../lib/curvature/vector.ts';
import { setSeededWeights, tinyCnn } from './models.ts';
import { relativeError } from './reference.ts';

function convNet(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [7, 7, 2],
        filters: 3,
        kernelSize: 3,
        strides: 2,
        activation: 'softplus',
      }),
      tfl.layers.batchNormalization({ scale: false }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'same', useBias: false }),
      tfl.layers.activation({ activation: 'sigmoid' }),
      tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, activation: 'relu', useBias: false }),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
}

function mlp(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [6], units: 7, activation: 'tanh' }),
      tfl.layers.batchNormalization({ center: false }),
      tfl.layers.dense({ units: 5 }),
      tfl.layers.reLU(),
      tfl.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
}

function avgPoolNet(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.averagePooling2d({ inputShape: [4, 4, 2], poolSize: 2, padding: 'same' }),
      tfl.layers.conv2d({ filters: 2, kernelSize: 2, activation: 'tanh' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
}

const cases: [string, () => tfl.Sequential, number[]][] = [
  ['tiny CNN with BatchNorm', () => tinyCnn(true), [6, 6, 1]],
  ['strided conv, BatchNorm without scale, same max-pool, no-bias dense', convNet, [7, 7, 2]],
  ['MLP with BatchNorm without center and a ReLU layer', mlp, [6]],
  ['avg-pool first (no parameters before the first conv)', avgPoolNet, [4, 4, 2]],
];

// 'cpu, no index kernels': max-pool's directional passes through MaxPoolGrad and the masked window
// sum, the path of backends without the JS index kernels (tfjs-node-gpu).
describe.each([
  ['cpu', true],
  ['wasm', true],
  ['cpu, no index kernels', false],
] as const)('R-operator products equal double-backprop (%s)', (label, indexKernels) => {
  it.each(cases)('%s', async (_label, make, inputShape) => {
    const backend = label.startsWith('cpu') ? 'cpu' : 'wasm';
    await initCurvatureBackend(backend, () => {});
    if (indexKernels) registerIndexKernels(backend);
    else tf.unregisterKernel(GATHER_INDEX, backend);
    const model = make();
    setSeededWeights(model, 11);
    const network = buildCurvatureNetwork(model);
    const rng = new SeededRandom(5);
    const n = 10;
    const size = inputShape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(
      Float32Array.from({ length: n * size }, () => rng.gaussian()),
      [n, ...inputShape],
    );
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng.next() * network.numClasses));
    const tensorsBefore = tf.memory().numTensors;
    const fast = new HessianOperator(network, { x, labels }, { chunkSize: 4 });
    const reference = new HessianOperator(network, { x, labels }, { exactMethod: 'double-backprop' });
    let cached = 0;
    for (let k = 0; k < 3; k++) {
      const v = rng.gaussianVector(network.dim);
      const expected = await reference.apply(v);
      const got = await fast.apply(v);
      // The per-chunk cache is built once; products allocate nothing that outlives them.
      if (k === 0) cached = tf.memory().numTensors;
      expect(tf.memory().numTensors).toBe(cached);
      expect(Math.hypot(...expected)).toBeGreaterThan(1e-3);
      expect(relativeError(got, expected)).toBeLessThan(1e-5);
    }
    fast.dispose();
    reference.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    network.dispose();
    x.dispose();
    registerIndexKernels(backend);
  });
});
