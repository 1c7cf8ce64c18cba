/**
 * Faster wasm kernels for the gradient ops a Hessian-vector product runs most, expressed through
 * the backend's own XNNPACK Conv2D and Transpose kernels (measured on the zoo CNN, 128 images: the
 * JS filter-gradient loop and wasm's naive Conv2DBackpropInput took ~70 % of a product; transposed
 * BatchMatMul is ~8× slower than transposing first):
 * - Conv2DBackpropFilter (stride 1): dW[p,q,ci,co] = Σ_{n,i,j} x[n,i+p−top,j+q−left,ci]·dy[n,i,j,co]
 *   is a convolution of x viewed as [ci, H, W, n] (batch ↔ channels) with dy viewed as the filter
 *   [H', W', n, co], giving [ci, kh, kw, co], transposed to [kh, kw, ci, co].
 * - Conv2DBackpropInput (stride 1): dx = conv2d(dy, W flipped in space with in/out channels swapped)
 *   with padding kh−1−top on the leading side.
 * - BatchMatMul with transposeA/transposeB: transpose explicitly (wasm Transpose), then the plain one.
 * Anything else (strides > 1, NCHW, shapes that would need negative padding) goes to the kernel that
 * was registered before, so results are unchanged, only faster.
 */
import * as tf from '@tensorflow/tfjs-core';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type KernelArgs = Parameters<tf.KernelFunc>[0];

interface WasmBackend extends tf.KernelBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

function kernelOf(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`tfjs wasm backend has no ${name} kernel`);
  return config.kernelFunc;
}

const run = (name: string, backend: WasmBackend, inputs: tf.NamedTensorInfoMap, attrs: object) =>
  kernelOf(name)({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;

const transpose = (backend: WasmBackend, x: tf.TensorInfo, perm: number[]) =>
  run(tf.Transpose, backend, { x }, { perm });

const pairOf = (v: [number, number] | number): [number, number] => (typeof v === 'number' ? [v, v] : v);

interface ConvAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Shape4 = [number, number, number, number];

/** A conv's geometry at stride 1 (NHWC), or undefined for NCHW or strides > 1 (the old kernel's). */
function stride1Info(attrs: ConvAttrs, inShape: Shape4, filterShape: Shape4) {
  const [sh, sw] = pairOf(attrs.strides);
  if (attrs.dataFormat === 'NCHW' || sh !== 1 || sw !== 1) return undefined;
  return tf.backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    1,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** XNNPACK's stride-1 NHWC Conv2D with explicit spatial padding. */
function paddedConv(
  backend: WasmBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  [top, bottom, left, right]: [top: number, bottom: number, left: number, right: number],
): tf.TensorInfo {
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  return run(
    tf.Conv2D,
    backend,
    { x, filter },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
  );
}

function filterGradViaConv(
  backend: WasmBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: ConvAttrs & { filterShape: Shape4 },
): tf.TensorInfo | undefined {
  const info = stride1Info(attrs, x.shape as Shape4, attrs.filterShape);
  if (!info) return undefined;
  const { inHeight, inWidth, outHeight, outWidth, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const bottom = kh - 1 + outHeight - inHeight - top;
  const right = kw - 1 + outWidth - inWidth - left;
  if (bottom < 0 || right < 0 || top < 0 || left < 0) return undefined;
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [ci, H, W, n]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [H', W', n, co]
  const conv = paddedConv(backend, xT, dyT, [top, bottom, left, right]); // [ci, kh, kw, co]
  const out = transpose(backend, conv, [1, 2, 0, 3]);
  for (const t of [xT, dyT, conv]) backend.disposeData(t.dataId);
  return out;
}

function inputGradViaConv(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: ConvAttrs & { inputShape: Shape4 },
): tf.TensorInfo | undefined {
  const filterShape = filter.shape as Shape4;
  const info = stride1Info(attrs, attrs.inputShape, filterShape);
  if (!info) return undefined;
  const { inHeight, inWidth, outHeight, outWidth, filterHeight: kh, filterWidth: kw } = info;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = inHeight - outHeight - top + kh - 1;
  const right = inWidth - outWidth - left + kw - 1;
  if (bottom < 0 || right < 0 || top < 0 || left < 0) return undefined;
  const [, , ci, co] = filterShape;
  // Flipped filter [kh, kw, co, ci]: small (one layer's weights), built in JS.
  // Allocate before taking heap views: a growing wasm memory detaches the views taken earlier.
  const flippedInfo = backend.makeOutput([kh, kw, co, ci], 'float32');
  const flipped = backend.typedArrayFromHeap(flippedInfo);
  const w = backend.typedArrayFromHeap(filter);
  for (let p = 0; p < kh; p++) {
    for (let q = 0; q < kw; q++) {
      const src = ((kh - 1 - p) * kw + (kw - 1 - q)) * ci * co;
      const dst = (p * kw + q) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) flipped[dst + o * ci + i] = w[src + i * co + o]!;
      }
    }
  }
  const out = paddedConv(backend, dy, flippedInfo, [top, bottom, left, right]);
  backend.disposeData(flippedInfo.dataId);
  return out;
}

function batchMatMulTransposed(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: { transposeA: boolean; transposeB: boolean },
  plain: tf.KernelFunc,
): tf.TensorInfo {
  const swapLast = (t: tf.TensorInfo) => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return transpose(backend, t, perm);
  };
  const aT = attrs.transposeA ? swapLast(a) : a;
  const bT = attrs.transposeB ? swapLast(b) : b;
  const out = plain({
    inputs: { a: aT, b: bT },
    backend,
    attrs: { ...attrs, transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap,
  }) as tf.TensorInfo;
  if (aT !== a) backend.disposeData(aT.dataId);
  if (bT !== b) backend.disposeData(bT.dataId);
  return out;
}

const marker = Symbol('weightlens-fast-wasm');
type Marked = tf.KernelFunc & { [marker]?: true };

function replace(name: string, make: (previous: tf.KernelFunc) => tf.KernelFunc): void {
  const existing = tf.getKernel(name, 'wasm');
  if (!existing) throw new Error(`tfjs wasm backend has no ${name} kernel to speed up`);
  if ((existing.kernelFunc as Marked)[marker]) return;
  const kernelFunc = make(existing.kernelFunc) as Marked;
  kernelFunc[marker] = true;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc, setupFunc: existing.setupFunc });
}

/**
 * Route the hot gradient kernels of the wasm backend through XNNPACK convolutions and explicit
 * transposes (idempotent). Call after registering the JS Conv2DBackpropFilter (the fallback for
 * strides > 1) and before `tf.setBackend('wasm')`.
 */
export function registerFastWasmKernels(): void {
  replace(tf.Conv2DBackpropFilter, (previous) => (args: KernelArgs) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: Shape4 };
    return filterGradViaConv(args.backend as WasmBackend, x, dy, attrs) ?? previous(args);
  });
  replace(tf.Conv2DBackpropInput, (previous) => (args: KernelArgs) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: Shape4 };
    return inputGradViaConv(args.backend as WasmBackend, dy, filter, attrs) ?? previous(args);
  });
  replace(tf.BatchMatMul, (previous) => (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return previous(args);
    return batchMatMulTransposed(args.backend as WasmBackend, a, b, attrs, previous);
  });
}
