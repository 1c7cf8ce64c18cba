import { crc32, deflateRawSync } from 'node:zlib';
import h5wasm, { type Group as H5Group } from 'h5wasm/node';
import { afterEach, describe, expect, it } from 'vitest';
import { BadInputError, UnsupportedError, WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { kerasTensorName } from '../../../lib/formats/keras/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { MemoryObjectOpener } from '../../../lib/formats/memory.ts';

// HDF5 files are written with h5wasm itself (the HDF5 C library), laid out the way Keras 2
// (`model.save(...h5)`) and Keras 3 (`.keras` = zip of config.json + model.weights.h5) lay them out.

const values = (n: number, seed: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i));

interface Weight {
  path: string;
  shape: number[];
  data: Float32Array | Float64Array;
  gzip?: boolean;
}

let written = 0;
async function writeH5(weights: Weight[], rootAttributes: Record<string, string> = {}): Promise<Uint8Array> {
  const module = await h5wasm.ready;
  const path = `/keras-test-${++written}.h5`;
  const file = new h5wasm.File(path, 'w');
  for (const [name, value] of Object.entries(rootAttributes)) file.create_attribute(name, value);
  for (const w of weights) {
    const parts = w.path.split('/');
    let group: H5Group = file;
    for (const part of parts.slice(0, -1)) {
      const existing = group.get(part);
      group = existing instanceof h5wasm.Group ? existing : group.create_group(part);
    }
    group.create_dataset({
      name: parts.at(-1)!,
      data: w.data,
      shape: w.shape,
      ...(w.gzip
        ? { chunks: w.shape.map((d) => Math.max(1, Math.ceil(d / 2))), compression: 'gzip' as const }
        : {}),
    });
  }
  file.close();
  const bytes = module.FS.readFile(path);
  module.FS.unlink(path);
  return bytes;
}

const modelConfig = {
  class_name: 'Functional',
  config: {
    name: 'net',
    layers: [
      { class_name: 'InputLayer', config: { name: 'in' }, name: 'in' },
      { class_name: 'Conv2D', config: { name: 'conv' }, name: 'conv' },
      { class_name: 'DepthwiseConv2D', config: { name: 'dw' }, name: 'dw' },
      { class_name: 'BatchNormalization', config: { name: 'bn' }, name: 'bn' },
      { class_name: 'Dense', config: { name: 'fc' }, name: 'fc' },
    ],
  },
};

const KERAS2: Weight[] = [
  { path: 'model_weights/conv/conv/kernel:0', shape: [3, 3, 4, 8], data: values(288, 1) },
  { path: 'model_weights/conv/conv/bias:0', shape: [8], data: values(8, 2) },
  { path: 'model_weights/dw/dw/depthwise_kernel:0', shape: [3, 3, 8, 1], data: values(72, 3) },
  { path: 'model_weights/bn/bn/gamma:0', shape: [8], data: values(8, 4) },
  // Chunked + gzip: not a contiguous range of the file, read through h5wasm on demand.
  { path: 'model_weights/fc/fc/kernel:0', shape: [32, 10], data: values(320, 5), gzip: true },
  { path: 'model_weights/fc/fc/bias:0', shape: [10], data: Float64Array.from(values(10, 6)) },
  { path: 'optimizer_weights/Adam/iter:0', shape: [1], data: values(1, 7) },
];

afterEach(() => {
  delete process.env.WEIGHTLENS_H5_MAX_BYTES;
});

