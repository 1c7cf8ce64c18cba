/**
 * Layer hints from a Keras model config (used by Keras .h5/.keras and tfjs layers models): the
 * layer class of each weight, found by matching weight paths ("conv1/kernel", "model/conv1/kernel:0",
 * "layers/conv1/vars/0") to layer names in the config.
 */
import { isRecord } from '../checks.ts';
import type { LayerHint } from '../types.ts';

export interface KerasLayer {
  className: string;
  name: string;
}

/** Nested models (Functional/Sequential/Model inside a model) are followed this deep. */
const MAX_CONFIG_DEPTH = 16;

/** Every layer of a Keras `{class_name, config: {layers: [...]}}` config, nested models flattened. */
export function collectKerasLayers(config: unknown, depth = 0): KerasLayer[] {
  if (!isRecord(config) || depth > MAX_CONFIG_DEPTH) return [];
  const inner = isRecord(config.config) ? config.config : undefined;
  const layers = Array.isArray(inner?.layers)
    ? inner.layers
    : Array.isArray(config.layers)
      ? config.layers
      : [];
  const out: KerasLayer[] = [];
  for (const layer of layers) {
    if (!isRecord(layer)) continue;
    const className = typeof layer.class_name === 'string' ? layer.class_name : '';
    const layerConfig = isRecord(layer.config) ? layer.config : {};
    const name =
      typeof layer.name === 'string'
        ? layer.name
        : typeof layerConfig.name === 'string'
          ? layerConfig.name
          : '';
    if (className && name) out.push({ className, name });
    // Wrappers (TimeDistributed, Bidirectional) hold their layer in config.layer.
    if (isRecord(layerConfig.layer))
      out.push(...collectKerasLayers({ config: { layers: [layerConfig.layer] } }, depth + 1));
    if (Array.isArray(layerConfig.layers)) out.push(...collectKerasLayers(layer, depth + 1));
  }
  return out;
}

const DEPTHWISE_CLASSES = new Set(['DepthwiseConv2D', 'DepthwiseConv1D']);

/** The hint for one weight of a layer of class `className`, from the weight's own name. */
export function kerasWeightHint(className: string, weightName: string): LayerHint {
  const segments = weightName.replace(/:\d+$/, '').split('/');
  const leaf = segments.pop() ?? '';
  if (segments.at(-1) === 'vars' && /^\d+$/.test(leaf)) return keras3VariableHint(className, Number(leaf));
  if (leaf === 'bias' || leaf.endsWith('_bias')) return { op: className, role: 'bias' };
  if (leaf === 'depthwise_kernel' || DEPTHWISE_CLASSES.has(className)) {
    return { op: className, role: 'weight', depthwise: true };
  }
  if (leaf.includes('kernel') || leaf === 'embeddings' || leaf === 'weight')
    return { op: className, role: 'weight' };
  return { op: className, role: 'other' };
}

/** Keras 3 files name variables by index ("layers/dense/vars/0"); their order is the layer's build order. */
function keras3VariableHint(className: string, index: number): LayerHint {
  if (/Normalization$/.test(className)) return { op: className, role: 'other' };
  if (className === 'SeparableConv2D' || className === 'SeparableConv1D') {
    if (index === 0) return { op: className, role: 'weight', depthwise: true };
    return index === 1 ? { op: className, role: 'weight' } : { op: className, role: 'bias' };
  }
  if (index === 0)
    return DEPTHWISE_CLASSES.has(className)
      ? { op: className, role: 'weight', depthwise: true }
      : { op: className, role: 'weight' };
  return /Dense|Conv|Embedding/.test(className) && index === 1
    ? { op: className, role: 'bias' }
    : { op: className, role: 'other' };
}

/**
 * Layer names with more '/'-separated segments than this are never matched: Keras layer names hold
 * no '/' (nested models add one segment per level), so the bound only stops crafted configs from
 * making the search below quadratic.
 */
const MAX_LAYER_NAME_SEGMENTS = 64;

/** Layer names as a trie of path segments: the class of a name ends at its last segment's node. */
interface SegmentTrie {
  className?: string;
  children: Map<string, SegmentTrie>;
}

function layerTrie(layers: readonly KerasLayer[]): SegmentTrie {
  const root: SegmentTrie = { children: new Map() };
  for (const layer of layers) {
    const segments = layer.name.split('/');
    if (segments.length > MAX_LAYER_NAME_SEGMENTS) continue;
    let node = root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (!child) {
        child = { children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    // The first layer of a name wins.
    node.className ??= layer.className;
  }
  return root;
}

/**
 * Map weight names to hints: a weight belongs to the layer whose name is a run of its path
 * segments (the leaf excluded), the innermost run preferred (a nested model and its layer both
 * appear in the path: "model/block1_conv/kernel:0" → layer "block1_conv"), and of runs starting at
 * one segment the shortest. Each start walks the trie at most MAX_LAYER_NAME_SEGMENTS steps, so a
 * weight name costs time linear in its segments.
 */
export function kerasLayerHints(
  layers: readonly KerasLayer[],
  weightNames: readonly string[],
): Map<string, LayerHint> {
  const trie = layerTrie(layers);
  const hints = new Map<string, LayerHint>();
  for (const weightName of weightNames) {
    const segments = weightName.split('/');
    let className: string | undefined;
    for (let i = segments.length - 2; i >= 0 && !className; i--) {
      let node: SegmentTrie | undefined = trie;
      for (let j = i; j < segments.length - 1 && node && !className; j++) {
        node = node.children.get(segments[j]!);
        className = node?.className;
      }
    }
    if (className) hints.set(weightName, kerasWeightHint(className, weightName));
  }
  return hints;
}
