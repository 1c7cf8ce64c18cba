/**
 * A curvature network as a chain of primitive stages (the layers' ops, activations split off), and
 * each stage's forward pass, first-order backward pass and its two directional derivatives (the
 * R-operator of Pearlmutter 1994): `rForward` gives R{y} = ∂y/∂(w,a)·(v, R{a}); `rBackward` gives
 * R{∂L/∂a} and the stage's block of H·v from ∂L/∂y and R{∂L/∂y}. hvp.ts runs them over activations
 * and first-order gradients cached once per batch, as PyHessian reuses its gradient graph.
 *
 * `null` stands for an exactly-zero tensor (R{x} of the data, or a stage with no parameters fed
 * zeros), so the first layer skips the terms that vanish.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  filterGradPackedGradient,
  filterGradPackedInput,
  packed,
  strideOneGeometry,
} from './convFilterGrad.ts';
import { GATHER_INDEX, SCATTER_INDEX } from './jsKernels.ts';
import { sumPoolNonOverlapping } from './secondOrder.ts';

export type ActivationName = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softplus';
type Padding = 'same' | 'valid';

export type Stage =
  | { kind: 'dense'; kernel: number; bias?: number }
  | { kind: 'conv2d'; kernel: number; bias?: number; strides: [number, number]; padding: Padding }
  | { kind: 'activation'; name: ActivationName }
  | { kind: 'maxPool' | 'avgPool'; pool: [number, number]; strides: [number, number]; padding: Padding }
  | { kind: 'flatten' }
  | {
      kind: 'batchNorm';
      gamma?: number;
      beta?: number;
      mean: tf.Tensor1D;
      variance: tf.Tensor1D;
      epsilon: number;
    };

export const stageHasParams = (s: Stage): boolean =>
  s.kind === 'dense' || s.kind === 'conv2d' || (s.kind === 'batchNorm' && (s.gamma ?? s.beta) !== undefined);

/** What the forward pass leaves for the derivative passes of one stage (kept tensors). */
export interface StageState {
  input: tf.Tensor;
  output: tf.Tensor;
  /**
   * activation: σ'(a), σ''(a) (undefined when zero); maxPool: routing mask and, where the index
   * kernels exist, the routed input index of each output; batchNorm: scale k, x̂, r; stride-1
   * conv2d: the input packed as a filter operand, then (set by the caller once ∂L/∂y is known) ∂L/∂y
   * packed likewise (convFilterGrad.ts).
   */
  aux: (tf.Tensor | undefined)[];
}

type Params = readonly tf.Tensor[];

const add = (a: tf.Tensor | null, b: tf.Tensor | null): tf.Tensor | null =>
  a === null ? b : b === null ? a : tf.add(a, b);

/** Σ over every axis but the last (per-channel sums of NHWC or [n, c] tensors). */
const channelSum = (t: tf.Tensor) => tf.sum(t, [...Array(t.rank - 1).keys()]);

function poolAttrs(s: Extract<Stage, { kind: 'maxPool' | 'avgPool' }>) {
  return { filterSize: s.pool, strides: s.strides, pad: s.padding };
}

function filterGrad(
  s: Extract<Stage, { kind: 'conv2d' }>,
  x: tf.Tensor,
  dy: tf.Tensor,
  kernel: tf.Tensor,
): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      tf.Conv2DBackpropFilter,
      { x, dy },
      { strides: s.strides, pad: s.padding, dataFormat: 'NHWC', filterShape: kernel.shape },
    ) as tf.Tensor;
}

/**
 * For each max-pool output, the flat input index its window routes to (−1: none), read off the
 * routing mask of the backend's own MaxPoolGrad (windows do not overlap: each input position lies
 * in at most one window). Undefined where the index kernels are not registered (other backends).
 */
