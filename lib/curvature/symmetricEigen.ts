/**
 * Eigen-decomposition of small dense symmetric matrices by cyclic Jacobi rotations. Used for the
 * Lanczos tridiagonal (m ≤ a few hundred) and for exact reference Hessians in tests; Jacobi is slow
 * for large n but unconditionally accurate, and we need the eigenvectors' first components for SLQ.
 */

export interface SymmetricEigen {
  /** Ascending. */
  values: Float64Array;
  /** Column-major: vectors[k*n + i] is component i of the eigenvector of values[k]. */
  vectors: Float64Array;
}

export function symmetricEigen(matrix: Float64Array, n: number, maxSweeps = 100): SymmetricEigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = a[i * n + j]! * a[i * n + j]!;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * Math.max(total, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // Rotation angle that zeroes a[p][q] (stable form: t = sign(θ)/(|θ| + √(θ²+1))).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x]! - a[y * n + y]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, k) => {
    values[k] = a[col * n + col]!;
    for (let i = 0; i < n; i++) vectors[k * n + i] = v[i * n + col]!;
  });
  return { values, vectors };
}

/** Eigen-decomposition of the symmetric tridiagonal matrix with diagonal `alpha` and off-diagonal `beta`. */
export function tridiagonalEigen(alpha: ArrayLike<number>, beta: ArrayLike<number>): SymmetricEigen {
  const m = alpha.length;
  const t = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    t[i * m + i] = alpha[i]!;
    if (i + 1 < m) {
      t[i * m + i + 1] = beta[i]!;
      t[(i + 1) * m + i] = beta[i]!;
    }
  }
  return symmetricEigen(t, m);
}
