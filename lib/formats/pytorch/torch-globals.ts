/**
 * What a torch.save pickle may contain, and our own interpretation of it: value types of the
 * restricted unpickler, the allowlist of globals (tensor rebuild functions, torch storage types,
 * collections.OrderedDict), REDUCE of those globals and torch's persistent ids for storages.
 * Nothing here imports or calls Python-named code: each allowed global maps to a few lines below.
 */
import type { DType } from '../types.ts';

/** A torch storage named by a persistent id: archive entry `data/<key>`. */
export class StorageRef {
  constructor(
    readonly dtype: DType,
    readonly key: string,
    readonly numel: number,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` would build it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** An allowlisted global, as a value (called only through our own interpretation in REDUCE). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | Map<PickleValue, PickleValue>
  | Set<PickleValue>
  | PickleGlobal
  | StorageRef
  | TensorRef;

/** torch storage class name → element type. */
export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  Float8_e4m3fnStorage: 'F8_E4M3',
  Float8_e5m2Storage: 'F8_E5M2',
};

const REBUILD_FUNCTIONS = new Set([
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'collections.OrderedDict',
]);

export function isAllowedGlobal(module: string, name: string): boolean {
  if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return true;
  return REBUILD_FUNCTIONS.has(`${module}.${name}`);
}

function intList(value: PickleValue, what: string, fail: (m: string) => never): number[] {
  const items = value instanceof PickleTuple ? value.items : Array.isArray(value) ? value : undefined;
  if (!items) return fail(`${what} is not a tuple`);
  return items.map((v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return fail(`${what} holds ${String(v)}`);
    return v;
  });
}

/** Interpret a call of an allowlisted global (GLOBAL already refused everything else). */
export function reduce(callable: PickleValue, args: PickleValue, fail: (m: string) => never): PickleValue {
  if (!(callable instanceof PickleGlobal)) return fail('REDUCE of something that is not an allowed global');
  if (!(args instanceof PickleTuple)) return fail('REDUCE arguments are not a tuple');
  const a = args.items;
  switch (callable.qualified) {
    case 'collections.OrderedDict': {
      const map = new Map<PickleValue, PickleValue>();
      const pairs = a[0];
      if (Array.isArray(pairs)) {
        for (const pair of pairs) {
          if (!(pair instanceof PickleTuple) || pair.items.length !== 2)
            fail('OrderedDict item is not a pair');
          map.set((pair as PickleTuple).items[0]!, (pair as PickleTuple).items[1]!);
        }
      }
      return map;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = a;
      if (!(storage instanceof StorageRef)) return fail('tensor rebuild without a storage');
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
        return fail('tensor storage offset is not a non-negative integer');
      }
      const shape = intList(size ?? null, 'tensor size', fail);
      const strides = intList(stride ?? null, 'tensor stride', fail);
      if (shape.length !== strides.length) fail('tensor size and stride differ in length');
      return new TensorRef(storage, offset, shape, strides);
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const data = a[0];
      if (!(data instanceof TensorRef)) return fail('parameter rebuild without a tensor');
      return data;
    }
    default:
      // Storage types are values (inside persistent ids), never called.
      return fail(`${callable.qualified} cannot be called`);
  }
}

/** torch.save's persistent ids: ('storage', torch.<Type>Storage, key, location, numel). */
export function persistentLoad(pid: PickleValue, fail: (m: string) => never): StorageRef {
  if (!(pid instanceof PickleTuple) || pid.items.length < 5 || pid.items[0] !== 'storage') {
    return fail('persistent id is not a ("storage", type, key, location, numel) tuple');
  }
  const [, type, key, , numel] = pid.items;
  if (
    !(type instanceof PickleGlobal) ||
    type.module !== 'torch' ||
    !Object.hasOwn(STORAGE_DTYPES, type.name)
  ) {
    return fail('persistent id does not name a torch storage type');
  }
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) return fail('storage key is not a plain name');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    return fail('storage size is not a non-negative integer');
  }
  return new StorageRef(STORAGE_DTYPES[type.name]!, key, numel);
}