function routingIndex(
  s: Extract<Stage, { kind: 'maxPool' | 'avgPool' }>,
  mask: tf.Tensor,
  outShape: number[],
): tf.Tensor | undefined {
  const backend = tf.getBackend();
  if (!tf.getKernel(GATHER_INDEX, backend) || !tf.getKernel(SCATTER_INDEX, backend)) return undefined;
  const [n, h, w, c] = mask.shape as [number, number, number, number];
  const info = tf.backend_util.computePool2DInfo([n, h, w, c], s.pool, s.strides, 1, s.padding);
  const [, outH, outW] = outShape as [number, number, number, number];
  const { top, left } = info.padInfo;
  const routed = mask.dataSync();
  const index = new Int32Array(n * outH * outW * c).fill(-1);
  let pos = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const i = Math.floor((y + top) / s.strides[0]);
      for (let x = 0; x < w; x++, pos += c) {
        const j = Math.floor((x + left) / s.strides[1]);
        if (i >= outH || j >= outW) continue;
        const o = ((b * outH + i) * outW + j) * c;
        for (let k = 0; k < c; k++) if (routed[pos + k] !== 0) index[o + k] = pos + k;
      }
    }
  }
  return tf.tensor1d(index, 'int32');
}

/** The second derivative σ'' is returned only where it is not identically zero. */
function activationDerivatives(name: ActivationName, a: tf.Tensor): [tf.Tensor, tf.Tensor | undefined] {
  switch (name) {
    case 'linear':
      return [tf.onesLike(a), undefined];
    case 'relu':
      return [tf.cast(tf.greater(a, 0), 'float32'), undefined];
    case 'tanh': {
      const t = tf.tanh(a);
      const d1 = tf.sub(1, tf.square(t));
      return [d1, tf.mul(-2, tf.mul(t, d1))];
    }
    case 'sigmoid':
    case 'softplus': {
      // softplus' = sigmoid, softplus'' = sigmoid'.
      const s = tf.sigmoid(a);
      const ds = tf.mul(s, tf.sub(1, s));
      return name === 'sigmoid' ? [ds, tf.mul(ds, tf.sub(1, tf.mul(2, s)))] : [s, ds];
    }
  }
}

const ACTIVATION_FNS: Record<ActivationName, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
  softplus: (x) => tf.softplus(x),
};

export function activationFn(name: ActivationName): (x: tf.Tensor) => tf.Tensor {
  return ACTIVATION_FNS[name];
}

/** Forward pass of one stage; the returned state's tensors are created here (keep them outside). */
export function forwardStage(s: Stage, a: tf.Tensor, p: Params): StageState {
  switch (s.kind) {
    case 'dense': {
      const z = tf.matMul(a as tf.Tensor2D, p[s.kernel] as tf.Tensor2D);
      return { input: a, output: s.bias === undefined ? z : tf.add(z, p[s.bias]!), aux: [] };
    }
    case 'conv2d': {
      const z = tf.conv2d(a as tf.Tensor4D, p[s.kernel] as tf.Tensor4D, s.strides, s.padding);
      const strideOne = strideOneGeometry(a.shape, p[s.kernel]!.shape, s.strides, s.padding);
      const aux = strideOne ? [packed(a)] : [];
      return { input: a, output: s.bias === undefined ? z : tf.add(z, p[s.bias]!), aux };
    }
    case 'activation':
      return { input: a, output: ACTIVATION_FNS[s.name](a), aux: activationDerivatives(s.name, a) };
    case 'maxPool': {
      const y = tf.maxPool(a as tf.Tensor4D, s.pool, s.strides, s.padding);
      const ones = tf.onesLike(y);
      const mask = tf
        .engine()
        .runKernel(tf.MaxPoolGrad, { dy: ones, input: a, output: y }, poolAttrs(s)) as tf.Tensor;
      return { input: a, output: y, aux: [mask, routingIndex(s, mask, y.shape)] };
    }
    case 'avgPool':
      return { input: a, output: tf.avgPool(a as tf.Tensor4D, s.pool, s.strides, s.padding), aux: [] };
    case 'flatten':
      return { input: a, output: tf.reshape(a, [a.shape[0]!, -1]), aux: [] };
    case 'batchNorm': {
      const r = tf.rsqrt(tf.add(s.variance, s.epsilon));
      const xHat = tf.mul(tf.sub(a, s.mean), r);
      const k = s.gamma === undefined ? r : tf.mul(r, p[s.gamma]!);
      let y = s.gamma === undefined ? xHat : tf.mul(xHat, p[s.gamma]!);
      if (s.beta !== undefined) y = tf.add(y, p[s.beta]!);
      return { input: a, output: y, aux: [k, xHat, r] };
    }
  }
}

