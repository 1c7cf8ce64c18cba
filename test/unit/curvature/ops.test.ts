/**
 * Every op the exact engine supports, differentiated twice by tfjs (with the corrected gradients)
 * against the Hessian of the same function in float64 (closed form where short, otherwise second
 * central differences of a float64 re-implementation). Losses put a quadratic or a smooth
 * nonlinearity after the op so its second-order path is exercised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { SeededRandom } from '../../../lib/curvature/vector.ts';
import { matVec, relativeError } from './reference.ts';

// Top-level: the tensors below are created while the test file is collected.
await initCurvatureBackend((process.env.CURVATURE_TEST_BACKEND as 'cpu' | 'wasm') ?? 'cpu', () => {});

/** H·v by nested tf.grads of a scalar function of one flat float32 parameter vector. */
function tfjsHvp(loss: (w: tf.Tensor1D) => tf.Scalar, w: Float64Array, v: Float64Array): Float64Array {
  const hv = tf.tidy(() => {
    const direction = tf.tensor1d(Float32Array.from(v));
    const gradient = tf.grad((p: tf.Tensor) => loss(p as tf.Tensor1D));
    const directional = (p: tf.Tensor) => tf.sum(tf.mul(gradient(p), direction));
    return tf.grad(directional)(tf.tensor1d(Float32Array.from(w)));
  });
  const out = Float64Array.from(hv.dataSync());
  hv.dispose();
  return out;
}

/** Hessian of a float64 function by second central differences (step 1e-4: error ~1e-8). */
function secondDifferenceHessian(f: (w: Float64Array) => number, w: Float64Array): Float64Array {
  const n = w.length;
  const h = new Float64Array(n * n);
  const eps = 1e-4;
  const at = (i: number, si: number, j: number, sj: number) => {
    const p = Float64Array.from(w);
    p[i]! += si * eps;
    p[j]! += sj * eps;
    return f(p);
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const value = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * eps * eps);
      h[i * n + j] = value;
      h[j * n + i] = value;
    }
  }
  return h;
}

const rng = new SeededRandom(7);
const f32 = (n: number, scaleBy = 1) =>
  Float64Array.from(Float32Array.from({ length: n }, () => scaleBy * rng.gaussian()));

function check(
  name: string,
  dim: number,
  tfLoss: (w: tf.Tensor1D) => tf.Scalar,
  refLoss: (w: Float64Array) => number,
  tolerance = 1e-4,
) {
  it(name, () => {
    const w = f32(dim);
    const reference = secondDifferenceHessian(refLoss, w);
    for (let trial = 0; trial < 2; trial++) {
      const v = f32(dim);
      expect(relativeError(tfjsHvp(tfLoss, w, v), matVec(reference, v))).toBeLessThan(tolerance);
    }
  });
}

const weights6 = f32(6);
const r6 = tf.tensor1d(Float32Array.from(weights6));
const dotR = (y: ArrayLike<number>) => Array.from(y).reduce((s, x, i) => s + x * weights6[i]!, 0);
const softmax64 = (z: ArrayLike<number>) => {
  const m = Math.max(...Array.from(z));
  const e = Array.from(z, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe('second-order gradients of single ops', () => {
  check(
    'exp',
    6,
    (w) => tf.sum(tf.mul(r6, tf.exp(w))),
    (w) => dotR(w.map(Math.exp)),
  );
  check(
    'tanh',
    6,
    (w) => tf.sum(tf.mul(r6, tf.tanh(w))),
    (w) => dotR(w.map(Math.tanh)),
  );
  check(
    'sigmoid',
    6,
    (w) => tf.sum(tf.mul(r6, tf.sigmoid(w))),
    (w) => dotR(w.map((x) => 1 / (1 + Math.exp(-x)))),
  );
  check(
    'softplus',
    6,
    (w) => tf.sum(tf.mul(r6, tf.softplus(w))),
    (w) => dotR(w.map((x) => Math.log1p(Math.exp(x)))),
  );
  check(
    'relu (squared)',
    6,
    (w) => tf.sum(tf.mul(r6, tf.square(tf.relu(w)))),
    (w) => dotR(w.map((x) => Math.max(x, 0) ** 2)),
  );
  check(
    'softmax',
    6,
    (w) => tf.sum(tf.mul(r6, tf.reshape(tf.softmax(tf.reshape(w, [2, 3])), [6]))),
    (w) => dotR([...softmax64(w.subarray(0, 3)), ...softmax64(w.subarray(3, 6))]),
  );
  check(
    'max (shift for logsumexp)',
    6,
    (w) => {
      const z = tf.reshape(w, [2, 3]);
      const m = tf.max(z, 1, true);
      return tf.sum(tf.add(tf.log(tf.sum(tf.exp(tf.sub(z, m)), 1)), tf.squeeze(m)));
    },
    (w) =>
      [w.subarray(0, 3), w.subarray(3, 6)].reduce(
        (s, row) => s + Math.log(row.reduce((a, x) => a + Math.exp(x), 0)),
        0,
      ),
  );
});

/** NHWC conv (one image), float64, 'same' or 'valid', any stride. */
function conv64(
  x: Float64Array,
  h: number,
  wd: number,
  ci: number,
  k: Float64Array,
  kh: number,
  kw: number,
  co: number,
  stride: number,
  same: boolean,
) {
  const oh = same ? Math.ceil(h / stride) : Math.floor((h - kh) / stride) + 1;
  const ow = same ? Math.ceil(wd / stride) : Math.floor((wd - kw) / stride) + 1;
  const top = same ? Math.floor(Math.max((oh - 1) * stride + kh - h, 0) / 2) : 0;
  const left = same ? Math.floor(Math.max((ow - 1) * stride + kw - wd, 0) / 2) : 0;
  const out: number[] = [];
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let o = 0; o < co; o++) {
        let s = 0;
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const xi = i * stride + p - top;
            const xj = j * stride + q - left;
            if (xi < 0 || xi >= h || xj < 0 || xj >= wd) continue;
            for (let c = 0; c < ci; c++)
              s += x[(xi * wd + xj) * ci + c]! * k[((p * kw + q) * ci + c) * co + o]!;
          }
        out.push(s);
      }
  return out;
}

