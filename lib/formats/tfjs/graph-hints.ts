/**
 * Layer hints for tfjs graph models: each weight is a `Const` node, and the op consuming it says
 * what it is (`_FusedConv2D`'s input 1 is a conv kernel, input 2 its bias; `FusedDepthwiseConv2dNative`
 * is depthwise; `MatMul`/`_FusedMatMul` dense). Weights reach ops through `Identity`/`Cast`/
 * `Dequantize`-like nodes, which are followed back. Integer constants not used as weights are shape
 * constants: hinted as `role: 'other'`.
 */
import { isRecord } from '../checks.ts';
import { isIntegerDType } from '../dtypes.ts';
import type { LayerHint, TensorInfo } from '../types.ts';
import { hintWeightInputs, type WeightRoles } from '../weight-hints.ts';

const WEIGHT_INPUTS: Record<string, WeightRoles> = {
  Conv2D: { 1: 'weight' },
  _FusedConv2D: { 1: 'weight', 2: 'bias' },
  Conv3D: { 1: 'weight' },
  Conv2DBackpropInput: { 1: 'weight' },
  DepthwiseConv2dNative: { 1: 'weight' },
  FusedDepthwiseConv2dNative: { 1: 'weight', 2: 'bias' },
  MatMul: { 0: 'weight', 1: 'weight' },
  _FusedMatMul: { 1: 'weight', 2: 'bias' },
  BatchMatMul: { 1: 'weight' },
  BatchMatMulV2: { 1: 'weight' },
  Einsum: { 1: 'weight' },
  BiasAdd: { 1: 'bias' },
  GatherV2: { 0: 'weight' },
  ResourceGather: { 0: 'weight' },
};
const DEPTHWISE_OPS = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Dequantize', 'ReadVariableOp', 'Reshape']);
const MAX_TRACE_STEPS = 8;

interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
}

/** "^ctrl" (control dependency) → skipped; "name:1" (output index) → "name". */
function inputName(raw: string): string | undefined {
  if (raw.startsWith('^')) return undefined;
  return raw.replace(/:\d+$/, '');
}

function parseNodes(topology: unknown): GraphNode[] {
  if (!isRecord(topology) || !Array.isArray(topology.node)) return [];
  const nodes: GraphNode[] = [];
  for (const node of topology.node) {
    if (!isRecord(node) || typeof node.name !== 'string' || typeof node.op !== 'string') continue;
    const inputs = Array.isArray(node.input)
      ? node.input.filter((i): i is string => typeof i === 'string')
      : [];
    nodes.push({ name: node.name, op: node.op, inputs });
  }
  return nodes;
}

export function graphModelHints(topology: unknown, tensors: readonly TensorInfo[]): Map<string, LayerHint> {
  const nodes = parseNodes(topology);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const stored = new Set(tensors.map((t) => t.name));
  const resolve = (name: string | undefined, steps = 0): string | undefined => {
    if (name === undefined || steps > MAX_TRACE_STEPS) return undefined;
    if (stored.has(name)) return name;
    const producer = byName.get(name);
    if (!producer || !PASS_THROUGH.has(producer.op)) return undefined;
    const input = producer.inputs[0];
    return resolve(input === undefined ? undefined : inputName(input), steps + 1);
  };
  const hints = new Map<string, LayerHint>();
  for (const node of nodes) {
    const roles = WEIGHT_INPUTS[node.op];
    if (!roles) continue;
    const inputs = node.inputs.map(inputName).filter((i): i is string => i !== undefined);
    const op = { name: node.op, roles, depthwise: DEPTHWISE_OPS.has(node.op) };
    hintWeightInputs(hints, op, (index) => resolve(inputs[index]));
  }
  for (const tensor of tensors) {
    if (!hints.has(tensor.name) && isIntegerDType(tensor.dtype) && !tensor.quantization) {
      hints.set(tensor.name, { op: 'Const', role: 'other' });
    }
  }
  return hints;
}
