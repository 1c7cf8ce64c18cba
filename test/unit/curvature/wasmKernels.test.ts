/**
 * The wasm gradient kernels routed through XNNPACK convolutions and explicit transposes
 * (lib/curvature/wasmKernels.ts) against the stock cpu backend's kernels on the same inputs:
 * Conv2DBackpropFilter / Conv2DBackpropInput for odd and even kernels, 'same' (asymmetric for even
 * kernels) and 'valid' padding, stride 1 (the XNNPACK route) and 2 (the previous kernels), and
 * BatchMatMul with every transpose combination, batched and not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { GATHER_INDEX } from '../../../lib/curvature/jsKernels.ts';
import { SeededRandom } from '../../../lib/curvature/vector.ts';

const rng = new SeededRandom(3);
const randomArray = (shape: number[]) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.gaussian());

/** Run `f` on both backends with the same input arrays; returns [wasm, cpu] outputs. */
async function onBoth(
  inputs: { shape: number[]; values: Float32Array }[],
  f: (...t: tf.Tensor[]) => tf.Tensor,
): Promise<[Float32Array, Float32Array]> {
  const out: Float32Array[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await initCurvatureBackend(backend, () => {});
    const ts = inputs.map((i) => tf.tensor(i.values, i.shape));
    const y = f(...ts);
    out.push(y.dataSync() as Float32Array);
    tf.dispose([...ts, y]);
  }
  return [out[0]!, out[1]!];
}

function expectClose(got: Float32Array, expected: Float32Array) {
  expect(got.length).toBe(expected.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < got.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    diff = Math.max(diff, Math.abs(got[i]! - expected[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  expect(diff / scale).toBeLessThan(1e-5);
}

describe('wasm conv gradient kernels equal the cpu ones', () => {
  const cases: [number, number, 'same' | 'valid', number][] = [
    [3, 1, 'same', 1],
    [3, 1, 'valid', 1],
    [2, 1, 'same', 1],
    [2, 1, 'valid', 1],
    [3, 2, 'same', 1],
    [3, 2, 'valid', 1],
  ];
  it.each(cases)('kernel %i stride %i %s', async (k, stride, padding) => {
    const [n, h, w, ci, co] = [3, 7, 6, 2, 3];
    const xShape = [n, h, w, ci];
    const filterShape = [k, k, ci, co];
    const outShape = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      stride,
      1,
      padding,
    ).outShape;
    const x = { shape: xShape, values: randomArray(xShape) };
    const dy = { shape: outShape, values: randomArray(outShape) };
    const filter = { shape: filterShape, values: randomArray(filterShape) };
    const [filterWasm, filterCpu] = await onBoth(
      [x, dy],
      (xt, dyt) =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropFilter,
            { x: xt!, dy: dyt! },
            { strides: stride, pad: padding, dataFormat: 'NHWC', filterShape },
          ) as tf.Tensor,
    );
    expectClose(filterWasm, filterCpu);
    const [inputWasm, inputCpu] = await onBoth([dy, filter], (dyt, ft) =>
      tf.conv2dTranspose(
        dyt as tf.Tensor4D,
        ft as tf.Tensor4D,
        xShape as [number, number, number, number],
        stride,
        padding,
      ),
    );
    expectClose(inputWasm, inputCpu);
  });
});

describe('wasm BatchMatMul with transposes equals the cpu one', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('transposeA %s transposeB %s', async (ta, tb) => {
    for (const batch of [[], [2]]) {
      const aShape = [...batch, ...(ta ? [5, 4] : [4, 5])];
      const bShape = [...batch, ...(tb ? [3, 5] : [5, 3])];
      const [got, expected] = await onBoth(
        [
          { shape: aShape, values: randomArray(aShape) },
          { shape: bShape, values: randomArray(bShape) },
        ],
        (a, b) => tf.matMul(a!, b!, ta, tb),
      );
      expectClose(got, expected);
    }
  });
});

interface GrowableWasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  wasm: { _malloc(bytes: number): number; _free(offset: number): void; HEAPU8: Uint8Array };
}

/**
 * The first output allocations of `run` grow the wasm memory (a block as large as the whole heap is
 * taken and given back), as happens when a kernel runs on a fragmented heap: heap views a kernel
 * took before its allocation are detached by that and read as empty. Two at most, so the heap
 * stays a few times its size.
 */
async function withGrowingHeap<T>(run: () => T): Promise<T> {
  await initCurvatureBackend('wasm', () => {});
  const backend = tf.backend() as unknown as GrowableWasmBackend;
  const makeOutput = backend.makeOutput;
  let grown = 0;
  backend.makeOutput = function (this: GrowableWasmBackend, shape, dtype) {
    const info = makeOutput.call(this, shape, dtype);
    if (grown >= 2) return info;
    const before = this.wasm.HEAPU8.byteLength;
    this.wasm._free(this.wasm._malloc(before));
    if (this.wasm.HEAPU8.byteLength > before) grown += 1;
    return info;
  };
  try {
    const result = run();
    expect(grown).toBeGreaterThan(0);
    return result;
  } finally {
    backend.makeOutput = makeOutput;
  }
}

describe('wasm kernels allocate their output before reading the heap', () => {
  it('Conv2DBackpropInput (flipped filter) while the memory grows', async () => {
    const xShape: [number, number, number, number] = [2, 5, 5, 2];
    const dyShape = [2, 5, 5, 3];
    const filterShape = [3, 3, 2, 3];
    const dy = { shape: dyShape, values: randomArray(dyShape) };
    const filter = { shape: filterShape, values: randomArray(filterShape) };
    const [, expected] = await onBoth([dy, filter], (d, f) =>
      tf.conv2dTranspose(d as tf.Tensor4D, f as tf.Tensor4D, xShape, 1, 'same'),
    );
    const got = await withGrowingHeap(() =>
      tf.tidy(() =>
        tf
          .conv2dTranspose(
            tf.tensor4d(dy.values, dyShape as [number, number, number, number]),
            tf.tensor4d(filter.values, filterShape as [number, number, number, number]),
            xShape,
            1,
            'same',
          )
          .dataSync(),
      ),
    );
    expectClose(got as Float32Array, expected);
  });

  it('the gather index kernel while the memory grows', async () => {
    const values = randomArray([12]);
    const index = Int32Array.from([11, -1, 0, 5, 5, 3]);
    const got = await withGrowingHeap(() =>
      tf.tidy(() =>
        (
          tf
            .engine()
            .runKernel(
              GATHER_INDEX,
              { x: tf.tensor1d(values), index: tf.tensor1d(index, 'int32') },
              { shape: [6] },
            ) as tf.Tensor
        ).dataSync(),
      ),
    );
    expect(Array.from(got)).toEqual(Array.from(index, (i) => (i >= 0 ? values[i]! : 0)));
  });
});
