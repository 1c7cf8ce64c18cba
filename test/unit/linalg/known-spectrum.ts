/** Test helpers: Gaussian draws and matrices with a prescribed singular spectrum. */
import { seededRandom } from '../../../lib/random.ts';

/** The one seeded generator (lib/random.ts), re-exported for the tests that build matrices here. */
export { seededRandom };

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Apply the reflection I − 2vvᵀ/‖v‖² to the rows (side 'left') or columns ('right') of a rows×cols matrix. */
function reflect(a: Float64Array, rows: number, cols: number, v: Float64Array, side: 'left' | 'right'): void {
  let vv = 0;
  for (const x of v) vv += x * x;
  const beta = 2 / vv;
  if (side === 'left') {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += v[r]! * a[r * cols + c]!;
      s *= beta;
      for (let r = 0; r < rows; r++) a[r * cols + c] = a[r * cols + c]! - s * v[r]!;
    }
  } else {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += v[c]! * a[r * cols + c]!;
      s *= beta;
      for (let c = 0; c < cols; c++) a[r * cols + c] = a[r * cols + c]! - s * v[c]!;
    }
  }
}

/** A dense rows×cols matrix whose singular values are exactly `singular` (up to rounding). */
export function matrixWithSingularValues(
  rows: number,
  cols: number,
  singular: number[],
  seed: number,
  reflections = 4,
): Float64Array {
  const a = new Float64Array(rows * cols);
  singular.forEach((s, i) => {
    a[i * cols + i] = s;
  });
  const rand = seededRandom(seed);
  for (let k = 0; k < reflections; k++) {
    reflect(
      a,
      rows,
      cols,
      Float64Array.from({ length: rows }, () => gaussian(rand)),
      'left',
    );
    reflect(
      a,
      rows,
      cols,
      Float64Array.from({ length: cols }, () => gaussian(rand)),
      'right',
    );
  }
  return a;
}
