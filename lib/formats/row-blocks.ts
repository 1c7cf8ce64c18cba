/**
 * A 2-D tensor read in blocks of whole rows, so a tall matrix (a 128 256-token embedding) is never
 * decoded whole: readers whose tensors are contiguous row-major bytes give a ranged row reader
 * (`OpenedCheckpoint.rowReader`), one ranged read per block; others are decoded once and cut.
 */
import { BadInputError } from '../errors.ts';
import { isRangeInside } from './range.ts';
import type { OpenedCheckpoint, TensorInfo } from './types.ts';

export type FloatArray = Float32Array | Float64Array;

/** Rows [start, start + count) of a row-major tensor as a tensor of its own (same file and dtype). */
export function rowRange(info: TensorInfo, start: number, count: number): TensorInfo {
  const context = { file: info.uri, tensor: info.name };
  const rows = info.shape[0];
  if (info.shape.length < 2 || rows === undefined) {
    throw new BadInputError(`a ${info.shape.length}-D tensor has no rows`, context);
  }
  if (!isRangeInside(start, count, rows, 1)) {
    throw new BadInputError(
      `rows [${start}, ${start + count}) lie outside the first axis (${rows})`,
      context,
    );
  }
  if (info.byteLength % rows !== 0) {
    throw new BadInputError(`${info.byteLength} bytes do not split into ${rows} equal rows`, context);
  }
  const rowBytes = info.byteLength / rows;
  return {
    ...info,
    shape: [count, ...info.shape.slice(1)],
    byteOffset: info.byteOffset + start * rowBytes,
    byteLength: count * rowBytes,
  };
}

/**
 * The rows of `info` (shape [rows, ...]) in blocks of at most `blockRows`, first to last. Memory:
 * one block with a ranged row reader, else the decoded tensor (cut into views).
 */
export async function* rowBlocks(
  ckpt: OpenedCheckpoint,
  info: TensorInfo,
  blockRows: number,
): AsyncGenerator<{ start: number; rows: number; data: FloatArray }> {
  const rows = info.shape[0]!;
  const perRow = info.shape.slice(1).reduce((a, b) => a * b, 1);
  const read = ckpt.rowReader?.(info);
  const whole = read ? undefined : await ckpt.readTensor(info);
  for (let start = 0; start < rows; start += blockRows) {
    const count = Math.min(blockRows, rows - start);
    const data = read ? await read(start, count) : whole!.subarray(start * perRow, (start + count) * perRow);
    yield { start, rows: count, data };
  }
}
