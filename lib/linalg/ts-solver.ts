/** The pure-TypeScript path: Gram matrix in float64, then tridiagonal QL (see tridiagonal.ts). */
import { type FloatArray, gramOfRows, smallSideRows } from './gram.ts';
import { symmetricEigenvalues } from './tridiagonal.ts';

/**
 * Ascending squared singular values of the row-major rows×cols matrix (min(rows, cols) of them).
 * Tiny negative round-off values of the PSD Gram matrix are clamped to 0 (σ² is never negative).
 */
export function squaredSingularValuesTs(data: FloatArray, rows: number, cols: number): Float64Array {
  const { a, m, n } = smallSideRows(data, rows, cols);
  const gram = gramOfRows(a, m, n);
  const values = symmetricEigenvalues(gram, m);
  for (let i = 0; i < values.length; i++) if (values[i]! < 0) values[i] = 0;
  return values;
}
