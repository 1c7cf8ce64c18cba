/**
 * Makes tfjs 4.22 twice differentiable for the ops our curvature networks use.
 *
 * Two engine defects (see docs notes, curvature-quantization §2.2–2.3):
 * 1. Gradients that reuse a kernel's saved *output* (Exp, Tanh, Sigmoid, Softmax) lose
 *    their dependence on the weights in a nested gradient — silently wrong Hessian-vector products.
 *    We re-register them to save the *input* and recompute the output inside the gradient.
 * 2. First-order gradient kernels with no gradient of their own (Conv2DBackpropFilter, MaxPoolGrad,
 *    AvgPoolGrad, and the comparisons used for masks) throw in the second backward pass. We register
 *    their adjoints (and zero gradients for the piecewise-constant comparisons).
 *
 * Registrations are global to the process (tfjs keeps one registry), so run curvature in its own
 * worker process; the corrected gradients are also exact for first-order training.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // its bundle registers the stock gradients; ours must come after

type PoolAttrs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

const pair = (v: [number, number] | number): [number, number] => (typeof v === 'number' ? [v, v] : v);

/**
 * Sum over each pooling window, for windows that tile the input (stride == window): pad/crop to a
 * whole number of windows, reshape and sum. Used as the adjoint of max-pool's gradient.
 */
export function sumPoolNonOverlapping(x: tf.Tensor4D, attrs: PoolAttrs): tf.Tensor4D {
  const [fh, fw] = pair(attrs.filterSize);
  const [sh, sw] = pair(attrs.strides);
  if (fh !== sh || fw !== sw) {
    throw new Error(
      `second-order max-pool needs non-overlapping windows (pool ${fh}x${fw}, stride ${sh}x${sw})`,
    );
  }
  const info = tf.backend_util.computePool2DInfo(
    x.shape,
    [fh, fw],
    [sh, sw],
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [n, h, w, c] = x.shape;
  const needH = info.outHeight * sh;
  const needW = info.outWidth * sw;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const padded = tf.pad(x, [
    [0, 0],
    [top, Math.max(0, needH - h - top)],
    [left, Math.max(0, needW - w - left)],
    [0, 0],
  ]);
  const cropped = tf.slice(padded, [0, 0, 0, 0], [n, needH, needW, c]);
  const windows = tf.reshape(cropped, [n, info.outHeight, sh, info.outWidth, sw, c]);
  return tf.sum(windows, [2, 4]) as tf.Tensor4D;
}

const zeroGradient = (kernelName: string): tf.GradConfig => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
  },
});

function secondOrderGradients(): tf.GradConfig[] {
  return [
    {
      kernelName: tf.Exp,
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return { x: () => tf.mul(dy as tf.Tensor, tf.exp(x)) };
      },
    },
    {
      kernelName: tf.Tanh,
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return { x: () => tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(tf.tanh(x)))) };
      },
    },
    {
      kernelName: tf.Sigmoid,
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return {
          x: () => {
            const s = tf.sigmoid(x);
            return tf.mul(dy as tf.Tensor, tf.mul(s, tf.sub(1, s)));
          },
        };
      },
    },
    {
      kernelName: tf.Softmax,
      inputsToSave: ['logits'],
      gradFunc: (dy, saved, attrs) => {
        const [logits] = saved as [tf.Tensor];
        const { dim } = attrs as unknown as { dim: number };
        return {
          logits: () => {
            const y = tf.softmax(logits, dim);
            const dyTimesY = tf.mul(dy as tf.Tensor, y);
            return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
          },
        };
      },
    },
    ...['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr'].map(
      zeroGradient,
    ),
    {
      // dW = Σ x ⊗ dy is bilinear: ⟨dW, U⟩ = ⟨conv(x, U), dy⟩ = ⟨x, convBackpropInput(dy, U)⟩.
      kernelName: tf.Conv2DBackpropFilter,
      inputsToSave: ['x', 'dy'],
      gradFunc: (upstream, saved, attrs) => {
        const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
        const u = upstream as tf.Tensor4D;
        const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
          strides: [number, number];
          pad: 'same' | 'valid' | number;
          dataFormat: 'NHWC' | 'NCHW';
          dimRoundingMode?: 'floor' | 'round' | 'ceil';
        };
        return {
          x: () => tf.conv2dTranspose(dy, u, x.shape, strides, pad as 'same' | 'valid', dimRoundingMode),
          dy: () => tf.conv2d(x, u, strides, pad as 'same' | 'valid', dataFormat, 1, dimRoundingMode),
        };
      },
    },
    {
      // maxPoolGrad routes dy to each window's argmax (piecewise constant in x); its adjoint in dy
      // gathers the upstream at those positions. The routing mask is held constant.
      kernelName: tf.MaxPoolGrad,
      inputsToSave: ['dy', 'input', 'output'],
      gradFunc: (upstream, saved, attrs) => {
        const [dy, input, output] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const a = attrs as unknown as PoolAttrs;
        return {
          dy: () => {
            // maxPoolGrad is not public API; run its kernel directly.
            const mask = tf
              .engine()
              .runKernel(tf.MaxPoolGrad, { dy: tf.onesLike(dy), input, output }, { ...a }) as tf.Tensor4D;
            return sumPoolNonOverlapping(tf.mul(upstream as tf.Tensor4D, mask), a);
          },
          input: () => tf.zerosLike(input),
          output: () => tf.zerosLike(output),
        };
      },
    },
    {
      // avgPoolGrad spreads dy/count over each window; its adjoint is avgPool itself.
      kernelName: tf.AvgPoolGrad,
      inputsToSave: ['input'],
      gradFunc: (upstream, saved, attrs) => {
        const [input] = saved as [tf.Tensor4D];
        const a = attrs as unknown as PoolAttrs;
        return {
          dy: () => tf.avgPool(upstream as tf.Tensor4D, a.filterSize, a.strides, a.pad as 'same'),
          input: () => tf.zerosLike(input),
        };
      },
    },
  ];
}

let installed: tf.GradConfig[] | undefined;

/**
 * Install the corrected gradients (idempotent). Call before building any curvature loss.
 * tfjs keeps its gradient registry on the global object, shared by every tfjs-core copy in the
 * process: loading another copy (tfjs-node-gpu's CommonJS build, even when its native binding is
 * missing) re-registers the stock gradients over ours and silently breaks the products. So the check
 * is whether the registry still holds our functions, not whether we ran before.
 */
export function enableSecondOrder(): void {
  if (installed?.every((config) => tf.getGradient(config.kernelName)?.gradFunc === config.gradFunc)) return;
  installed ??= secondOrderGradients();
  // tfjs warns once per overridden kernel; these overrides are intended, so keep the log clean.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Overriding the gradient')) return;
    warn(...args);
  };
  try {
    for (const config of installed) tf.registerGradient(config);
  } finally {
    console.warn = warn;
  }
}
