/**
 * A restricted unpickler for PyTorch state dicts. It interprets the pickle opcodes of protocols
 * 2-5 into plain values and never executes anything: the only globals it accepts are the tensor
 * rebuild functions, torch storage types and collections.OrderedDict, and each is interpreted by
 * our own code. Any other GLOBAL/STACK_GLOBAL (os.system, builtins.eval, ...) is rejected with a
 * BadInputError naming it at the moment it is named, before a REDUCE could call it.
 *
 * Work is bounded by the pickle's length: each opcode consumes input and does work linear in what
 * it consumes (LONG integers are capped at MAX_LONG_BYTES, APPENDS/SETITEMS loop over their items),
 * memo and stack entries are counted, and every length field is checked against the remaining
 * bytes. Memo references (BINGET, DUP) share values, so a few bytes can name a structure whose
 * expansion is exponential ("billion laughs"); whoever walks the result counts the nodes it visits
 * against the pickle's length (see `WalkBudget`): a tree walk without shared references never
 * visits more nodes than the pickle has bytes.
 */
import { BadInputError, type ErrorContext, UnsupportedError } from '../../errors.ts';
import {
  isAllowedGlobal,
  PickleGlobal,
  PickleTuple,
  type PickleValue,
  persistentLoad,
  reduce,
} from './torch-globals.ts';

export { PickleGlobal, PickleTuple, type PickleValue, StorageRef, TensorRef } from './torch-globals.ts';

/** Mark objects on the stack (pickle's MARK opcode). */
const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/** Upper bounds so a crafted pickle cannot make the interpreter's state outgrow its input. */
const MAX_MEMO_ENTRIES = 10_000_000;
/**
 * Longest LONG1/LONG4 integer accepted. A weights pickle holds sizes, offsets and torch's magic
 * number (all ≤ 8 bytes); a megabyte-long integer only costs time (BigInt building is quadratic).
 */
export const MAX_LONG_BYTES = 64;
/** Longest text a dict key (tuple keys included) may render to. */
const MAX_KEY_CHARS = 4096;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The pickle ended before its STOP: a reader holding only a prefix of the file may read more. */
export class TruncatedPickleError extends BadInputError {}

export function unpickle(bytes: Uint8Array, context: ErrorContext): PickleValue {
  return unpickleAt(bytes, 0, context).value;
}

/**
 * One pickle starting at byte `start` (legacy torch files are several pickles back to back):
 * its value and the offset just past its STOP.
 */
