/**
 * Keras-shaped HDF5 files written with h5wasm itself (the HDF5 C library), laid out the way Keras 2
 * (`model.save(...h5)`) and Keras 3 (`.keras` = zip of config.json + model.weights.h5) lay them out.
 * Used by keras.test.ts and written to test/fixtures/formats/keras/ by
 * test/fixtures/gen/formats_builders.ts for the fuzz test.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import h5wasm, { type Group as H5Group } from 'h5wasm/node';

export const values = (n: number, seed: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i));

export interface Weight {
  path: string;
  shape: number[];
  data: Float32Array | Float64Array;
  gzip?: boolean;
}

let written = 0;
export async function writeH5(
  weights: Weight[],
  rootAttributes: Record<string, string> = {},
): Promise<Uint8Array> {
  const module = await h5wasm.ready;
  // h5wasm's Node build writes to the real file system.
  const path = join(tmpdir(), `weightlens-keras-fixture-${process.pid}-${++written}.h5`);
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

export const modelConfig = {
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

export const KERAS2: Weight[] = [
  { path: 'model_weights/conv/conv/kernel:0', shape: [3, 3, 4, 8], data: values(288, 1) },
  { path: 'model_weights/conv/conv/bias:0', shape: [8], data: values(8, 2) },
  { path: 'model_weights/dw/dw/depthwise_kernel:0', shape: [3, 3, 8, 1], data: values(72, 3) },
  { path: 'model_weights/bn/bn/gamma:0', shape: [8], data: values(8, 4) },
  // Chunked + gzip: not a contiguous range of the file, read through h5wasm on demand.
  { path: 'model_weights/fc/fc/kernel:0', shape: [32, 10], data: values(320, 5), gzip: true },
  { path: 'model_weights/fc/fc/bias:0', shape: [10], data: Float64Array.from(values(10, 6)) },
  { path: 'optimizer_weights/Adam/iter:0', shape: [1], data: values(1, 7) },
];

/** Root attributes of a Keras 2 `model.save(...h5)` file. */
export const KERAS2_ATTRIBUTES = { keras_version: '2.10.0', model_config: JSON.stringify(modelConfig) };

/** A Keras 2 `.h5` model file (test/fixtures/formats/keras/model.h5). */
export function writeKeras2(): Promise<Uint8Array> {
  return writeH5(KERAS2, KERAS2_ATTRIBUTES);
}

/** Keras 3 `model.weights.h5` variables (`layers/<layer>/vars/<i>`), optimizer state included. */
export const KERAS3: Weight[] = [
  { path: 'layers/conv/vars/0', shape: [3, 3, 4, 8], data: values(288, 11) },
  { path: 'layers/conv/vars/1', shape: [8], data: values(8, 12) },
  { path: 'layers/fc/vars/0', shape: [32, 10], data: values(320, 13) },
  { path: 'layers/fc/vars/1', shape: [10], data: values(10, 14) },
  { path: 'optimizer/vars/0', shape: [1], data: values(1, 15) },
];

/** A Keras 3 `.keras` archive (test/fixtures/formats/keras/model.keras is the stored one). */
export async function writeKeras3Archive(deflate: boolean): Promise<Uint8Array> {
  return zip(
    {
      'metadata.json': new TextEncoder().encode('{"keras_version": "3.6.0"}'),
      'config.json': new TextEncoder().encode(JSON.stringify(modelConfig)),
      'model.weights.h5': await writeH5(KERAS3),
    },
    deflate,
  );
}

/** A minimal zip writer (stored or deflated entries) for .keras archives. */
export function zip(entries: Record<string, Uint8Array>, deflate: boolean): Uint8Array {
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
