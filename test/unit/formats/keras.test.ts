import { afterEach, describe, expect, it } from 'vitest';
import { BadInputError, UnsupportedError, WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { kerasTensorName } from '../../../lib/formats/keras/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { KERAS2, KERAS3, writeH5, writeKeras2, writeKeras3Archive, zip } from './keras-fixture.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

afterEach(() => {
  delete process.env.WEIGHTLENS_H5_MAX_BYTES;
});

describe('Keras HDF5 reader', () => {
  it('lists model weights (not optimizer state) and decodes them exactly', async () => {
    const bytes = await writeKeras2();
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

describe('Keras .keras archive reader', () => {
  for (const deflate of [false, true]) {
    it(`decodes Keras 3 weights from a ${deflate ? 'deflated' : 'stored'} model.weights.h5 with hints from config.json`, async () => {
      const archive = await writeKeras3Archive(deflate);
      const ckpt = await openCheckpoint(
        'mem://k/model.keras',
        new MemoryObjectOpener({ 'mem://k/model.keras': archive }),
      );
      expect(ckpt.format).toBe('keras');
      expect(ckpt.tensors.map((t) => t.name).sort()).toEqual(
        KERAS3.slice(0, 4)
          .map((w) => w.path)
          .sort(),
      );
      for (const w of KERAS3.slice(0, 4)) {
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
