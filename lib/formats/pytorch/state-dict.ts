/**
 * From an unpickled torch.save value to tensors as byte ranges, shared by the zip and the legacy
 * container: the state dict's tensors as dotted names, every storage the pickle names, and the
 * bounds checks that turn a (storage, offset, shape, strides) view into a `TensorInfo`.
 */
import { BadInputError } from '../../errors.ts';
import { elementBytes, elementCount } from '../dtypes.ts';
import { rowMajorStrides } from '../strided.ts';
import type { TensorInfo } from '../types.ts';
import { PickleTuple, type PickleValue, StorageRef, TensorRef, type WalkBudget } from './unpickle.ts';

/** Nesting of dicts/lists we follow when collecting tensors (training checkpoints nest a few levels). */
const MAX_NESTING = 32;
/** Keys under which training scripts keep the model's state dict (WW unwraps 'state_dict'). */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model'];

/** Strided tensors (saved views such as `w.t()`): their strides, for gathering on read. */
export type Strides = Map<string, number[]>;

/** A dict key or list index as a name segment (state dicts key by str; anything else by its type). */
function keySegment(key: PickleValue): string {
  if (typeof key === 'string') return key;
  if (key === null || typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') {
    return String(key);
  }
  return `<${key.constructor.name}>`;
}

/** Children of a container value, keyed by their name segment. */
function children(node: PickleValue): [PickleValue, PickleValue][] {
  if (node instanceof Map) return [...node];
  if (Array.isArray(node) || node instanceof PickleTuple) {
    const items = Array.isArray(node) ? node : node.items;
    return items.map((item, i) => [i, item]);
  }
  return [];
}

/**
 * Collect the tensors of a (possibly nested) state dict as dotted names. The walk's work is
 * counted against `budget` (memo references may share one subtree many times).
 */
export function collectTensors(value: PickleValue, file: string, budget: WalkBudget): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  let root = value;
  if (root instanceof Map) {
    for (const key of STATE_DICT_KEYS) {
      const inner = root.get(key);
      if (inner instanceof Map) {
        root = inner;
        break;
      }
    }
  }
  const visit = (node: PickleValue, prefix: string, depth: number): void => {
    budget.visit(prefix.length);
    if (depth > MAX_NESTING)
      throw new BadInputError(`state dict nests deeper than ${MAX_NESTING} levels`, { file });
    if (node instanceof TensorRef) {
      out.set(prefix || 'tensor', node);
      return;
    }
    for (const [k, v] of children(node)) {
      visit(v, prefix ? `${prefix}.${keySegment(k)}` : keySegment(k), depth + 1);
    }
  };
  visit(root, '', 0);
  return out;
}

/**
 * Every storage the whole value names (the state dict and anything beside it, e.g. optimizer
 * state): a legacy file stores them all back to back, so each one's size places the next.
 */
export function collectStorages(
  value: PickleValue,
  file: string,
  budget: WalkBudget,
): Map<string, StorageRef> {
  const out = new Map<string, StorageRef>();
  const visit = (node: PickleValue, depth: number): void => {
    budget.visit();
    if (depth > MAX_NESTING)
      throw new BadInputError(`state dict nests deeper than ${MAX_NESTING} levels`, { file });
    const storage = node instanceof TensorRef ? node.storage : node instanceof StorageRef ? node : undefined;
    if (storage) {
      const known = out.get(storage.key);
      if (known && (known.dtype !== storage.dtype || known.numel !== storage.numel)) {
        throw new BadInputError(`storage ${storage.key} is named with two types or sizes`, { file });
      }
      out.set(storage.key, storage);
      return;
    }
    for (const [, v] of children(node)) visit(v, depth + 1);
  };
  visit(value, 0);
  return out;
}

/**
 * The tensors as byte ranges. `locate(key)` gives a storage's first byte in the file and the bytes
 * stored for it; views must stay inside it and never decode more elements than they store.
 */
export function tensorInfos(
  refs: [string, TensorRef][],
  file: string,
  strides: Strides,
  locate: (key: string) => { offset: number; bytes: number },
): TensorInfo[] {
  return refs.map(([name, ref]): TensorInfo => {
    const context = { file, tensor: name };
    const size = elementBytes(ref.storage.dtype)!;
    const stored = locate(ref.storage.key);
    if (BigInt(ref.storage.numel) * BigInt(size) > BigInt(stored.bytes)) {
      throw new BadInputError(
        `storage declares ${ref.storage.numel} × ${ref.storage.dtype} but holds ${stored.bytes} bytes`,
        context,
      );
    }
    const count = elementCount(ref.shape, context);
    // Highest element index the view touches, checked against the storage (BigInt: no overflow).
    let last = BigInt(ref.storageOffset);
    for (let axis = 0; axis < ref.shape.length; axis++) {
      if (ref.shape[axis]! > 0) last += BigInt(ref.shape[axis]! - 1) * BigInt(ref.stride[axis]!);
    }
    if (count > 0 && last >= BigInt(ref.storage.numel)) {
      throw new BadInputError(
        `tensor view reaches element ${last} of a ${ref.storage.numel}-element storage`,
        context,
      );
    }
    const rowMajor = rowMajorStrides(ref.shape);
    const contiguous = ref.stride.every((s, axis) => ref.shape[axis]! <= 1 || s === rowMajor[axis]);
    const span = count === 0 ? 0 : contiguous ? count : Number(last) - ref.storageOffset + 1;
    // A view whose strides revisit elements (stride 0 from expand(), overlapping windows) would
    // decode more values than it stores: decoded bytes must stay bounded by stored bytes.
    if (count > span) {
      throw new BadInputError(
        `tensor view [${ref.shape.join(', ')}] with strides [${ref.stride.join(', ')}] reads ${count} elements from ${span} stored: overlapping views are not analyzed`,
        context,
      );
    }
    if (!contiguous) strides.set(name, ref.stride);
    return {
      name,
      dtype: ref.storage.dtype,
      shape: ref.shape,
      uri: file,
      byteOffset: stored.offset + ref.storageOffset * size,
      byteLength: span * size,
    };
  });
}
