/**
 * Writes one trained-zoo checkpoint directory:
 * - model.json + weights.bin: the TF.js layers format (what the curvature code loads and
 *   differentiates);
 * - model.safetensors: the same float32 values under the same tensor names ("dense_1/kernel"),
 *   in TF.js layout (dense kernels [in, out], conv kernels HWIO);
 * - weightlens.json: family, run, step, epoch, the measured test accuracy and hyperparameters.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The sidecar, in the snake_case keys discovery reads (lib/formats → CheckpointMetadata). */
export interface ZooCheckpointSidecar {
  family: string;
  run: string;
  step: number;
  epoch: number;
  /** Measured on the official 10 000-image test split, in [0, 1]. */
  known_test_accuracy: number;
  known_metrics: Record<string, number>;
  dataset: string;
  architecture: string;
  parameters: number;
  hyperparameters: Record<string, number | string>;
  /** Human-readable notes on how it was made (subsample, optimizer...). */
  notes: string;
}

export interface NamedTensorBytes {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Serialize float32 tensors as a safetensors file (8-byte LE header length, JSON, raw data). */
export function encodeSafetensors(
  tensors: NamedTensorBytes[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerJson = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (what the reference writer does).
  headerJson += ' '.repeat((8 - ((8 + Buffer.byteLength(headerJson)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const t of tensors) {
    // Copy through a byte view; Float32Array is little-endian on every platform Node runs on.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), position);
    position += t.data.byteLength;
  }
  return out;
}

/** Capture the model's layers-format artifacts without touching the file system. */
async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (captured === undefined) throw new Error('model.save produced no artifacts');
  return captured;
}

/** Write model.json, weights.bin, model.safetensors and weightlens.json into `dir`. */
export async function writeZooCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  sidecar: ZooCheckpointSidecar,
): Promise<{ bytes: number }> {
  mkdirSync(dir, { recursive: true });
  const artifacts = await modelArtifacts(model);
  const specs = artifacts.weightSpecs ?? [];
  const weightBuffer = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_core}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  const tensors: NamedTensorBytes[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32') throw new Error(`unexpected weight dtype ${spec.dtype} for ${spec.name}`);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    tensors.push({ name: spec.name, shape: spec.shape, data: new Float32Array(weightBuffer, offset, count) });
    offset += count * 4;
  }
  const safetensors = encodeSafetensors(tensors, {
    format: 'tfjs-layers',
    // Readers: 4-D kernels here are HWIO and dense kernels [in, out] (TF.js layout, not torch's).
    kernel_layout: 'HWIO',
    source: 'weightlens zoo/train.ts',
  });
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(weightBuffer));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'model.safetensors'), safetensors);
  writeFileSync(join(dir, 'weightlens.json'), `${JSON.stringify(sidecar, null, 2)}\n`);
  return { bytes: weightBuffer.byteLength + safetensors.length };
}
