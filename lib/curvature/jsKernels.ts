/**
 * Plain-JS gradient kernels that replace missing or wrong ones:
 * - Conv2DBackpropFilter for `cpu` and `wasm`: wasm has none at all (no conv net can be
 *   differentiated on it), and the stock cpu kernel is ~10x slower than this loop ordering.
 *   NHWC only, any stride/padding, dilation 1 — what `tf.layers` Conv2D produces.
 * - MaxPoolGrad for `wasm`: the wasm kernel drops the gradient of windows cut short by 'same'
 *   padding (measured: tfjs-backend-wasm 4.22, 5×5 input, 2×2 pool), the cpu one is right.
 */
import * as tf from '@tensorflow/tfjs-core';

type NumberArray = ArrayLike<number>;

interface FilterGradInputs {
  x: NumberArray;
  dy: NumberArray;
  info: tf.backend_util.Conv2DInfo;
}

/** dW[p,q,ci,co] = Σ_{n,i,j} x[n, i·sh + p − top, j·sw + q − left, ci] · dy[n,i,j,co]. */
export function conv2dFilterGradient({ x, dy, info }: FilterGradInputs): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  const xRow = inWidth * inChannels;
  const xImage = inHeight * xRow;
  const dyRow = outWidth * outChannels;
  const dyImage = outHeight * dyRow;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const dyBase = n * dyImage + i * dyRow + j * outChannels;
        for (let p = 0; p < filterHeight; p++) {
          const xi = i * strideHeight + p - top;
          if (xi < 0 || xi >= inHeight) continue;
          for (let q = 0; q < filterWidth; q++) {
            const xj = j * strideWidth + q - left;
            if (xj < 0 || xj >= inWidth) continue;
            const xBase = n * xImage + xi * xRow + xj * inChannels;
            const wBase = (p * filterWidth + q) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = x[xBase + ci]!;
              if (xv === 0) continue;
              const o = wBase + ci * outChannels;
              for (let co = 0; co < outChannels; co++) out[o + co]! += xv * dy[dyBase + co]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(out);
}

interface BackendWithHeap extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}
interface BackendWithTensorInfo extends tf.KernelBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function hasHeap(backend: tf.KernelBackend): backend is BackendWithHeap {
  return typeof (backend as Partial<BackendWithHeap>).typedArrayFromHeap === 'function';
}

const filterGradKernel: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as tf.KernelBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'same' | 'valid' | number;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropFilter (weightlens JS kernel): NCHW is not supported');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const values = conv2dFilterGradient({
    x: backend.readSync(x.dataId) as NumberArray,
    dy: backend.readSync(dy.dataId) as NumberArray,
    info,
  });
  return output(backend, filterShape, values);
};

/**
 * Route each output gradient to the first maximum of its window (what the cpu kernel does), into
 * `dx` (zeroed here). The window's row/column ranges are clipped once per window, not per element.
 */
export function maxPoolInputGradient(
  input: NumberArray,
  dy: NumberArray,
  info: tf.backend_util.Conv2DInfo,
  dx: Float32Array = new Float32Array(info.batchSize * info.inHeight * info.inWidth * info.inChannels),
): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  dx.fill(0);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const row0 = i * strideHeight - top;
      const p0 = Math.max(0, -row0);
      const p1 = Math.min(filterHeight, inHeight - row0);
      for (let j = 0; j < outWidth; j++) {
        const col0 = j * strideWidth - left;
        const q0 = Math.max(0, -col0);
        const q1 = Math.min(filterWidth, inWidth - col0);
        const pixel0 = (n * inHeight + row0) * inWidth + col0;
        for (let c = 0; c < inChannels; c++, o++) {
          let best = -1;
          let bestValue = Number.NEGATIVE_INFINITY;
          for (let p = p0; p < p1; p++) {
            let index = (pixel0 + p * inWidth + q0) * inChannels + c;
            for (let q = q0; q < q1; q++, index += inChannels) {
              const value = input[index]!;
              if (value > bestValue) {
                bestValue = value;
                best = index;
              }
            }
          }
          if (best >= 0) dx[best]! += dy[o]!;
        }
      }
    }
  }
  return dx;
}

function output(backend: tf.KernelBackend, shape: number[], values: Float32Array): tf.TensorInfo {
  if (hasHeap(backend)) {
    const out = backend.makeOutput(shape, 'float32');
    backend.typedArrayFromHeap(out).set(values);
    return out;
  }
  return (backend as BackendWithTensorInfo).makeTensorInfo(shape, 'float32', values);
}