export function unpickleAt(
  bytes: Uint8Array,
  start: number,
  context: ErrorContext,
): { value: PickleValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = start;

  const fail = (message: string): never => {
    throw new BadInputError(`malformed pickle at byte ${pos}: ${message}`, context);
  };
  const need = (n: number): void => {
    if (n < 0) fail(`needs ${n} more bytes`);
    if (pos + n > bytes.byteLength) {
      throw new TruncatedPickleError(
        `malformed pickle at byte ${pos}: needs ${n} more bytes but the pickle ends`,
        context,
      );
    }
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0)
      throw new TruncatedPickleError(`malformed pickle at byte ${pos}: unterminated line`, context);
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = (): PickleValue => {
    const item = stack.pop();
    if (item === undefined) return fail('stack underflow');
    if (item === MARK) return fail('unexpected MARK');
    return item;
  };
  const popMark = (): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('no MARK on the stack');
    const items = stack.splice(at) as PickleValue[];
    items.shift();
    return items;
  };
  const top = (): PickleValue => {
    const item = stack[stack.length - 1];
    if (item === undefined || item === MARK) return fail('expected an object on the stack');
    return item;
  };
  const decodeText = (raw: Uint8Array): string => {
    try {
      return utf8.decode(raw);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const memoPut = (index: number, value: PickleValue): void => {
    if (memo.size >= MAX_MEMO_ENTRIES) fail('memo grows beyond its limit');
    memo.set(index, value);
  };
  const memoGet = (index: number): PickleValue => {
    if (!memo.has(index)) fail(`memo key ${index} was never stored`);
    return memo.get(index)!;
  };
  const global = (module: string, name: string): PickleGlobal => {
    if (!isAllowedGlobal(module, name)) {
      throw new BadInputError(
        `pickle references the global ${module}.${name}, which is not allowed in a weights file (only tensor rebuild functions, torch storage types and OrderedDict are): refusing to load it`,
        context,
      );
    }
    return new PickleGlobal(module, name);
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on a non-dict');
    if (items.length % 2 !== 0) fail('odd number of items for a dict');
    const map = target as Map<PickleValue, PickleValue>;
    for (let i = 0; i < items.length; i += 2) map.set(dictKey(items[i]!), items[i + 1]!);
  };
  const appendItems = (target: PickleValue, items: PickleValue[]): void => {
    // A loop, not push(...items): spreading half a million arguments overflows the call stack.
    if (Array.isArray(target)) for (const item of items) target.push(item);
    else if (target instanceof Set) for (const item of items) target.add(dictKey(item));
    else fail('APPEND(S) on a non-list');
  };
  const dictKey = (key: PickleValue): PickleValue => {
    // Keys by value for the primitive types state dicts use; tuples become their string form.
    if (key instanceof PickleTuple) return tupleKeyText(key, fail);
    if (Array.isArray(key) || key instanceof Map || key instanceof Set) fail('unhashable dict key');
    return key;
  };

  while (true) {
    need(1);
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        take(1);
        break;
      case 0x95: // FRAME: an 8-byte length we do not need (the whole pickle is in memory)
        take(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PickleTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PickleTuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const map = new Map<PickleValue, PickleValue>();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark().map(dictKey)));
        break;
      case 0x71: // BINPUT
        memoPut(take(1)[0]!, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memoPut(view.getUint32(pos, true), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(take(1)[0]!));
        break;
      case 0x6a: // LONG_BINGET
        need(4);
        stack.push(memoGet(view.getUint32(pos, true)));
        pos += 4;
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(take(1)[0]!);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(longLength(take(1)[0]!))));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(take(longLength(n))));
        break;
      }
      case 0x49: {
        // INT (protocol 0 text; also how True/False appear there)
        const line = readLine();
        if (line === '01' || line === '00') stack.push(line === '01');
        else {
          const n = Number(line);
          if (!Number.isSafeInteger(n)) fail(`bad INT "${line.slice(0, 20)}"`);
          stack.push(n);
        }
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = view.getUint32(pos, true);
        pos += 4;
        stack.push(decodeText(take(n)));
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decodeText(take(take(1)[0]!)));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decodeText(take(readLength8())));
        break;
      case 0x55: // SHORT_BINSTRING (python 2 str)
        stack.push(latin1.decode(take(take(1)[0]!)));
        break;
      case 0x54: {
        // BINSTRING
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        stack.push(latin1.decode(take(n)));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(take(1)[0]!));
        break;
      case 0x42: {
        // BINBYTES
        need(4);
        const n = view.getUint32(pos, true);
        pos += 4;
        stack.push(take(n));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(readLength8()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = readLine();
        const name = readLine();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args, fail));
        break;
      }
      case 0x81: // NEWOBJ
      case 0x92: // NEWOBJ_EX
        return fail('NEWOBJ is not used by tensor state dicts');
      case 0x62: // BUILD: set state on an object; for OrderedDict this is `_metadata`, which we drop.
        pop();
        top();
        break;
      case 0x51: {
        // BINPERSID
        stack.push(persistentLoad(pop(), fail));
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS (a set's items, appended like a list's)
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x30: // POP
        if (stack.pop() === undefined) fail('stack underflow');
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw new UnsupportedError(
          'pickle uses out-of-band buffers (protocol 5), not a torch.save file',
          context,
        );
      default:
        return fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not supported in a weights pickle`);
    }
  }

  function longLength(n: number): number {
    if (n > MAX_LONG_BYTES)
      fail(`a ${n}-byte integer is longer than any a weights pickle holds (${MAX_LONG_BYTES})`);
    return n;
  }

  function readLength8(): number {
    need(8);
    const n = view.getBigUint64(pos, true);
    pos += 8;
    if (n > BigInt(bytes.byteLength)) fail('length beyond the pickle');
    return Number(n);
  }
}

/** Two's-complement little-endian integer of any width; a number when it is safe. */
function decodeLong(raw: Uint8Array): number | bigint {
  if (raw.byteLength === 0) return 0;
  // One hex parse (linear), not a shift per byte.
  let hex = '0x';
  for (let i = raw.byteLength - 1; i >= 0; i--) hex += raw[i]!.toString(16).padStart(2, '0');
  let value = BigInt(hex);
  if (raw[raw.byteLength - 1]! & 0x80) value -= 1n << BigInt(raw.byteLength * 8);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/**
 * A tuple key's string form (nested tuples included), as one text per distinct key. Tuples may
 * share members through the memo, so the rendering is bounded: a key longer than MAX_KEY_CHARS
 * is refused rather than expanded.
 */
function tupleKeyText(key: PickleTuple, fail: (message: string) => never): string {
  let length = 0;
  const render = (value: PickleValue, depth: number): unknown => {
    if (depth > 16) return fail('dict key nests tuples deeper than 16 levels');
    // Every node counts (a tree of empty tuples renders to little text but costs its size).
    length += 1;
    if (length > MAX_KEY_CHARS) fail(`dict key renders to more than ${MAX_KEY_CHARS} characters`);
    if (value instanceof PickleTuple) return value.items.map((item) => render(item, depth + 1));
    if (Array.isArray(value) || value instanceof Map || value instanceof Set) {
      return fail('unhashable dict key');
    }
    const text = typeof value === 'bigint' ? value.toString() : String(value);
    length += text.length + 2;
    if (length > MAX_KEY_CHARS) fail(`dict key renders to more than ${MAX_KEY_CHARS} characters`);
    return text;
  };
  return JSON.stringify(render(key, 0));
}

/**
 * Counts the work of a walk over an unpickled value. A pickle without shared references builds at
 * most one node per byte, so a walk visiting more nodes than the pickle has bytes is expanding
 * memo references (a "billion laughs" pickle); names built on the way are counted too (a long key
 * shared at every level). Either overrun stops the walk with a BadInputError.
 */
export class WalkBudget {
  private nodes = 0;
  private chars = 0;
  private readonly maxChars: number;
  constructor(
    private readonly maxNodes: number,
    private readonly context: ErrorContext,
  ) {
    this.maxChars = 16 * maxNodes + (1 << 20);
  }
  visit(nameChars = 0): void {
    this.nodes++;
    this.chars += nameChars;
    if (this.nodes > this.maxNodes || this.chars > this.maxChars) {
      throw new BadInputError(
        `pickle refers to shared objects beyond what its ${this.maxNodes} bytes can hold (a memo bomb): refusing to expand it`,
        this.context,
      );
    }
  }
}
