/**
 * Synthetic mixture-of-experts checkpoints for the expert tests and the expert-memory bench:
 * fused expert tensors (E, rows, cols) whose experts have planted heavy-tailed spectra, written as
 * safetensors or GGUF bytes.
 */

import { seededRandom } from '../../../lib/random.ts';
import { matrixWithSingularValues } from '../linalg/known-spectrum.ts';

/**
 * `count` eigenvalues drawn from a Pareto law p(λ) ∝ λ^(−α) on [1, ∞) (inverse-CDF sampling),
 * returned as the singular values √λ of a matrix whose ESD then has power-law exponent α.
 */
export function paretoSingularValues(count: number, alpha: number, seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const u = 1 - rand(); // (0, 1]
    return Math.sqrt(u ** (-1 / (alpha - 1)));
  });
}

/** A fused (experts, rows, cols) float32 tensor whose expert e has ESD exponent alphas[e]. */
export function plantedExperts(
  rows: number,
  cols: number,
  alphas: readonly number[],
  seed: number,
): Float32Array {
  const per = rows * cols;
  const out = new Float32Array(alphas.length * per);
  alphas.forEach((alpha, e) => {
    const singular = paretoSingularValues(Math.min(rows, cols), alpha, seed + 101 * e);
    out.set(matrixWithSingularValues(rows, cols, singular, seed + 7919 * e, 3), e * per);
  });
  return out;
}

export interface GgufTensor {
  name: string;
  /** Row-major shape (GGUF stores it reversed). */
  shape: number[];
  /** 'F32' values, or 'Q8_0' with every block's scale 1 (values must be integers in [−127, 127]). */
  type: 'F32' | 'Q8_0';
  values: Float32Array;
}

const GGML_TYPE = { F32: 0, Q8_0: 8 } as const;
const ALIGNMENT = 32;

function encodeTensor(t: GgufTensor): Uint8Array {
  if (t.type === 'F32') return new Uint8Array(t.values.buffer.slice(0));
  const blocks = t.values.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    view.setUint16(b * 34, 0x3c00, true); // f16 1.0
    for (let i = 0; i < 32; i++) view.setInt8(b * 34 + 2 + i, t.values[b * 32 + i]!);
  }
  return out;
}

/** A GGUF v3 file with no metadata and the given tensors (default alignment). */
export function buildGguf(tensors: GgufTensor[]): Uint8Array {
  const encoder = new TextEncoder();
  const head: number[] = [];
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    head.push(...b);
  };
  const u64 = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    head.push(...b);
  };
  head.push(0x47, 0x47, 0x55, 0x46);
  u32(3);
  u64(tensors.length);
  u64(0);
  const data = tensors.map(encodeTensor);
  let offset = 0;
  tensors.forEach((t, i) => {
    const name = encoder.encode(t.name);
    u64(name.length);
    head.push(...name);
    u32(t.shape.length);
    for (const d of [...t.shape].reverse()) u64(d);
    u32(GGML_TYPE[t.type]);
    u64(offset);
    offset += Math.ceil(data[i]!.length / ALIGNMENT) * ALIGNMENT;
  });
  const dataStart = Math.ceil(head.length / ALIGNMENT) * ALIGNMENT;
  const out = new Uint8Array(dataStart + offset);
  out.set(head, 0);
  let at = dataStart;
  for (const bytes of data) {
    out.set(bytes, at);
    at += Math.ceil(bytes.length / ALIGNMENT) * ALIGNMENT;
  }
  return out;
}
