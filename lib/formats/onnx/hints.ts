/**
 * Layer hints from ONNX nodes: which tensor is the weight or bias of a Conv, Gemm, MatMul,
 * recurrent or Gather (embedding) node. Weights often reach their consumer through a cast or a
 * dequantization, so inputs are traced back through pass-through ops to the stored tensor.
 */
import type { LayerHint } from '../types.ts';
import { hintWeightInputs, type WeightRoles } from '../weight-hints.ts';
import type { OnnxNode } from './graph.ts';

/** op type → (input index → role), for the ops whose stored inputs are weights worth naming. */
const WEIGHT_INPUTS: Record<string, WeightRoles> = {
  Conv: { 1: 'weight', 2: 'bias' },
  ConvTranspose: { 1: 'weight', 2: 'bias' },
  ConvInteger: { 1: 'weight' },
  QLinearConv: { 3: 'weight', 8: 'bias' },
  Gemm: { 1: 'weight', 2: 'bias' },
  MatMul: { 0: 'weight', 1: 'weight' },
  MatMulInteger: { 1: 'weight' },
  QLinearMatMul: { 3: 'weight' },
  LSTM: { 1: 'weight', 2: 'weight', 3: 'bias' },
  GRU: { 1: 'weight', 2: 'weight', 3: 'bias' },
  RNN: { 1: 'weight', 2: 'weight', 3: 'bias' },
  Gather: { 0: 'weight' },
};

/** Ops whose output is (a re-typed or re-shaped view of) their first input. */
const PASS_THROUGH = new Set([
  'Identity',
  'Cast',
  'DequantizeLinear',
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
]);
const MAX_TRACE_STEPS = 8;

/**
 * @param finalNames `${scope}\0${graph name}` → the listed tensor name (subgraphs may reuse names).
 */
export function onnxLayerHints(
  nodes: readonly OnnxNode[],
  finalNames: Map<string, string>,
): Map<string, LayerHint> {
  const producedBy = new Map<string, OnnxNode>();
  for (const node of nodes) {
    if (PASS_THROUGH.has(node.opType))
      for (const out of node.outputs) producedBy.set(`${node.scope}\u0000${out}`, node);
  }
  // Resolve a name as seen from `scope`: inner scopes first, then the enclosing graphs, following
  // pass-through producers back to a stored tensor (bounded: a crafted cycle cannot loop forever).
  const resolve = (scope: string, name: string, steps = 0): string | undefined => {
    if (steps > MAX_TRACE_STEPS) return undefined;
    for (let s: string | undefined = scope; s !== undefined; s = parentScope(s)) {
      const key = `${s}\u0000${name}`;
      const stored = finalNames.get(key);
      if (stored !== undefined) return stored;
      const producer = producedBy.get(key);
      const input = producer?.inputs[0];
      if (producer) return input ? resolve(s, input, steps + 1) : undefined;
    }
    return undefined;
  };

  const hints = new Map<string, LayerHint>();
  for (const node of nodes) {
    const roles = WEIGHT_INPUTS[node.opType];
    if (!roles) continue;
    hintWeightInputs(hints, { name: node.opType, roles, depthwise: node.group > 1 }, (index) => {
      const input = node.inputs[index];
      return input ? resolve(node.scope, input) : undefined;
    });
  }
  return hints;
}

function parentScope(scope: string): string | undefined {
  if (scope === '') return undefined;
  // Scopes are "<node>/<attribute>" pairs joined by '/'; node labels may not contain '/', but be
  // lenient: drop two segments at a time, and fall back to the main graph.
  const parts = scope.split('/');
  return parts.length <= 2 ? '' : parts.slice(0, -2).join('/');
}
