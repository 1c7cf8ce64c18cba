/**
 * Planning over a stored checkpoint (the CLI's local mode): open it, take every tensor the layer
 * mapper analyzes (dense/conv/embedding weights), prune and quantize each one in turn to get its
 * perturbations, and plan. `applyPlan` re-reads the tensors and returns the planned checkpoint's
 * tensors: planned layers magnitude-pruned at their ratio and fake-quantized (float32 values
 * (code − zero point)·scale, per output channel), every other tensor unchanged.
 * One tensor's weights are in memory at a time while planning.
 */
import { BadInputError } from '../errors.ts';
import { openCheckpoint } from '../formats/index.ts';
import { mapTensors } from '../formats/layers.ts';
import { readSafetensorsHeader } from '../formats/safetensors/index.ts';
import type { ObjectOpener, OpenedCheckpoint, TensorInfo } from '../formats/types.ts';
import {
  type Plan,
  type PlanLayerInput,
  type PlanOptions,
  planLayers,
  pruneAllocation,
  pruningRatios,
} from './plan.ts';
import { globalMagnitudeCounts, magnitudePrune, pruneCounts } from './prune.ts';
import { perturbations, quantizePerChannel } from './quantize.ts';

export interface PlanInputs {
  /** α by tensor name, and why it is missing for the others. */
  alpha?: Map<string, number>;
  /** Hessian trace of the layer block holding each tensor, by tensor name. */
  traces?: Map<string, { trace: number; params: number }>;
  /** ZeroQ KL by tensor name and bit width. */
  kl?: Map<string, Map<number, number>>;
  /** FP32 BOPs (MACs · 32²) by tensor name, for a BOPs budget. */
  bops?: Map<string, number>;
  /** Latency by tensor name and bit width, for a latency budget. */
  latency?: Map<string, Map<number, number>>;
  missing?: Map<string, string>;
}

export interface PlannedTensor {
  tensor: TensorInfo;
  /** Axis of the stored tensor that indexes output channels. */
  channelAxis: number;
  params: number;
}

export interface CheckpointPlan {
  ckpt: OpenedCheckpoint;
  plan: Plan;
  planned: PlannedTensor[];
  /** What the plan was solved from (perturbations, inputs), for re-solving under other budgets. */
  layers: PlanLayerInput[];
  /** The pruning ratios the plan realises, per layer. */
  ratios: number[];
  /** Metadata of the source file worth keeping in a written copy (kernel_layout). */
  keptMetadata: Record<string, string>;
}

/**
 * Output-channel axis of a stored tensor. 4-D/3-D kernels follow their layout (OIHW/OHWI → 0,
 * HWIO → last). 2-D matrices are [in, out] in TF.js/Keras files (and in safetensors that say
 * kernel_layout HWIO, as the zoo's do), [out, in] in torch-style files.
 */
export function outputChannelAxis(tensor: TensorInfo, tfLayout: boolean): number {
  const rank = tensor.shape.length;
  if (rank === 1) return 0;
  if (rank >= 3 && tensor.layout) return tensor.layout === 'HWIO' ? rank - 1 : 0;
  return tfLayout ? rank - 1 : 0;
}

async function sourceMetadata(ckpt: OpenedCheckpoint, opener: ObjectOpener): Promise<Record<string, string>> {
  if (ckpt.format !== 'safetensors' || ckpt.tensors.length === 0) return {};
  const files = [...new Set(ckpt.tensors.map((t) => t.uri))];
  const header = await readSafetensorsHeader(await opener.open(files[0]!));
  return header.metadata;
}

/** The tensors a plan covers: every weight the layer mapper analyzes, with its output-channel axis. */
export async function plannedTensors(
  uri: string,
  opener: ObjectOpener,
): Promise<{ ckpt: OpenedCheckpoint; planned: PlannedTensor[]; tfLayout: boolean }> {
  const ckpt = await openCheckpoint(uri, opener);
  const metadata = await sourceMetadata(ckpt, opener);
  const tfLayout = ['tfjs', 'keras', 'keras-h5'].includes(ckpt.format) || metadata.kernel_layout === 'HWIO';
  const planned: PlannedTensor[] = mapTensors(ckpt)
    .filter((m) => m.analyzed && m.layerType !== 'skipped')
    .map((m) => ({
      tensor: m.tensor,
      channelAxis: outputChannelAxis(m.tensor, tfLayout),
      params: m.tensor.shape.reduce((a, b) => a * b, 1),
    }));
  if (planned.length === 0) throw new BadInputError('no weight layers to plan', { file: uri });
  return { ckpt, planned, tfLayout };
}

