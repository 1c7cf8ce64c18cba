import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRangeReader } from '../../../lib/formats/range.ts';
import { readSafetensorsHeader } from '../../../lib/formats/safetensors/index.ts';
import { SeededRandom } from '../../../lib/random.ts';
import { encodeSafetensors, writeZooCheckpoint } from '../../../zoo/checkpoint-writer.ts';
import { buildModel } from '../../../zoo/models.ts';
import { initTrainingBackend } from '../../../zoo/tfjs-wasm.ts';
import { noisyLabels } from '../../../zoo/trainer.ts';

describe('SeededRandom', () => {
  it('gives a true permutation, the same for the same seed and a different one otherwise', () => {
    const a = new SeededRandom(42).permutation(1000);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(new SeededRandom(42).permutation(1000))).toEqual(Array.from(a));
    expect(Array.from(new SeededRandom(43).permutation(1000))).not.toEqual(Array.from(a));
  });
});

describe('noisyLabels', () => {
  it('changes exactly round(p·n) labels, each to a different class', () => {
    const labels = Uint8Array.from({ length: 997 }, (_, i) => i % 10);
    const noisy = noisyLabels(labels, 0.3, 10, 5);
    let changed = 0;
    for (let i = 0; i < labels.length; i++) {
      if (noisy[i] !== labels[i]) changed++;
      expect(noisy[i]).toBeLessThan(10);
    }
    expect(changed).toBe(Math.round(0.3 * 997));
    expect(Array.from(noisyLabels(labels, 0, 10, 5))).toEqual(Array.from(labels));
  });
});

describe('encodeSafetensors', () => {
  it('writes a header our safetensors reader accepts, 8-byte aligned, with the exact bytes', async () => {
    const a = Float32Array.from([1.5, -2, 3.25, 4, 5, 6]);
    const b = Float32Array.from([7, -8.125, 9]);
    const bytes = encodeSafetensors(
      [
        { name: 'dense_1/kernel', shape: [2, 3], data: a },
        { name: 'dense_1/bias', shape: [3], data: b },
      ],
      { format: 'tfjs-layers' },
    );
    const header = await readSafetensorsHeader(new MemoryRangeReader('mem://t.safetensors', bytes));
    expect(header.metadata.format).toBe('tfjs-layers');
    const byName = new Map(header.tensors.map((t) => [t.name, t]));
    const kernel = byName.get('dense_1/kernel')!;
    expect(kernel.shape).toEqual([2, 3]);
    expect(kernel.dtype).toBe('F32');
    expect(kernel.byteOffset % 8).toBe(0);
    const decoded = new Float32Array(
      bytes.slice(kernel.byteOffset, kernel.byteOffset + kernel.byteLength).buffer,
    );
    expect(Array.from(decoded)).toEqual(Array.from(a));
    const bias = byName.get('dense_1/bias')!;
    expect(Array.from(new Float32Array(bytes.slice(bias.byteOffset, bias.byteOffset + 12).buffer))).toEqual(
      Array.from(b),
    );
  });
});

/** d/dW of Σ conv2d(x, W) ⊙ dy, i.e. Conv2DBackpropFilter(x, dy), on the current backend. */
function filterGradient(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  dy: tf.Tensor4D,
  stride: number,
  pad: 'same' | 'valid',
): Float32Array {
  const grad = tf.grad((filter: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, stride, pad), dy)),
  );
  return grad(w).dataSync() as Float32Array;
}

describe('wasm Conv2DBackpropFilter kernel', () => {
  beforeAll(async () => {
    await initTrainingBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [stride, pad] of [
    [1, 'same'],
    [1, 'valid'],
  ] as const) {
    it(`matches the cpu backend (stride ${stride}, ${pad})`, async () => {
      const rng = new SeededRandom(stride * 10 + pad.length);
      const values = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
      const xShape: [number, number, number, number] = [3, 9, 8, 4];
      const wShape: [number, number, number, number] = [3, 3, 4, 5];
      const xValues = values(3 * 9 * 8 * 4);
      const wValues = values(3 * 3 * 4 * 5);
      const outShape = (await tf.setBackend('cpu'))
        ? tf.conv2d(tf.tensor4d(xValues, xShape), tf.tensor4d(wValues, wShape), stride, pad).shape
        : [];
      const dyValues = values(outShape.reduce((p, d) => p * d, 1));
      const run = () =>
        filterGradient(
          tf.tensor4d(xValues, xShape),
          tf.tensor4d(wValues, wShape),
          tf.tensor4d(dyValues, outShape as [number, number, number, number]),
          stride,
          pad,
        );
      const expected = run();
      await tf.setBackend('wasm');
      const got = run();
      expect(got.length).toBe(expected.length);
      let maxError = 0;
      for (let i = 0; i < got.length; i++) maxError = Math.max(maxError, Math.abs(got[i]! - expected[i]!));
      expect(maxError).toBeLessThan(1e-4);
    });
  }
});

describe('wasm Conv2DBackpropFilter kernel, strided', () => {
  it('refuses strides > 1 instead of returning wrong values', async () => {
    await initTrainingBackend('wasm');
    const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    expect(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 2, 'valid')))(w)).toThrow(
      /stride 1/,
    );
    await tf.setBackend('cpu');
  });
});

describe('writeZooCheckpoint', () => {
  it('writes model.json/weights.bin and a safetensors file with the same values and names', async () => {
    await initTrainingBackend('wasm');
    const dir = mkdtempSync(join(tmpdir(), 'zoo-ckpt-'));
    try {
      const model = buildModel({ architecture: 'cnn', hiddenWidth: 12, weightDecay: 0 }, 3);
      await writeZooCheckpoint(dir, model, {
        family: 'test/base',
        run: 'test',
        step: 0,
        epoch: 0,
        known_test_accuracy: 0.1,
        known_metrics: {},
        dataset: 'mnist',
        architecture: 'cnn',
        parameters: model.countParams(),
        hyperparameters: {},
        notes: '',
      });
      const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const specs = modelJson.weightsManifest[0].weights as { name: string; shape: number[] }[];
      expect(specs.map((s) => s.name)).toContain('conv2d_2/kernel');
      const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
      const header = await readSafetensorsHeader(new MemoryRangeReader('mem://m.safetensors', bytes));
      expect(header.metadata.kernel_layout).toBe('HWIO');
      const weights = model.getWeights();
      expect(header.tensors.map((t) => t.name)).toEqual(specs.map((s) => s.name));
      header.tensors.forEach((t, i) => {
        expect(t.shape).toEqual(weights[i]!.shape);
        const stored = new Float32Array(bytes.slice(t.byteOffset, t.byteOffset + t.byteLength).buffer);
        expect(Array.from(stored)).toEqual(Array.from(weights[i]!.dataSync()));
      });
      expect(header.tensors.find((t) => t.name === 'conv2d_2/kernel')?.shape).toEqual([3, 3, 8, 16]);
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
