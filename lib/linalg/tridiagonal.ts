/**
 * Pure-TypeScript symmetric eigenvalues in float64: Householder reduction to tridiagonal form,
 * then the implicit QL algorithm with Wilkinson-type shifts (eigenvalues only). Errors are
 * O(ε·‖A‖) absolute, the same class as LAPACK's dsyevd, which is what parity needs.
 */

const EPS = 2.220446049250313e-16;
const MAX_QL_ITERATIONS = 60;

/**
 * Reduce the symmetric n×n row-major matrix `a` (overwritten) to tridiagonal form.
 * Returns the diagonal `d` and the off-diagonal `e` (e[k] couples d[k] and d[k+1]).
 */
export function householderTridiagonalize(a: Float64Array, n: number): { d: Float64Array; e: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const rowK = k * n;
    // x = A[k, k+1..n-1] (row k equals column k by symmetry, and is contiguous).
    let scale = 0;
    for (let i = k + 1; i < n; i++) scale += Math.abs(a[rowK + i]!);
    d[k] = a[rowK + k]!;
    if (scale === 0) {
      e[k] = 0;
      continue;
    }
    // Scale to avoid overflow/underflow in the norm.
    let sigma = 0;
    for (let i = k + 1; i < n; i++) {
      const xi = a[rowK + i]! / scale;
      v[i] = xi;
      sigma += xi * xi;
    }
    const x0 = v[k + 1]!;
    const alpha = x0 >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    e[k] = alpha * scale;
    v[k + 1] = x0 - alpha;
    // vᵀv = σ − 2·alpha·x0 + alpha² = 2(σ − alpha·x0)
    const vtv = 2 * (sigma - alpha * x0);
    if (vtv === 0) continue;
    const beta = 2 / vtv;
    // p = β·A22·v, using the full (kept symmetric) trailing block.
    let vtp = 0;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[row + j]! * v[j]!;
      s *= beta;
      w[i] = s;
      vtp += v[i]! * s;
    }
    // w = p − (β·vᵀp/2)·v; A22 ← A22 − v·wᵀ − w·vᵀ
    const kHalf = (beta * vtp) / 2;
    for (let i = k + 1; i < n; i++) w[i] = w[i]! - kHalf * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      const wi = w[i]!;
      for (let j = k + 1; j < n; j++) a[row + j] = a[row + j]! - vi * w[j]! - wi * v[j]!;
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2]!;
    d[n - 1] = a[(n - 1) * n + n - 1]!;
    e[n - 2] = a[(n - 1) * n + n - 2]!;
  } else if (n === 1) {
    d[0] = a[0]!;
  }
  e[n - 1] = 0;
  return { d, e };
}

/** Eigenvalues of the symmetric tridiagonal (d, e) by implicit QL; `d` is overwritten and returned unsorted. */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= EPS * dd) break;
      }
      if (m === l) break;
      if (++iterations > MAX_QL_ITERATIONS) throw new Error('QL iteration did not converge');
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Split: recover and restart this l.
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (underflow) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

/** All eigenvalues of a symmetric n×n row-major matrix (overwritten), ascending. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length < n * n) throw new RangeError(`matrix buffer holds ${a.length} values, need ${n * n}`);
  const { d, e } = householderTridiagonalize(a, n);
  return tridiagonalEigenvalues(d, e).sort();
}
