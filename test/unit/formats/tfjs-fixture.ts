/**
 * A small TensorFlow.js layers model: weights encoded by tfjs-core's own `io.encodeWeights` into one
 * shard, with a Keras-style topology naming the layer classes. Written to
 * test/fixtures/formats/tfjs/ by test/fixtures/gen/formats_builders.ts for the fuzz test.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

export const TFJS_SHARD = 'group1-shard1of1.bin';

const values = (n: number, seed: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i));

/** name → [shape, values]: a conv kernel (HWIO), a dense kernel, their biases, an int32 tensor. */
export const TFJS_WEIGHTS: Record<string, { shape: number[]; data: Float32Array | Int32Array }> = {
  'conv/kernel': { shape: [3, 3, 2, 4], data: values(72, 21) },
  'conv/bias': { shape: [4], data: values(4, 22) },
  'fc/kernel': { shape: [16, 8], data: values(128, 23) },
  'fc/bias': { shape: [8], data: values(8, 24) },
  'fc/steps': { shape: [2], data: Int32Array.from([3, 7]) },
};

const topology = {
  class_name: 'Sequential',
  config: {
    name: 'net',
    layers: [
      { class_name: 'Conv2D', config: { name: 'conv', filters: 4, kernel_size: [3, 3] } },
      { class_name: 'Flatten', config: { name: 'flatten' } },
      { class_name: 'Dense', config: { name: 'fc', units: 8 } },
    ],
  },
  keras_version: 'tfjs-layers 4.22.0',
  backend: 'tensor_flow.js',
};

/** model.json and its one weight shard. */
export async function writeTfjsModel(): Promise<{ modelJson: Uint8Array; shard: Uint8Array }> {
  const named = Object.entries(TFJS_WEIGHTS).map(([name, w]) => ({
    name,
    tensor: w.data instanceof Int32Array ? tf.tensor(w.data, w.shape, 'int32') : tf.tensor(w.data, w.shape),
  }));
  const { data, specs } = await tf.io.encodeWeights(named);
  for (const { tensor } of named) tensor.dispose();
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'test/fixtures/gen/formats_builders.ts',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: [TFJS_SHARD], weights: specs }],
  };
  return {
    modelJson: new TextEncoder().encode(JSON.stringify(modelJson)),
    shard: new Uint8Array(data as ArrayBuffer),
  };
}
