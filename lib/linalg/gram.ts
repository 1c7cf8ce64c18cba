/**
 * The smaller Gram matrix of a row-major rows×cols matrix W: WᵀW when cols ≤ rows, else WWᵀ.
 * Its eigenvalues are the squared singular values of W (WeightWatcher's ESD), in O(N·M²).
 */

export type FloatArray = Float32Array | Float64Array;

/** Columns per cache block of the dot-product loop (a block of 4 rows stays in L1/L2). */
const BLOCK = 512;

/**
 * Copy W into float64 with the small dimension as the row index (m×n, m ≤ n), so the Gram entries
 * are dot products of contiguous rows.
 */
export function smallSideRows(
  data: FloatArray,
  rows: number,
  cols: number,
): { a: Float64Array; m: number; n: number } {
  if (rows <= cols) return { a: Float64Array.from(data.subarray(0, rows * cols)), m: rows, n: cols };
  const a = new Float64Array(rows * cols);
  // Transpose in tiles for cache friendliness.
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        for (let c = c0; c < c1; c++) a[c * rows + r] = data[src + c]!;
      }
    }
  }
  return { a, m: cols, n: rows };
}

/** The m×m Gram matrix (full symmetric storage) of the rows of the m×n matrix `a`. */
export function gramOfRows(a: Float64Array, m: number, n: number): Float64Array {
  const g = new Float64Array(m * m);
  addGramOfRows(g, a, m, n);
  mirrorUpper(g, m);
  return g;
}

/** g += a·aᵀ on and above the diagonal of the m×m row-major `g` (`a` is m×n row-major). */
export function addGramOfRows(g: Float64Array, a: Float64Array, m: number, n: number): void {
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = Math.min(n, k0 + BLOCK);
    for (let i = 0; i < m; i++) {
      const ri = i * n;
      for (let j = i; j < m; j++) {
        const rj = j * n;
        let s0 = 0;
        let s1 = 0;
        let k = k0;
        for (; k + 1 < k1; k += 2) {
          s0 += a[ri + k]! * a[rj + k]!;
          s1 += a[ri + k + 1]! * a[rj + k + 1]!;
        }
        if (k < k1) s0 += a[ri + k]! * a[rj + k]!;
        g[i * m + j] = g[i * m + j]! + s0 + s1;
      }
    }
  }
}

/** Copy the upper triangle of the m×m row-major `g` onto the lower one. */
export function mirrorUpper(g: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) g[j * m + i] = g[i * m + j]!;
}
