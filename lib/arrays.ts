/** Typed-array helpers shared by the pure modules. */

/** The parts end to end in one new array of `Kind` (values converted as `TypedArray.set` does). */
export function concatArrays<T extends Uint8Array | Float32Array | Float64Array>(
  Kind: new (length: number) => T,
  parts: readonly ArrayLike<number>[],
): T {
  const out = new Kind(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
