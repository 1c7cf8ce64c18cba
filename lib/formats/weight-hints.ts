/**
 * The layer hints of graph formats (ONNX, tfjs graph models, TFLite): an op's inputs at known
 * positions are weights or biases; each, traced back to its stored tensor, is named by the first op
 * that consumes it (a tensor shared by several ops keeps that first hint).
 */
import type { LayerHint } from './types.ts';

/** An op's weight-carrying inputs: input index → role. */
export type WeightRoles = Record<number, LayerHint['role']>;

/**
 * Hints the stored tensors behind one op's weight inputs. `storedInput(index)` is the stored
 * tensor its input `index` comes from, or undefined (absent, or not traced to a stored tensor).
 */
export function hintWeightInputs(
  hints: Map<string, LayerHint>,
  op: { name: string; roles: WeightRoles; depthwise?: boolean },
  storedInput: (index: number) => string | undefined,
): void {
  for (const [index, role] of Object.entries(op.roles)) {
    const tensor = storedInput(Number(index));
    if (tensor === undefined || hints.has(tensor)) continue;
    const depthwise = op.depthwise && role === 'weight' ? { depthwise: true } : {};
    hints.set(tensor, { op: op.name, role, ...depthwise });
  }
}
