/**
 * Fused mixture-of-experts tensors: one 3-D tensor (E, rows, cols) holding every expert's matrix of
 * a layer, as Hugging Face MoE models store `mlp.experts.gate_up_proj` (E, 2I, H) and
 * `experts.down_proj` (E, H, I), and GGUF stores `ffn_{gate,up,down}_exps` (row-major (E, I, H)).
 * Each expert is its own layer row named `<tensor>[<expert index>]`, read alone: the expert is the
 * index-th slice along the first axis, a contiguous byte range in row-major formats.
 */
import { BadInputError } from '../errors.ts';
import type { OpenedCheckpoint, TensorInfo } from './types.ts';

/** Names of fused expert tensors (state-dict `…experts.<proj>`, GGUF `…_exps`). */
const FUSED_EXPERTS_NAME = /(^|[._/])experts[._/][^/]*$|_exps([._]|$)/i;

/** Whether a tensor is a fused expert tensor: 3-D, named as one, each expert at least a 2×2 matrix. */
export function isFusedExpertTensor(tensor: TensorInfo): boolean {
  const shape = tensor.shape;
  return (
    shape.length === 3 &&
    FUSED_EXPERTS_NAME.test(tensor.name) &&
    shape[0]! >= 1 &&
    Math.min(shape[1]!, shape[2]!) >= 2
  );
}

/** The row name of expert `index` of a fused tensor. */
export function expertRowName(tensorName: string, index: number): string {
  return `${tensorName}[${index}]`;
}

const EXPERT_ROW = /^(.*)\[(\d+)\]$/;

/** The fused tensor and expert index of an expert row name, or undefined for other rows. */
export function parseExpertRowName(rowName: string): { group: string; index: number } | undefined {
  const match = EXPERT_ROW.exec(rowName);
  return match ? { group: match[1]!, index: Number(match[2]) } : undefined;
}

/** The number of slices of `info`, after checking `index` is one of them. */
function checkSliceIndex(info: TensorInfo, index: number): number {
  const context = { file: info.uri, tensor: info.name };
  const count = info.shape[0];
  if (info.shape.length < 2 || count === undefined) {
    throw new BadInputError(`a ${info.shape.length}-D tensor has no slices`, context);
  }
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new BadInputError(`slice ${index} is outside the first axis (${count})`, context);
  }
  return count;
}

/**
 * The index-th slice of `info` along its first axis as a tensor of its own: same file and dtype,
 * its bytes the index-th of shape[0] equal parts (row-major storage, block-quantized rows included:
 * each slice is whole rows).
 */
export function leadingSlice(info: TensorInfo, index: number): TensorInfo {
  const context = { file: info.uri, tensor: info.name };
  const count = checkSliceIndex(info, index);
  if (info.byteLength % count !== 0) {
    throw new BadInputError(`${info.byteLength} bytes do not split into ${count} equal slices`, context);
  }
  const sliceBytes = info.byteLength / count;
  return {
    ...info,
    name: expertRowName(info.name, index),
    shape: info.shape.slice(1),
    byteOffset: info.byteOffset + index * sliceBytes,
    byteLength: sliceBytes,
  };
}

/**
 * Decode slice `index` of `info` (stored layout, shape `info.shape.slice(1)`): through the
 * reader's ranged slice read when it has one (memory: one slice), else cut from the whole tensor
 * (memory: the whole tensor, for readers whose bytes are not plain row-major).
 */
export async function readSlice(
  ckpt: OpenedCheckpoint,
  info: TensorInfo,
  index: number,
): Promise<Float32Array | Float64Array> {
  if (ckpt.readLeadingSlice) return ckpt.readLeadingSlice(info, index);
  const count = checkSliceIndex(info, index);
  const whole = await ckpt.readTensor(info);
  const per = whole.length / count;
  return whole.slice(index * per, (index + 1) * per);
}