function pool64(
  x: Float64Array,
  h: number,
  wd: number,
  c: number,
  size: number,
  same: boolean,
  kind: 'max' | 'avg',
) {
  const oh = same ? Math.ceil(h / size) : Math.floor(h / size);
  const ow = same ? Math.ceil(wd / size) : Math.floor(wd / size);
  const top = same ? Math.floor((oh * size - h) / 2) : 0;
  const left = same ? Math.floor((ow * size - wd) / 2) : 0;
  const out: number[] = [];
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let ch = 0; ch < c; ch++) {
        const vals: number[] = [];
        for (let p = 0; p < size; p++)
          for (let q = 0; q < size; q++) {
            const xi = i * size + p - top;
            const xj = j * size + q - left;
            if (xi >= 0 && xi < h && xj >= 0 && xj < wd) vals.push(x[(xi * wd + xj) * c + ch]!);
          }
        out.push(kind === 'max' ? Math.max(...vals) : vals.reduce((a, b) => a + b, 0) / vals.length);
      }
  return out;
}

const sumSquares = (ys: number[], r: Float64Array) => ys.reduce((s, y, i) => s + r[i % r.length]! * y * y, 0);

describe('second-order gradients of conv and pooling (input and filter both parameters)', () => {
  for (const [stride, same] of [
    [1, true],
    [2, false],
  ] as const) {
    const h = 4;
    const wd = 4;
    const ci = 2;
    const co = 2;
    const nx = h * wd * ci;
    const nk = 2 * 2 * ci * co;
    const r = f32(32);
    const rT = tf.tensor1d(Float32Array.from(r));
    check(
      `conv2d stride ${stride} ${same ? 'same' : 'valid'}`,
      nx + nk,
      (w) => {
        const x = tf.reshape(tf.slice(w, 0, nx), [1, h, wd, ci]) as tf.Tensor4D;
        const k = tf.reshape(tf.slice(w, nx, nk), [2, 2, ci, co]) as tf.Tensor4D;
        const y = tf.reshape(tf.conv2d(x, k, stride, same ? 'same' : 'valid'), [-1]);
        return tf.sum(tf.mul(tf.slice(rT, 0, y.size), tf.square(y)));
      },
      (w) => sumSquares(conv64(w.subarray(0, nx), h, wd, ci, w.subarray(nx), 2, 2, co, stride, same), r),
      1e-3,
    );
  }
  // avgPool 'same' with partial windows is excluded: tfjs's first-order AvgPoolGrad divides by the
  // full window size there (a tfjs bug), so the network builder refuses such layers.
  for (const [kind, h, same] of [
    ['max', 4, false],
    ['max', 5, true],
    ['avg', 4, false],
    ['avg', 4, true],
  ] as const) {
    {
      const c = 2;
      const n = h * h * c;
      const r = f32(32);
      const rT = tf.tensor1d(Float32Array.from(r));
      check(
        `${kind}Pool 2x2 on ${h}x${h} ${same ? 'same' : 'valid'} (squared output)`,
        n,
        (w) => {
          const x = tf.reshape(w, [1, h, h, c]) as tf.Tensor4D;
          const pooled =
            kind === 'max'
              ? tf.maxPool(x, 2, 2, same ? 'same' : 'valid')
              : tf.avgPool(x, 2, 2, same ? 'same' : 'valid');
          const y = tf.reshape(pooled, [-1]);
          return tf.sum(tf.mul(tf.slice(rT, 0, y.size), tf.square(y)));
        },
        (w) => sumSquares(pool64(w, h, h, c, 2, same, kind), r),
        1e-3,
      );
    }
  }
});
