/**
 * Gathering a strided view into a row-major array: PyTorch tensors saved as views (`w.t()`) and
 * NumPy Fortran-order arrays store elements at `Σ index[k] · stride[k]` of their span.
 */

/** out[i] = span[offset of the i-th row-major index]; strides are in elements. Memory: one output. */
export function gatherStrided<T extends Float32Array | Float64Array>(
  span: T,
  shape: readonly number[],
  strides: readonly number[],
): T {
  let count = 1;
  for (const dim of shape) count *= dim;
  const out = new (span.constructor as new (n: number) => T)(count);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let i = 0; i < count; i++) {
    out[i] = span[source]!;
    // Odometer over the shape, moving the source offset by each axis' stride.
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]! += 1;
      source += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      source -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** Row-major (C order) strides of a shape, in elements. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

/** Column-major (Fortran order) strides of a shape, in elements. */
export function columnMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = 0; axis < shape.length; axis++) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}