/** ∂L/∂a from ∂L/∂y (the stage's vector-Jacobian product at the cached point). */
export function backwardStage(s: Stage, st: StageState, dy: tf.Tensor, p: Params): tf.Tensor {
  switch (s.kind) {
    case 'dense':
      return tf.matMul(dy as tf.Tensor2D, p[s.kernel] as tf.Tensor2D, false, true);
    case 'conv2d':
      return tf.conv2dTranspose(
        dy as tf.Tensor4D,
        p[s.kernel] as tf.Tensor4D,
        st.input.shape as [number, number, number, number],
        s.strides,
        s.padding,
      );
    case 'activation':
      return tf.mul(st.aux[0]!, dy);
    case 'maxPool': {
      const index = st.aux[1];
      if (index) {
        return tf.engine().runKernel(SCATTER_INDEX, { x: dy, index }, { shape: st.input.shape }) as tf.Tensor;
      }
      return tf
        .engine()
        .runKernel(tf.MaxPoolGrad, { dy, input: st.input, output: st.output }, poolAttrs(s)) as tf.Tensor;
    }
    case 'avgPool':
      return tf.engine().runKernel(tf.AvgPoolGrad, { dy, input: st.input }, poolAttrs(s)) as tf.Tensor;
    case 'flatten':
      return tf.reshape(dy, st.input.shape);
    case 'batchNorm':
      return tf.mul(dy, st.aux[0]!);
  }
}

/** R{y} from R{a} (null: zero) and the direction `v` (one tensor per parameter). */
export function rForwardStage(
  s: Stage,
  st: StageState,
  ra: tf.Tensor | null,
  p: Params,
  v: Params,
): tf.Tensor | null {
  switch (s.kind) {
    case 'dense': {
      const a = st.input as tf.Tensor2D;
      const fromInput = ra === null ? null : tf.matMul(ra as tf.Tensor2D, p[s.kernel] as tf.Tensor2D);
      const fromKernel = add(fromInput, tf.matMul(a, v[s.kernel] as tf.Tensor2D));
      return s.bias === undefined ? fromKernel : add(fromKernel, v[s.bias]!);
    }
    case 'conv2d': {
      const conv = (x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s.strides, s.padding);
      const fromInput = ra === null ? null : conv(ra, p[s.kernel]!);
      const fromKernel = add(fromInput, conv(st.input, v[s.kernel]!));
      return s.bias === undefined ? fromKernel : add(fromKernel, v[s.bias]!);
    }
    case 'activation':
      return ra === null ? null : tf.mul(st.aux[0]!, ra);
    case 'maxPool': {
      if (ra === null) return null;
      const index = st.aux[1];
      if (index) {
        return tf.engine().runKernel(GATHER_INDEX, { x: ra, index }, { shape: st.output.shape }) as tf.Tensor;
      }
      const a = poolAttrs(s);
      return sumPoolNonOverlapping(tf.mul(st.aux[0]!, ra) as tf.Tensor4D, {
        filterSize: a.filterSize,
        strides: a.strides,
        pad: a.pad,
      });
    }
    case 'avgPool':
      return ra === null ? null : tf.avgPool(ra as tf.Tensor4D, s.pool, s.strides, s.padding);
    case 'flatten':
      return ra === null ? null : tf.reshape(ra, [ra.shape[0]!, -1]);
    case 'batchNorm': {
      const [k, xHat] = st.aux as [tf.Tensor, tf.Tensor];
      let r = ra === null ? null : tf.mul(ra, k);
      if (s.gamma !== undefined) r = add(r, tf.mul(xHat, v[s.gamma]!));
      if (s.beta !== undefined) r = add(r, v[s.beta]!);
      return r;
    }
  }
}

