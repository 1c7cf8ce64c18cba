/**
 * Float64 references for the curvature tests: the closed-form Hessian of softmax regression, and a
 * tiny tanh MLP whose Hessian is formed column by column from central differences of its analytic
 * float64 gradient. Parameter order matches the tfjs network: per layer kernel (row-major) then bias.
 */

export interface Problem {
  /** n×d inputs, row-major. */
  x: Float64Array;
  labels: Int32Array;
  n: number;
  d: number;
  c: number;
}

function softmaxRow(z: Float64Array): Float64Array {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Hessian of mean CE for logits = xW + b, θ = (W[d×c], b[c]): (1/n) Σ x̃x̃ᵀ ⊗ (diag p − ppᵀ). */
export function softmaxRegressionHessian(p: Problem, w: Float64Array, b: Float64Array): Float64Array {
  const { n, d, c } = p;
  const dim = (d + 1) * c;
  const h = new Float64Array(dim * dim);
  for (let s = 0; s < n; s++) {
    const xt = new Float64Array(d + 1);
    xt.set(p.x.subarray(s * d, s * d + d));
    xt[d] = 1;
    const z = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      let acc = b[k]!;
      for (let i = 0; i < d; i++) acc += xt[i]! * w[i * c + k]!;
      z[k] = acc;
    }
    const prob = softmaxRow(z);
    for (let i = 0; i <= d; i++) {
      for (let k = 0; k < c; k++) {
        for (let j = 0; j <= d; j++) {
          for (let l = 0; l < c; l++) {
            const curv = (k === l ? prob[k]! : 0) - prob[k]! * prob[l]!;
            h[(i * c + k) * dim + j * c + l]! += (xt[i]! * xt[j]! * curv) / n;
          }
        }
      }
    }
  }
  return h;
}

/** Gradient of mean CE for the MLP d →(tanh) hidden → c, θ = (W1, b1, W2, b2). */
export function mlpGradient(p: Problem, hidden: number, theta: Float64Array): Float64Array {
  const { n, d, c } = p;
  const w1 = 0;
  const b1 = d * hidden;
  const w2 = b1 + hidden;
  const b2 = w2 + hidden * c;
  const g = new Float64Array(theta.length);
  for (let s = 0; s < n; s++) {
    const x = p.x.subarray(s * d, s * d + d);
    const a = new Float64Array(hidden);
    for (let j = 0; j < hidden; j++) {
      let acc = theta[b1 + j]!;
      for (let i = 0; i < d; i++) acc += x[i]! * theta[w1 + i * hidden + j]!;
      a[j] = Math.tanh(acc);
    }
    const z = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      let acc = theta[b2 + k]!;
      for (let j = 0; j < hidden; j++) acc += a[j]! * theta[w2 + j * c + k]!;
      z[k] = acc;
    }
    const prob = softmaxRow(z);
    const dz = prob.map((v, k) => (v - (k === p.labels[s] ? 1 : 0)) / n);
    const da = new Float64Array(hidden);
    for (let j = 0; j < hidden; j++) {
      for (let k = 0; k < c; k++) {
        g[w2 + j * c + k]! += a[j]! * dz[k]!;
        da[j]! += theta[w2 + j * c + k]! * dz[k]!;
      }
    }
    for (let k = 0; k < c; k++) g[b2 + k]! += dz[k]!;
    for (let j = 0; j < hidden; j++) {
      const dpre = da[j]! * (1 - a[j]! * a[j]!);
      g[b1 + j]! += dpre;
      for (let i = 0; i < d; i++) g[w1 + i * hidden + j]! += x[i]! * dpre;
    }
  }
  return g;
}

/** Hessian by central differences of the float64 gradient (step 1e-5: error ~1e-10), symmetrised. */
export function finiteDifferenceHessian(
  gradient: (theta: Float64Array) => Float64Array,
  theta: Float64Array,
) {
  const dim = theta.length;
  const eps = 1e-5;
  const h = new Float64Array(dim * dim);
  for (let j = 0; j < dim; j++) {
    const plus = Float64Array.from(theta);
    const minus = Float64Array.from(theta);
    plus[j]! += eps;
    minus[j]! -= eps;
    const gp = gradient(plus);
    const gm = gradient(minus);
    for (let i = 0; i < dim; i++) h[i * dim + j] = (gp[i]! - gm[i]!) / (2 * eps);
  }
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < i; j++) {
      const avg = (h[i * dim + j]! + h[j * dim + i]!) / 2;
      h[i * dim + j] = avg;
      h[j * dim + i] = avg;
    }
  }
  return h;
}

export function matVec(h: Float64Array, v: Float64Array): Float64Array {
  const dim = v.length;
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += h[i * dim + j]! * v[j]!;
    out[i] = s;
  }
  return out;
}

export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
