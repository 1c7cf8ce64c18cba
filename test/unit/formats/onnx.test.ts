import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError, WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import type { OpenedCheckpoint } from '../../../lib/formats/types.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const DIR = join(import.meta.dirname, '../../fixtures/formats/onnx');
interface Expected {
  name: string;
  dtype: string;
  shape: number[];
  values: number[];
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, Expected[]>;

function fixtureOpener(...files: string[]): MemoryObjectOpener {
  const opener = new MemoryObjectOpener();
  for (const f of files) opener.put(`mem://onnx/${f}`, new Uint8Array(readFileSync(join(DIR, f))));
  return opener;
}

async function expectMatchesWriter(ckpt: OpenedCheckpoint, rows: Expected[]): Promise<void> {
  expect(ckpt.format).toBe('onnx');
  expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(rows.map((r) => r.name).sort());
  for (const row of rows) {
    const info = ckpt.tensors.find((t) => t.name === row.name)!;
    expect(info.dtype, row.name).toBe(row.dtype);
    expect(info.shape, row.name).toEqual(row.shape);
    const values = await ckpt.readTensor(info);
    // Bit-exact: every stored type converts to float64 without rounding.
    expect(Array.from(values), row.name).toEqual(row.values);
  }
}

describe('ONNX reader on files written by the onnx package', () => {
  it('decodes raw_data, typed fields (packed floats, varints, float16 bits) and Constant nodes', async () => {
    const ckpt = await openCheckpoint('mem://onnx/small_cnn.onnx', fixtureOpener('small_cnn.onnx'));
    await expectMatchesWriter(ckpt, expected.small_cnn!);
    expect(ckpt.tensors.find((t) => t.name === 'conv.weight')!.layout).toBe('OIHW');
    expect(ckpt.layerHints?.get('conv.weight')).toEqual({ op: 'Conv', role: 'weight' });
    expect(ckpt.layerHints?.get('conv.bias')).toEqual({ op: 'Conv', role: 'bias' });
    // Reached through a Cast node; group = 8 makes it depthwise.
    expect(ckpt.layerHints?.get('dw.weight')).toEqual({ op: 'Conv', role: 'weight', depthwise: true });
    // Analyzed all the same, as WeightWatcher's ONNX reader analyzes every 4-D initializer.
    const dw = mapTensors(ckpt).find((m) => m.tensor.name === 'dw.weight')!;
    expect([dw.analyzed, dw.layerType]).toEqual([true, 'conv2d']);
    expect(ckpt.layerHints?.get('fc.weight')).toEqual({ op: 'Gemm', role: 'weight' });
    expect(ckpt.layerHints?.get('const.out')).toEqual({ op: 'MatMul', role: 'weight' });
    expect(ckpt.layerHints?.has('typed.shape')).toBe(false);
  });

  it('keeps weights of both If branches, even under one name', async () => {
    const ckpt = await openCheckpoint('mem://onnx/if_subgraph.onnx', fixtureOpener('if_subgraph.onnx'));
    await expectMatchesWriter(ckpt, expected.if_subgraph!);
    expect(ckpt.layerHints?.get('if_rate/then_branch/branch.weight')?.op).toBe('MatMul');
    expect(ckpt.layerHints?.get('if_rate/else_branch/branch.weight')?.op).toBe('MatMul');
  });

  it('reads external data files by ranged reads', async () => {
    const opener = fixtureOpener('external.onnx', 'external.onnx.data');
    const ckpt = await openCheckpoint('mem://onnx/external.onnx', opener);
    await expectMatchesWriter(ckpt, expected.external!);
    expect(ckpt.tensors.find((t) => t.name === 'w1')!.uri).toBe('mem://onnx/external.onnx.data');
    expect(ckpt.tensors.find((t) => t.name === 'b2')!.uri).toBe('mem://onnx/external.onnx');
  });

  it('names a missing external data file', async () => {
    const err = await openCheckpoint('mem://onnx/external.onnx', fixtureOpener('external.onnx')).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(BadInputError);
    expect(String(err.context.file)).toContain('external.onnx.data');
  });
});

// A minimal protobuf writer, to build models the onnx package would refuse to write (hostile or huge).
function varint(value: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  if (v < 0n) v = BigInt.asUintN(64, v);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}
type Bytes = number[] | Uint8Array;
function concat(...parts: Bytes[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const lenField = (n: number, payload: Bytes): Uint8Array =>
  concat(varint((n << 3) | 2), varint(payload.length), payload);
const intField = (n: number, value: number): number[] => [...varint(n << 3), ...varint(value)];
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function tensorProto(name: string, dims: number[], dataType: number, raw: Uint8Array): Uint8Array {
  return concat(
    ...dims.map((d) => intField(1, d)),
    intField(2, dataType),
    lenField(8, text(name)),
    lenField(9, raw),
  );
}
function modelWith(initializers: Uint8Array[]): Uint8Array {
  return concat(intField(1, 8), lenField(7, concat(...initializers.map((t) => lenField(5, t)))));
}

describe('ONNX reader on hand-built and hostile files', () => {
  it('scans a large model reading only its small fields', async () => {
    const big = new Uint8Array(4 * 1024 * 1024 * 4); // 16 MB of float32 zeros in raw_data
    const model = modelWith([
      tensorProto('big', [4096, 1024], 1, big),
      tensorProto('small', [2], 1, new Uint8Array(8)),
    ]);
    const opener = new MemoryObjectOpener({ 'mem://m/big.onnx': model });
    const ckpt = await openCheckpoint('mem://m/big.onnx', opener);
    expect(ckpt.tensors.map((t) => [t.name, t.byteLength])).toEqual([
      ['big', big.length],
      ['small', 8],
    ]);
    expect(opener.bytesRead).toBeLessThan(300 * 1024);
    const before = opener.bytesRead;
    await ckpt.readTensor(ckpt.tensors[1]!);
    expect(opener.bytesRead - before).toBe(8);
  });

  const cases: [string, Uint8Array][] = [
    ['raw_data shorter than the shape', modelWith([tensorProto('w', [3, 3], 1, new Uint8Array(30))])],
    ['unknown data_type', modelWith([tensorProto('w', [1], 99, new Uint8Array(4))])],
    ['truncated message', modelWith([tensorProto('w', [2, 2], 1, new Uint8Array(16))]).subarray(0, 20)],
    ['length prefix past the end', new Uint8Array([0x08, 0x08, 0x3a, 0xff, 0xff, 0xff, 0x7f, 0x2a])],
    ['no graph at all', new Uint8Array([0x08, 0x08])],
    [
      'external data outside its directory',
      modelWith([
        concat(
          intField(1, 2),
          intField(2, 1),
          lenField(8, text('w')),
          lenField(13, concat(lenField(1, text('location')), lenField(2, text('../../etc/passwd')))),
          intField(14, 1),
        ),
      ]),
    ],
    ['a 20-byte varint', new Uint8Array([0x08, ...new Array(20).fill(0xff), 0x01])],
  ];
  for (const [what, bytes] of cases) {
    it(`rejects ${what} with a typed error naming the file`, async () => {
      const opener = new MemoryObjectOpener({ 'mem://bad/m.onnx': bytes });
      const err = await openCheckpoint('mem://bad/m.onnx', opener).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeightlensError);
      expect((err as WeightlensError).toLine()).toContain('mem://bad/m.onnx');
    });
  }
});