/** Per-tensor numbers of weights to prune under the plan's allocation (exact integers). */
export async function plannedPruneCounts(
  ckpt: OpenedCheckpoint,
  planned: readonly PlannedTensor[],
  options: PlanOptions,
  alpha?: Map<string, number>,
): Promise<number[]> {
  const target = options.sparsity ?? 0;
  if (target > 0 && pruneAllocation(options) === 'global') {
    const weights: Float32Array[] = [];
    for (const p of planned) weights.push(Float32Array.from(await ckpt.readTensor(p.tensor)));
    return globalMagnitudeCounts(weights, target);
  }
  const base = planned.map((p) => ({
    name: p.tensor.name,
    params: p.params,
    alpha: alpha?.get(p.tensor.name),
  }));
  return pruneCounts(
    pruningRatios(base, options),
    base.map((b) => b.params),
  );
}

export async function planCheckpoint(
  uri: string,
  opener: ObjectOpener,
  options: PlanOptions,
  inputs: PlanInputs = {},
): Promise<CheckpointPlan> {
  const { ckpt, planned, tfLayout } = await plannedTensors(uri, opener);
  const counts = await plannedPruneCounts(ckpt, planned, options, inputs.alpha);
  const layers: PlanLayerInput[] = [];
  for (const [i, p] of planned.entries()) {
    const context = { file: p.tensor.uri, tensor: p.tensor.name };
    const weights = magnitudePrune(await ckpt.readTensor(p.tensor), counts[i]!);
    let squaredNorm = 0;
    for (const w of weights) squaredNorm += w * w;
    const name = p.tensor.name;
    layers.push({
      name,
      params: p.params,
      perturbation: perturbations(
        weights,
        p.tensor.shape,
        p.channelAxis,
        options.bits,
        options.scheme,
        context,
      ),
      squaredNorm,
      ...(inputs.alpha?.has(name) ? { alpha: inputs.alpha.get(name)! } : {}),
      ...(inputs.traces?.has(name) ? { trace: inputs.traces.get(name)! } : {}),
      ...(inputs.kl?.has(name) ? { kl: inputs.kl.get(name)! } : {}),
      ...(inputs.bops?.has(name) ? { bops: inputs.bops.get(name)! } : {}),
      ...(inputs.latency?.has(name) ? { latency: inputs.latency.get(name)! } : {}),
      ...(inputs.missing?.has(name) ? { missing: inputs.missing.get(name)! } : {}),
    });
  }
  // Pruning counts are exact integers; report the ratios they realise.
  const realised = counts.map((c, i) => c / planned[i]!.params);
  const plan = await planLayers(layers, realised, options);
  const keptMetadata: Record<string, string> = {};
  if (tfLayout) keptMetadata.kernel_layout = 'HWIO';
  return { ckpt, plan, planned, layers, ratios: realised, keptMetadata };
}

export interface OutputTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The planned checkpoint's tensors, in the source order. */
export async function applyPlan(result: CheckpointPlan): Promise<OutputTensor[]> {
  const { ckpt, plan, planned } = result;
  const byName = new Map(planned.map((p) => [p.tensor.name, p]));
  const layerPlan = new Map(plan.layers.map((l) => [l.name, l]));
  const out: OutputTensor[] = [];
  for (const tensor of ckpt.tensors) {
    const data = await ckpt.readTensor(tensor);
    const p = byName.get(tensor.name);
    const l = layerPlan.get(tensor.name);
    if (!p || !l) {
      out.push({ name: tensor.name, shape: tensor.shape, data: Float32Array.from(data) });
      continue;
    }
    const pruned = magnitudePrune(data, Math.round(l.sparsity * p.params));
    const q = quantizePerChannel(pruned, tensor.shape, p.channelAxis, l.bits, plan.scheme, {
      file: tensor.uri,
      tensor: tensor.name,
    });
    out.push({ name: tensor.name, shape: tensor.shape, data: q.values });
  }
  return out;
}