/**
 * Given ∂L/∂y (`dy`), R{∂L/∂y} (`rdy`) and R{a} (`ra`), writes the stage's H·v blocks into `hv`
 * (indexed like the parameters) and returns R{∂L/∂a} when `needInput`.
 */
export function rBackwardStage(
  s: Stage,
  st: StageState,
  dy: tf.Tensor,
  rdy: tf.Tensor,
  ra: tf.Tensor | null,
  p: Params,
  v: Params,
  hv: (tf.Tensor | undefined)[],
  needInput: boolean,
): tf.Tensor | null {
  switch (s.kind) {
    case 'dense': {
      const a = st.input as tf.Tensor2D;
      const outer = (x: tf.Tensor, d: tf.Tensor) =>
        tf.matMul(x as tf.Tensor2D, d as tf.Tensor2D, true, false);
      hv[s.kernel] = add(outer(a, rdy), ra === null ? null : outer(ra, dy))!;
      if (s.bias !== undefined) hv[s.bias] = tf.sum(rdy, 0);
      if (!needInput) return null;
      const back = (d: tf.Tensor, w: tf.Tensor) => tf.matMul(d as tf.Tensor2D, w as tf.Tensor2D, false, true);
      return tf.add(back(rdy, p[s.kernel]!), back(dy, v[s.kernel]!));
    }
    case 'conv2d': {
      const kernel = p[s.kernel]!;
      const g = strideOneGeometry(st.input.shape, kernel.shape, s.strides, s.padding);
      const [inputPacked, gradientPacked] = st.aux as (tf.Tensor4D | undefined)[];
      const fromRdy =
        g && inputPacked ? filterGradPackedInput(g, inputPacked, rdy) : filterGrad(s, st.input, rdy, kernel);
      let fromRa: tf.Tensor | null = null;
      if (ra !== null) {
        fromRa =
          g && gradientPacked
            ? filterGradPackedGradient(g, ra, gradientPacked)
            : filterGrad(s, ra, dy, kernel);
      }
      hv[s.kernel] = add(fromRdy, fromRa)!;
      if (s.bias !== undefined) hv[s.bias] = channelSum(rdy);
      if (!needInput) return null;
      const shape = st.input.shape as [number, number, number, number];
      const back = (d: tf.Tensor, w: tf.Tensor) =>
        tf.conv2dTranspose(d as tf.Tensor4D, w as tf.Tensor4D, shape, s.strides, s.padding);
      return tf.add(back(rdy, kernel), back(dy, v[s.kernel]!));
    }
    case 'activation': {
      if (!needInput) return null;
      const [d1, d2] = st.aux;
      const main = tf.mul(d1!, rdy);
      return d2 === undefined || ra === null ? main : tf.add(main, tf.mul(d2, tf.mul(ra, dy)));
    }
    case 'maxPool':
    case 'avgPool':
    case 'flatten':
      // Linear in the input (max-pool with its routing held fixed): R{∂L/∂a} = Jᵀ R{∂L/∂y}.
      return needInput ? backwardStage(s, st, rdy, p) : null;
    case 'batchNorm': {
      const [k, xHat, r] = st.aux as [tf.Tensor, tf.Tensor, tf.Tensor];
      if (s.gamma !== undefined) {
        const fromInput = ra === null ? null : tf.mul(tf.mul(dy, ra), r);
        hv[s.gamma] = channelSum(add(tf.mul(rdy, xHat), fromInput)!);
      }
      if (s.beta !== undefined) hv[s.beta] = channelSum(rdy);
      if (!needInput) return null;
      const main = tf.mul(rdy, k);
      return s.gamma === undefined ? main : tf.add(main, tf.mul(tf.mul(dy, r), v[s.gamma]!));
    }
  }
}
