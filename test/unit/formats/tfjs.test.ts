import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BadInputError, WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';
import { TFJS_SHARD, TFJS_WEIGHTS } from './tfjs-fixture.ts';

// Builds tfjs models in memory and checks our decoding against tfjs-core's own `io.decodeWeights`
// (an independent implementation of the same manifest format).

interface Spec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16'; scale: number; min: number } | { dtype: 'float16' };
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random stored bytes for each spec, concatenated (tfjs's own layout). */
function weightBytes(specs: Spec[], seed: number): Uint8Array {
  const random = seeded(seed);
  const parts: Uint8Array[] = [];
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization?.dtype;
    if (q === 'uint8') parts.push(Uint8Array.from({ length: count }, () => Math.floor(random() * 256)));
    else if (q === 'uint16')
      parts.push(
        new Uint8Array(Uint16Array.from({ length: count }, () => Math.floor(random() * 65536)).buffer),
      );
    // float16 bit patterns of finite values (exponent < 31).
    else if (q === 'float16')
      parts.push(
        new Uint8Array(
          Uint16Array.from(
            { length: count },
            () => Math.floor(random() * 0x7c00) | (random() < 0.5 ? 0x8000 : 0),
          ).buffer,
        ),
      );
    else if (spec.dtype === 'int32')
      parts.push(new Uint8Array(Int32Array.from({ length: count }, () => Math.floor(random() * 100)).buffer));
    else parts.push(new Uint8Array(Float32Array.from({ length: count }, () => random() * 2 - 1).buffer));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const SPECS: Spec[] = [
  { name: 'conv1/kernel', shape: [3, 3, 4, 8], dtype: 'float32' },
  { name: 'conv1/bias', shape: [8], dtype: 'float32' },
  { name: 'dw/depthwise_kernel', shape: [3, 3, 8, 1], dtype: 'float32', quantization: { dtype: 'float16' } },
  {
    name: 'dense/kernel',
    shape: [72, 16],
    dtype: 'float32',
    quantization: { dtype: 'uint8', scale: 0.0123, min: -1.5 },
  },
  {
    name: 'dense/bias',
    shape: [16],
    dtype: 'float32',
    quantization: { dtype: 'uint16', scale: 1e-4, min: -3 },
  },
  { name: 'emb/embeddings', shape: [10, 6], dtype: 'float32' },
];
const LAYERS = [
  { class_name: 'Conv2D', config: { name: 'conv1' } },
  { class_name: 'DepthwiseConv2D', config: { name: 'dw' } },
  { class_name: 'Dense', config: { name: 'dense' } },
  { class_name: 'Embedding', config: { name: 'emb' } },
];

/** A layers model whose weights are split into shards of `shardBytes` (tensors straddle shards). */
function layersModel(shardBytes: number): { opener: MemoryObjectOpener; data: Uint8Array } {
  const data = weightBytes(SPECS, 7);
  const opener = new MemoryObjectOpener();
  const paths: string[] = [];
  for (let at = 0, i = 1; at < data.length; at += shardBytes, i++) {
    const path = `group1-shard${i}.bin`;
    paths.push(path);
    opener.put(`mem://m/${path}`, data.slice(at, at + shardBytes));
  }
  const model = {
    format: 'layers-model',
    modelTopology: { model_config: { class_name: 'Sequential', config: { name: 'seq', layers: LAYERS } } },
    weightsManifest: [{ paths, weights: SPECS }],
  };
  opener.put('mem://m/model.json', new TextEncoder().encode(JSON.stringify(model)));
  return { opener, data };
}

async function tfjsReference(data: Uint8Array): Promise<Map<string, Float32Array | Int32Array>> {
  const buffer = data.slice().buffer;
  const tensors = tf.io.decodeWeights(buffer, SPECS as tf.io.WeightsManifestEntry[]);
  const out = new Map<string, Float32Array | Int32Array>();
  for (const [name, t] of Object.entries(tensors)) out.set(name, (await t.data()) as Float32Array);
  return out;
}

describe('tfjs reader', () => {
  it('decodes tensors that straddle shard files like tfjs-core does, and records quantization', async () => {
    const { opener, data } = layersModel(700);
    const ckpt = await openCheckpoint('mem://m/model.json', opener);
    expect(ckpt.format).toBe('tfjs');
    const reference = await tfjsReference(data);
    expect(ckpt.tensors.map((t) => t.name)).toEqual(SPECS.map((s) => s.name));
    let straddling = 0;
    for (const info of ckpt.tensors) {
      const end = info.byteOffset + info.byteLength;
      if (end > 700) straddling++;
      const values = await ckpt.readTensor(info);
      expect(Array.from(values), info.name).toEqual(Array.from(reference.get(info.name)!));
    }
    expect(straddling).toBeGreaterThan(0);
    const dense = ckpt.tensors.find((t) => t.name === 'dense/kernel')!;
    expect(dense.dtype).toBe('U8');
    expect(dense.quantization).toEqual({ scheme: 'uint8-affine', scale: 0.0123, min: -1.5 });
    expect(ckpt.tensors.find((t) => t.name === 'dw/depthwise_kernel')!.quantization).toEqual({
      scheme: 'float16',
    });
    expect(ckpt.layerHints?.get('conv1/kernel')).toEqual({ op: 'Conv2D', role: 'weight' });
    expect(ckpt.layerHints?.get('dw/depthwise_kernel')).toMatchObject({ depthwise: true });
    const mapped = new Map(mapTensors(ckpt).map((m) => [m.tensor.name, m]));
    expect(mapped.get('dense/kernel')).toMatchObject({ analyzed: true, layerType: 'dense' });
    expect(mapped.get('emb/embeddings')).toMatchObject({ analyzed: true, layerType: 'embedding' });
    expect(mapped.get('dw/depthwise_kernel')!.analyzed).toBe(false);
  });

  it('reads only the shards a tensor lives in', async () => {
    const { opener } = layersModel(700);
    const ckpt = await openCheckpoint('mem://m/model.json', opener);
    const before = opener.bytesRead;
    const emb = ckpt.tensors.find((t) => t.name === 'emb/embeddings')!;
    await ckpt.readTensor(emb);
    expect(opener.bytesRead - before).toBe(emb.byteLength);
  });

  it('reads a bare weights manifest and hints graph-model ops, marking int32 shape constants', async () => {
    const specs: Spec[] = [
      {
        name: 'net/conv/Conv2D/ReadVariableOp',
        shape: [1, 1, 8, 4],
        dtype: 'float32',
        quantization: { dtype: 'float16' },
      },
      { name: 'net/conv/BiasAdd/ReadVariableOp', shape: [4], dtype: 'float32' },
      { name: 'net/reshape/shape', shape: [2], dtype: 'int32' },
    ];
    const data = weightBytes(specs, 3);
    const graph = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder' },
          { name: 'net/conv/Conv2D/ReadVariableOp', op: 'Const' },
          { name: 'net/conv/BiasAdd/ReadVariableOp', op: 'Const' },
          { name: 'w', op: 'Identity', input: ['net/conv/Conv2D/ReadVariableOp'] },
          { name: 'conv', op: '_FusedConv2D', input: ['x', 'w:0', 'net/conv/BiasAdd/ReadVariableOp', '^x'] },
          { name: 'net/reshape/shape', op: 'Const' },
          { name: 'r', op: 'Reshape', input: ['conv', 'net/reshape/shape'] },
        ],
      },
      weightsManifest: [{ paths: ['w.bin'], weights: specs }],
    };
    const enc = new TextEncoder();
    const opener = new MemoryObjectOpener({
      'mem://g/m.json': enc.encode(JSON.stringify(graph)),
      'mem://g/w.bin': data,
      'mem://g/only-weights_manifest.json': enc.encode(JSON.stringify(graph.weightsManifest)),
    });
    const ckpt = await openCheckpoint('mem://g/m.json', opener);
    expect(ckpt.layerHints?.get('net/conv/Conv2D/ReadVariableOp')).toEqual({
      op: '_FusedConv2D',
      role: 'weight',
    });
    expect(ckpt.layerHints?.get('net/conv/BiasAdd/ReadVariableOp')).toEqual({
      op: '_FusedConv2D',
      role: 'bias',
    });
    expect(ckpt.layerHints?.get('net/reshape/shape')).toEqual({ op: 'Const', role: 'other' });
    const bare = await openCheckpoint('mem://g/only-weights_manifest.json', opener);
    expect(bare.tensors.map((t) => [t.name, t.dtype, t.byteLength])).toEqual([
      ['net/conv/Conv2D/ReadVariableOp', 'F16', 64],
      ['net/conv/BiasAdd/ReadVariableOp', 'F32', 16],
      ['net/reshape/shape', 'I32', 8],
    ]);
    expect(Array.from(await bare.readTensor(bare.tensors[2]!))).toEqual(
      Array.from(new Int32Array(data.slice(80).buffer)),
    );
  });

  const bad = (weights: unknown, paths = ['w.bin'], bin = new Uint8Array(16)): MemoryObjectOpener =>
    new MemoryObjectOpener({
      'mem://bad/model.json': new TextEncoder().encode(
        JSON.stringify({ weightsManifest: [{ paths, weights }] }),
      ),
      'mem://bad/w.bin': bin,
    });
  const cases: [string, MemoryObjectOpener][] = [
    ['a shard shorter than its weights', bad([{ name: 'w', shape: [5], dtype: 'float32' }])],
    [
      'a shard path outside the model directory',
      bad([{ name: 'w', shape: [1], dtype: 'float32' }], ['../../etc/passwd']),
    ],
    ['a missing shard', bad([{ name: 'w', shape: [1], dtype: 'float32' }], ['nope.bin'])],
    ['an unknown dtype', bad([{ name: 'w', shape: [1], dtype: 'float99' }])],
    ['a negative dimension', bad([{ name: 'w', shape: [-1], dtype: 'float32' }])],
    ['a huge shape', bad([{ name: 'w', shape: [2 ** 40, 2 ** 40], dtype: 'float32' }])],
    [
      'uint8 without a scale',
      bad([{ name: 'w', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8', min: 0 } }]),
    ],
    [
      'a duplicate name',
      bad([
        { name: 'w', shape: [1], dtype: 'float32' },
        { name: 'w', shape: [1], dtype: 'float32' },
      ]),
    ],
    [
      'malformed JSON',
      new MemoryObjectOpener({ 'mem://bad/model.json': new TextEncoder().encode('{"weightsManifest": [') }),
    ],
  ];
  for (const [what, opener] of cases) {
    it(`rejects ${what} with a typed error`, async () => {
      const err = await openCheckpoint('mem://bad/model.json', opener).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeightlensError);
      expect((err as WeightlensError).context.file).toMatch(/^mem:\/\/bad\//);
    });
  }

  it('rejects JSON beyond the size bound before reading it', async () => {
    const opener = new MemoryObjectOpener({ 'mem://big/model.json': new Uint8Array(64 * 1024 * 1024 + 1) });
    const err = await openCheckpoint('mem://big/model.json', opener).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(opener.bytesRead).toBeLessThan(1024);
  });
});

describe('committed tfjs fixture (test/fixtures/gen/formats_builders.ts)', () => {
  it('decodes to the values tfjs-core encoded, with layer hints from the topology', async () => {
    const files = Object.fromEntries(
      ['model.json', TFJS_SHARD].map((f) => [
        `mem://fixture/${f}`,
        new Uint8Array(readFileSync(`${FIXTURES_DIR}tfjs/${f}`)),
      ]),
    );
    const ckpt = await openCheckpoint('mem://fixture/model.json', new MemoryObjectOpener(files));
    expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(Object.keys(TFJS_WEIGHTS).sort());
    for (const [name, want] of Object.entries(TFJS_WEIGHTS)) {
      const info = ckpt.tensors.find((t) => t.name === name)!;
      expect(info.shape, name).toEqual(want.shape);
      expect(Array.from(await ckpt.readTensor(info)), name).toEqual(Array.from(want.data));
    }
    const mapped = new Map(mapTensors(ckpt).map((m) => [m.tensor.name, m]));
    expect(mapped.get('conv/kernel')).toMatchObject({ analyzed: true, layerType: 'conv2d' });
    expect(mapped.get('fc/kernel')).toMatchObject({ analyzed: true, layerType: 'dense' });
  });
});
