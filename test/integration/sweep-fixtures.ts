/**
 * Small synthetic checkpoints for the sweep tests and bench: a few dense float32 layers per file
 * (random matrices plus a step-dependent low-rank "learned" part, so spectra and scores differ
 * between checkpoints), written as safetensors with a weightlens.json sidecar. Deterministic.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom } from '../../lib/random.ts';

/** Layer shapes of one synthetic checkpoint: [rows, cols] each (M = min ≥ min_evals 10). */
export const DEFAULT_LAYER_SHAPES: [number, number][] = [
  [64, 32],
  [48, 24],
  [40, 20],
];

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A rows×cols matrix: noise + `strength` × a random rank-4 part (more "training" → heavier tail). */
export function syntheticMatrix(rows: number, cols: number, seed: number, strength: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = gaussian(random) / Math.sqrt(cols);
  for (let r = 0; r < 4; r++) {
    const u = Array.from({ length: rows }, () => gaussian(random));
    const v = Array.from({ length: cols }, () => gaussian(random));
    const scale = (strength * (r + 1)) / Math.sqrt(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j]! += scale * u[i]! * v[j]!;
  }
  return out;
}

/** Bytes of a safetensors file holding float32 `tensors`, in the given order. */
export function safetensorsBytes(
  tensors: { name: string; shape: number[]; data: Float32Array }[],
): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep tensor data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export interface SyntheticCheckpoint {
  /** Relative directory of the checkpoint ("run-a/step-0003"). */
  dir: string;
  step: number;
  files: { name: string; bytes: Uint8Array }[];
  layerNames: string[];
}

/** `count` checkpoints of one family ("steps" of a run), each in its own directory. */
export function syntheticZoo(
  count: number,
  options: { family?: string; shapes?: [number, number][]; seed?: number } = {},
): SyntheticCheckpoint[] {
  const shapes = options.shapes ?? DEFAULT_LAYER_SHAPES;
  const family = options.family ?? 'synthetic-mlp';
  const out: SyntheticCheckpoint[] = [];
  for (let step = 0; step < count; step++) {
    const tensors = shapes.map(([rows, cols], i) => ({
      name: `layers.${i}.weight`,
      shape: [rows, cols],
      data: syntheticMatrix(rows, cols, (options.seed ?? 1) * 1000 + step * 31 + i, 0.5 + step),
    }));
    const sidecar = {
      family,
      run: 'run-a',
      step,
      known_test_accuracy: Math.min(0.99, 0.5 + step / (2 * count)),
    };
    out.push({
      dir: `step-${String(step).padStart(4, '0')}`,
      step,
      layerNames: tensors.map((t) => t.name),
      files: [
        { name: 'model.safetensors', bytes: safetensorsBytes(tensors) },
        { name: 'weightlens.json', bytes: new TextEncoder().encode(JSON.stringify(sidecar)) },
      ],
    });
  }
  return out;
}

/** Write checkpoints under `root` (one directory each). */
export async function writeZoo(root: string, checkpoints: SyntheticCheckpoint[]): Promise<void> {
  for (const ckpt of checkpoints) {
    const dir = path.join(root, ckpt.dir);
    await mkdir(dir, { recursive: true });
    for (const file of ckpt.files) await writeFile(path.join(dir, file.name), file.bytes);
  }
}
