/**
 * TensorFlow.js weights manifests: `[{paths: [shard, ...], weights: [{name, shape, dtype,
 * quantization?}]}]`. Within one group the weights are concatenated across all its shard files in
 * order, so a tensor may start in one shard and end in the next; each tensor gets the list of
 * (shard, offset, length) pieces that hold it. Quantized storage: `{dtype: 'uint8'|'uint16', scale,
 * min}` (value = q·scale + min) and `{dtype: 'float16'}`.
 */
import { BadInputError, UnsupportedError } from '../../errors.ts';
import { isRecord, type ReaderCache } from '../checks.ts';
import { plainByteLength } from '../dtypes.ts';
import type { DType, TensorInfo } from '../types.ts';

/** A contiguous part of a tensor's bytes inside one shard. */
export interface ShardPiece {
  uri: string;
  offset: number;
  length: number;
}

export interface ManifestTensor {
  info: TensorInfo;
  pieces: ShardPiece[];
  /** Affine dequantization (value = q·scale + min) for uint8/uint16 storage. */
  affine?: { scale: number; min: number };
}

export const LOGICAL_DTYPES: Record<string, DType> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };
export const QUANTIZED_DTYPES: Record<string, DType> = {
  uint8: 'U8',
  uint16: 'U16',
  float16: 'F16',
  int8: 'I8',
};
/** Shards of one group a manifest may list (real models use 1–20); more is a crafted file. */
const MAX_SHARDS_PER_GROUP = 10_000;

/**
 * Resolve every weight of `manifest` (the parsed `weightsManifest` array) to shard pieces. Shard
 * files are opened (stat) to learn their sizes; no weight bytes are read.
 */
export async function resolveManifest(
  manifest: unknown,
  manifestUri: string,
  readers: ReaderCache,
): Promise<ManifestTensor[]> {
  const file = manifestUri;
  if (!Array.isArray(manifest)) throw new BadInputError('weightsManifest is not a list of groups', { file });
  const out: ManifestTensor[] = [];
  // Each shard is listed once: a repeated path would make one stored byte decode many times.
  const seenShards = new Set<string>();
  for (const [groupIndex, group] of manifest.entries()) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new BadInputError(`weights group ${groupIndex} lacks "paths" or "weights"`, { file });
    }
    if (group.paths.length > MAX_SHARDS_PER_GROUP) {
      throw new BadInputError(`weights group ${groupIndex} lists ${group.paths.length} shards`, { file });
    }
    const shards: { uri: string; start: number; size: number }[] = [];
    let groupBytes = 0;
    for (const path of group.paths) {
      if (typeof path !== 'string')
        throw new BadInputError(`weights group ${groupIndex} has a non-string path`, { file });
      const { uri, reader } = await readers.sibling(manifestUri, path, { file });
      if (seenShards.has(uri)) {
        throw new BadInputError(`weights group ${groupIndex} lists shard "${path}" a second time`, { file });
      }
      seenShards.add(uri);
      shards.push({ uri, start: groupBytes, size: reader.size });
      groupBytes += reader.size;
    }
    let cursor = 0;
    for (const weight of group.weights) {
      const entry = parseWeight(weight, file);
      const context = { file, tensor: entry.name };
      const byteLength = plainByteLength(entry.storedDtype, entry.shape, context);
      if (cursor + byteLength > groupBytes) {
        throw new BadInputError(
          `weights need ${cursor + byteLength} bytes but the group's shards hold ${groupBytes}: truncated shard?`,
          context,
        );
      }
      const pieces = piecesOf(shards, cursor, byteLength);
      out.push({
        info: {
          name: entry.name,
          dtype: entry.storedDtype,
          shape: entry.shape,
          uri: pieces[0]?.uri ?? shards[0]?.uri ?? manifestUri,
          byteOffset: pieces[0]?.offset ?? 0,
          byteLength,
          ...(entry.shape.length === 4 ? { layout: 'HWIO' as const } : {}),
          ...(entry.quantization ? { quantization: entry.quantization } : {}),
        },
        pieces,
        ...(entry.affine ? { affine: entry.affine } : {}),
      });
      cursor += byteLength;
    }
  }
  return out;
}

/** The pieces of [start, start + length) of a group's concatenated shards. */
function piecesOf(
  shards: { uri: string; start: number; size: number }[],
  start: number,
  length: number,
): ShardPiece[] {
  const pieces: ShardPiece[] = [];
  let at = start;
  const end = start + length;
  for (const shard of shards) {
    if (at >= end) break;
    const shardEnd = shard.start + shard.size;
    if (at >= shardEnd) continue;
    const take = Math.min(end, shardEnd) - at;
    pieces.push({ uri: shard.uri, offset: at - shard.start, length: take });
    at += take;
  }
  return pieces;
}

interface ParsedWeight {
  name: string;
  shape: number[];
  storedDtype: DType;
  quantization?: TensorInfo['quantization'];
  affine?: { scale: number; min: number };
}

function parseWeight(weight: unknown, file: string): ParsedWeight {
  if (!isRecord(weight) || typeof weight.name !== 'string')
    throw new BadInputError('weight entry without a name', { file });
  const name = weight.name;
  const context = { file, tensor: name };
  const { shape, dtype, quantization } = weight;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new BadInputError('shape is not a list of non-negative integers', context);
  }
  if (typeof dtype !== 'string') throw new BadInputError('missing dtype', context);
  const logical = LOGICAL_DTYPES[dtype];
  if (!logical) {
    // String and complex weights need per-element lengths or pairs; no real weight is stored so.
    throw new UnsupportedError(`tfjs weight dtype "${dtype}" is not supported`, context);
  }
  if (quantization === undefined) return { name, shape: shape as number[], storedDtype: logical };
  if (!isRecord(quantization) || typeof quantization.dtype !== 'string') {
    throw new BadInputError('quantization is not {dtype, ...}', context);
  }
  const stored = QUANTIZED_DTYPES[quantization.dtype];
  if (!stored) throw new UnsupportedError(`unknown quantization dtype "${quantization.dtype}"`, context);
  if (stored === 'F16')
    return { name, shape: shape as number[], storedDtype: 'F16', quantization: { scheme: 'float16' } };
  const { scale, min } = quantization;
  if (
    typeof scale !== 'number' ||
    !Number.isFinite(scale) ||
    typeof min !== 'number' ||
    !Number.isFinite(min)
  ) {
    throw new BadInputError(`${quantization.dtype} quantization needs finite "scale" and "min"`, context);
  }
  return {
    name,
    shape: shape as number[],
    storedDtype: stored,
    quantization: { scheme: `${quantization.dtype}-affine`, scale, min },
    affine: { scale, min },
  };
}