const maxPoolGradKernel: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as tf.KernelBackend;
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  if (hasHeap(backend)) {
    // wasm: read and write the heap in place (readSync would copy both inputs).
    const out = backend.makeOutput(input.shape, 'float32');
    maxPoolInputGradient(
      backend.typedArrayFromHeap(input),
      backend.typedArrayFromHeap(dy),
      info,
      backend.typedArrayFromHeap(out),
    );
    return out;
  }
  const values = maxPoolInputGradient(
    backend.readSync(input.dataId) as NumberArray,
    backend.readSync(dy.dataId) as NumberArray,
    info,
  );
  return output(backend, input.shape, values);
};

/** Use our MaxPoolGrad on wasm (idempotent). */
export function registerMaxPoolGradKernel(backendName: 'wasm'): void {
  const existing = tf.getKernel(tf.MaxPoolGrad, backendName);
  if (existing?.kernelFunc === maxPoolGradKernel) return;
  if (existing) tf.unregisterKernel(tf.MaxPoolGrad, backendName);
  tf.registerKernel({ kernelName: tf.MaxPoolGrad, backendName, kernelFunc: maxPoolGradKernel });
}

/** Register the kernel for one backend (idempotent; silences tfjs's "already registered" warning). */
export function registerConvFilterKernel(backendName: 'cpu' | 'wasm'): void {
  const existing = tf.getKernel(tf.Conv2DBackpropFilter, backendName);
  if (existing?.kernelFunc === filterGradKernel) return;
  if (existing) tf.unregisterKernel(tf.Conv2DBackpropFilter, backendName);
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName, kernelFunc: filterGradKernel });
}

/**
 * Index kernels for max-pool's directional passes with the routing cached per batch (stages.ts):
 * `WeightlensGatherIndex`: y[o] = x[index[o]] (0 where index < 0), shape `shape`;
 * `WeightlensScatterIndex`: dx = 0, dx[index[o]] = dy[o] (indices distinct), shape `shape`.
 * One pass over the outputs, where MaxPoolGrad compares every window again.
 */
export const GATHER_INDEX = 'WeightlensGatherIndex';
export const SCATTER_INDEX = 'WeightlensScatterIndex';

function readFloats(backend: tf.KernelBackend, info: tf.TensorInfo): ArrayLike<number> {
  return hasHeap(backend) ? backend.typedArrayFromHeap(info) : (backend.readSync(info.dataId) as NumberArray);
}

function indexKernel(scatter: boolean): tf.KernelFunc {
  return ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as tf.KernelBackend;
    const { x, index } = inputs as { x: tf.TensorInfo; index: tf.TensorInfo };
    const { shape } = attrs as unknown as { shape: number[] };
    const size = shape.reduce((a, b) => a * b, 1);
    // The output first: allocating can grow the wasm memory, which detaches every heap view taken
    // before (they then read as empty, and the gather as NaN).
    const heapOut = hasHeap(backend) ? backend.makeOutput(shape, 'float32') : undefined;
    const out = heapOut && hasHeap(backend) ? backend.typedArrayFromHeap(heapOut) : new Float32Array(size);
    const source = readFloats(backend, x);
    const indices = backend.readSync(index.dataId) as Int32Array;
    if (scatter) {
      out.fill(0);
      for (let o = 0; o < indices.length; o++) {
        const i = indices[o]!;
        if (i >= 0) out[i] = source[o]!;
      }
    } else {
      for (let o = 0; o < indices.length; o++) {
        const i = indices[o]!;
        out[o] = i >= 0 ? source[i]! : 0;
      }
    }
    return heapOut ?? (backend as BackendWithTensorInfo).makeTensorInfo(shape, 'float32', out);
  };
}

const gatherIndexKernel = indexKernel(false);
const scatterIndexKernel = indexKernel(true);

/** Register the index kernels for one backend (idempotent). */
export function registerIndexKernels(backendName: 'cpu' | 'wasm'): void {
  for (const [kernelName, kernelFunc] of [
    [GATHER_INDEX, gatherIndexKernel],
    [SCATTER_INDEX, scatterIndexKernel],
  ] as const) {
    if (tf.getKernel(kernelName, backendName)?.kernelFunc === kernelFunc) continue;
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}