describe('Keras HDF5 reader', () => {
  it('lists model weights (not optimizer state) and decodes them exactly', async () => {
    const bytes = await writeH5(KERAS2, {
      keras_version: '2.10.0',
      model_config: JSON.stringify(modelConfig),
    });
    const opener = new MemoryObjectOpener({ 'mem://k/model.h5': bytes });
    const ckpt = await openCheckpoint('mem://k/model.h5', opener);
    expect(ckpt.format).toBe('keras-h5');
    expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(
      ['conv/kernel', 'conv/bias', 'dw/depthwise_kernel', 'bn/gamma', 'fc/kernel', 'fc/bias'].sort(),
    );
    for (const w of KERAS2.slice(0, 6)) {
      const info = ckpt.tensors.find((t) => t.name === kerasTensorName(w.path))!;
      expect(info.shape).toEqual(w.shape);
      expect(info.dtype).toBe(w.data instanceof Float64Array ? 'F64' : 'F32');
      expect(Array.from(await ckpt.readTensor(info)), info.name).toEqual(Array.from(w.data));
    }
    // The gzip-chunked dataset has no byte range: it is decoded from the whole file by h5wasm.
    const before = opener.bytesRead;
    await ckpt.readTensor(ckpt.tensors.find((t) => t.name === 'fc/kernel')!);
    expect(opener.bytesRead - before).toBe(bytes.length);
    expect(ckpt.tensors.find((t) => t.name === 'conv/kernel')!.layout).toBe('HWIO');
    expect(ckpt.layerHints?.get('conv/kernel')).toEqual({ op: 'Conv2D', role: 'weight' });
    expect(ckpt.layerHints?.get('dw/depthwise_kernel')).toMatchObject({ depthwise: true });
    expect(ckpt.layerHints?.get('fc/kernel')).toEqual({ op: 'Dense', role: 'weight' });
    const mapped = new Map(mapTensors(ckpt).map((m) => [m.tensor.name, m]));
    expect(mapped.get('conv/kernel')).toMatchObject({ analyzed: true, layerType: 'conv2d' });
    expect(mapped.get('fc/kernel')).toMatchObject({ analyzed: true, layerType: 'dense' });
    expect(mapped.get('dw/depthwise_kernel')!.analyzed).toBe(false);
  });

  it('reads contiguous datasets with one ranged read of their own bytes', async () => {
    const bytes = await writeH5(KERAS2.slice(0, 2));
    const opener = new MemoryObjectOpener({ 'mem://k/w.h5': bytes });
    const ckpt = await openCheckpoint('mem://k/w.h5', opener);
    const kernel = ckpt.tensors.find((t) => t.name === 'conv/kernel')!;
    const before = opener.bytesRead;
    await ckpt.readTensor(kernel);
    expect(opener.bytesRead - before).toBe(288 * 4);
  });

  it('rejects files above WEIGHTLENS_H5_MAX_BYTES before reading them', async () => {
    const bytes = await writeH5(KERAS2.slice(0, 2));
    process.env.WEIGHTLENS_H5_MAX_BYTES = String(bytes.length - 1);
    const opener = new MemoryObjectOpener({ 'mem://k/big.h5': bytes });
    const err = await openCheckpoint('mem://k/big.h5', opener).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(String((err as Error).message)).toContain('WEIGHTLENS_H5_MAX_BYTES');
    expect(opener.bytesRead).toBeLessThan(100);
  });

  it('rejects a corrupt HDF5 file with a typed error', async () => {
    const bytes = (await writeH5(KERAS2.slice(0, 2))).slice();
    bytes.fill(0xab, 8, 600);
    const err = await openCheckpoint(
      'mem://k/bad.h5',
      new MemoryObjectOpener({ 'mem://k/bad.h5': bytes }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
  });
});

/** A minimal zip writer (stored or deflated entries) for .keras archives. */
function zip(entries: Record<string, Uint8Array>, deflate: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const nameBytes = new TextEncoder().encode(name);
    const body = deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(data) >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(deflate ? 8 : 0, 10);
    header.writeUInt32LE(crc32(data) >>> 0, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt32LE(offset, 42);
    parts.push(local, nameBytes, body);
    central.push(header, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const centralSize = central.reduce((n, p) => n + p.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, ...central, end]));
}

describe('Keras .keras archive reader', () => {
  const keras3: Weight[] = [
    { path: 'layers/conv/vars/0', shape: [3, 3, 4, 8], data: values(288, 11) },
    { path: 'layers/conv/vars/1', shape: [8], data: values(8, 12) },
    { path: 'layers/fc/vars/0', shape: [32, 10], data: values(320, 13) },
    { path: 'layers/fc/vars/1', shape: [10], data: values(10, 14) },
    { path: 'optimizer/vars/0', shape: [1], data: values(1, 15) },
  ];
  for (const deflate of [false, true]) {
    it(`decodes Keras 3 weights from a ${deflate ? 'deflated' : 'stored'} model.weights.h5 with hints from config.json`, async () => {
      const h5 = await writeH5(keras3);
      const archive = zip(
        {
          'metadata.json': new TextEncoder().encode('{"keras_version": "3.6.0"}'),
          'config.json': new TextEncoder().encode(JSON.stringify(modelConfig)),
          'model.weights.h5': h5,
        },
        deflate,
      );
      const ckpt = await openCheckpoint(
        'mem://k/model.keras',
        new MemoryObjectOpener({ 'mem://k/model.keras': archive }),
      );
      expect(ckpt.format).toBe('keras');
      expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(
        keras3
          .slice(0, 4)
          .map((w) => w.path)
          .sort(),
      );
      for (const w of keras3.slice(0, 4)) {
        const info = ckpt.tensors.find((t) => t.name === w.path)!;
        expect(Array.from(await ckpt.readTensor(info)), w.path).toEqual(Array.from(w.data));
      }
      expect(ckpt.layerHints?.get('layers/conv/vars/0')).toEqual({ op: 'Conv2D', role: 'weight' });
      expect(ckpt.layerHints?.get('layers/conv/vars/1')).toEqual({ op: 'Conv2D', role: 'bias' });
      expect(ckpt.layerHints?.get('layers/fc/vars/0')).toEqual({ op: 'Dense', role: 'weight' });
      if (!deflate) expect(ckpt.tensors[0]!.uri).toBe('mem://k/model.keras');
    });
  }

  it('rejects an archive without model.weights.h5', async () => {
    const archive = zip({ 'config.json': new TextEncoder().encode('{}') }, false);
    const err = await openCheckpoint(
      'mem://k/x.keras',
      new MemoryObjectOpener({ 'mem://k/x.keras': archive }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightlensError);
  });
});
