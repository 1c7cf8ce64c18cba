/**
 * Per-layer costs for the BOPs and latency budgets. BOPs follow HAWQ-V3: a layer's multiply-
 * accumulates per input sample × b_w × b_a, with weights and activations at the same b bits; the
 * solver takes the FP32 count (MACs · 32 · 32) and scales it by (b/32)². MACs come from the TF.js
 * layers model (a dense kernel: its size; a convolution kernel: its size × output positions, from
 * the model's static output shape). A latency table is a JSON file of measured per-layer latencies,
 * `{"<tensor name>": {"<bits>": latency, …}, …}`, any unit, one entry per planned layer and width.
 */

import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BadInputError } from '../errors.ts';
import type { PlanLayerInput, PlanOptions } from './plan.ts';

/** FP32 BOPs (MACs · 32²) of each named kernel tensor of the model, by tensor name. */
export function fp32Bops(
  model: LayersModel,
  tensorNames: readonly string[],
  modelUri: string,
): Map<string, number> {
  const byWeight = new Map<string, { positions: number; size: number }>();
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      if (w.shape.length < 2) continue;
      const size = w.shape.reduce((a: number, b) => a * (b ?? 0), 1);
      const out = layer.outputShape;
      const shape = (Array.isArray(out[0]) ? out[0] : out) as (number | null)[];
      // Output positions: every axis between the batch axis and the channel axis.
      const spatial = w.shape.length >= 3 ? shape.slice(1, -1) : [];
      if (spatial.some((d) => d === null || d === undefined)) {
        throw new BadInputError(
          'BOPs need the layer’s output size, but the model’s input shape is not fixed',
          { file: modelUri, layer: layer.name },
        );
      }
      byWeight.set(w.originalName, {
        positions: spatial.reduce((a: number, d) => a * (d as number), 1),
        size,
      });
    }
  }
  const bops = new Map<string, number>();
  for (const name of tensorNames) {
    const w = byWeight.get(name);
    if (!w)
      throw new BadInputError('no weight of the model has this name: its BOPs are unknown', {
        file: modelUri,
        tensor: name,
      });
    bops.set(name, w.size * w.positions * 32 * 32);
  }
  return bops;
}

/** Parse a latency table (see the file comment) for the planned layers and candidate widths. */
export function parseLatencyTable(
  text: string,
  file: string,
  tensorNames: readonly string[],
  bits: readonly number[],
): Map<string, Map<number, number>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`latency table is not JSON: ${(err as Error).message}`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadInputError('latency table must be an object {"<layer>": {"<bits>": latency}}', { file });
  }
  const table = parsed as Record<string, unknown>;
  const planned = new Set(tensorNames);
  for (const name of Object.keys(table)) {
    if (!planned.has(name))
      throw new BadInputError('latency table names a layer the plan does not cover', { file, layer: name });
  }
  const out = new Map<string, Map<number, number>>();
  for (const name of tensorNames) {
    const row = table[name];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new BadInputError('latency table has no entry for this layer', { file, layer: name });
    }
    const entries = row as Record<string, unknown>;
    const byBits = new Map<number, number>();
    for (const key of Object.keys(entries)) {
      if (!/^\d+$/.test(key))
        throw new BadInputError(`latency table key '${key}' is not a bit width`, { file, layer: name });
    }
    for (const b of bits) {
      const v = entries[String(b)];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new BadInputError(`latency table has no non-negative number for ${b} bits`, {
          file,
          layer: name,
        });
      }
      byBits.set(b, v);
    }
    out.set(name, byBits);
  }
  return out;
}

const bopsAt = (l: PlanLayerInput, bits: number) => (l.bops ?? 0) * (bits / 32) ** 2;

/** The plan's BOPs and latency totals, where every layer has the input. */
export function costTotals(layers: readonly PlanLayerInput[], chosen: readonly number[]) {
  const bops = layers.every((l) => l.bops !== undefined)
    ? layers.reduce((a, l, i) => a + bopsAt(l, chosen[i]!), 0)
    : undefined;
  const latency = layers.every((l) => l.latency !== undefined)
    ? layers.reduce((a, l, i) => a + l.latency!.get(chosen[i]!)!, 0)
    : undefined;
  return { bops, latency };
}

/** A uniform plan's width against the BOPs and latency budgets. */
export function checkUniformCosts(
  layers: readonly PlanLayerInput[],
  width: number,
  options: PlanOptions,
): void {
  const totals = costTotals(
    layers,
    layers.map(() => width),
  );
  const widths = options.bits.includes(width) ? options.bits : [...options.bits, width].sort((a, b) => a - b);
  for (const [flag, limit, total, at] of [
    [
      '--max-bops',
      options.maxBops,
      totals.bops,
      (b: number) =>
        costTotals(
          layers,
          layers.map(() => b),
        ).bops,
    ],
    [
      '--max-latency',
      options.maxLatency,
      totals.latency,
      (b: number) =>
        costTotals(
          layers,
          layers.map(() => b),
        ).latency,
    ],
  ] as const) {
    if (limit === undefined) continue;
    if (total === undefined)
      throw new BadInputError(`${flag} needs every layer's ${flag === '--max-bops' ? 'BOPs' : 'latency'}`);
    if (total > limit) {
      const range = widths.map((b) => `${b} bits: ${at(b)}`).join(', ');
      throw new BadInputError(
        `uniform ${width}-bit needs ${total} (${flag} ${limit}); uniform totals are ${range}`,
      );
    }
  }
}
