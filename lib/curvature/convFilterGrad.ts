/**
 * Filter gradients Σ_{n,i,j} x[n, i+p−top, j+q−left, ci] · d[n, i, j, co] of a stride-1 NHWC
 * convolution, written as convolutions whose *filter* operand is the tensor that stays fixed across
 * Hessian-vector products (a cached activation or a cached first-order gradient, "packed" once per
 * batch by `packed`). The wasm backend keeps one XNNPACK operator per filter tensor, so the weight
 * packing happens once per batch instead of once per product.
 *
 * - d varies (Σ x ⊗ R{d}): input dᵀ [co, H', W', n], filter x packed [H, W, n, ci]; the result comes
 *   out flipped in space as [co, kh, kw, ci].
 * - x varies (Σ R{x} ⊗ d): input xᵀ [ci, H, W, n], filter d packed [H', W', n, co]; the result is
 *   [ci, kh, kw, co].
 */
import * as tf from '@tensorflow/tfjs-core';

export interface ConvGeometry {
  kh: number;
  kw: number;
  top: number;
  left: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/** Geometry of a stride-1 conv; undefined for other strides (callers use the gradient kernel). */
export function strideOneGeometry(
  xShape: number[],
  filterShape: number[],
  strides: [number, number],
  padding: 'same' | 'valid',
): ConvGeometry | undefined {
  if (strides[0] !== 1 || strides[1] !== 1) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    1,
    1,
    padding,
  );
  return {
    kh: info.filterHeight,
    kw: info.filterWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    inH: info.inHeight,
    inW: info.inWidth,
    outH: info.outHeight,
    outW: info.outWidth,
  };
}

/** [n, H, W, c] → [H, W, n, c]: an activation or output gradient as a filter operand. */
export const packed = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [1, 2, 0, 3]) as tf.Tensor4D;

type Explicit = tf.backend_util.ExplicitPadding;

/** Σ x ⊗ d with x given packed. */
export function filterGradPackedInput(g: ConvGeometry, xPacked: tf.Tensor4D, d: tf.Tensor): tf.Tensor {
  const pad: Explicit = [
    [0, 0],
    [g.kh - 1 - g.top, g.inH - g.outH + g.top],
    [g.kw - 1 - g.left, g.inW - g.outW + g.left],
    [0, 0],
  ];
  const flipped = tf.conv2d(tf.transpose(d, [3, 1, 2, 0]) as tf.Tensor4D, xPacked, 1, pad);
  return tf.transpose(tf.reverse(flipped, [1, 2]), [1, 2, 3, 0]);
}

/** Σ x ⊗ d with d given packed. */
export function filterGradPackedGradient(g: ConvGeometry, x: tf.Tensor, dPacked: tf.Tensor4D): tf.Tensor {
  const pad: Explicit = [
    [0, 0],
    [g.top, g.kh - 1 + g.outH - g.inH - g.top],
    [g.left, g.kw - 1 + g.outW - g.inW - g.left],
    [0, 0],
  ];
  const out = tf.conv2d(tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D, dPacked, 1, pad);
  return tf.transpose(out, [1, 2, 0, 3]);
}
