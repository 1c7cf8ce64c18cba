import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensor, mapTensors, readLayerWeights } from '../../../lib/formats/layers.ts';
import type { OpenedCheckpoint, TensorInfo } from '../../../lib/formats/types.ts';
import { buildSafetensors } from './builders.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

function info(name: string, shape: number[], extra: Partial<TensorInfo> = {}): TensorInfo {
  return { name, dtype: 'F32', shape, uri: 'mem', byteOffset: 0, byteLength: 0, ...extra };
}

/** Values that encode their own index: v = Σ index[k] · 10^(rank-1-k). */
function indexCoded(shape: number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  for (let flat = 0; flat < count; flat++) {
    let rest = flat;
    let code = 0;
    let scale = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      code += (rest % shape[axis]!) * scale;
      rest = Math.floor(rest / shape[axis]!);
      scale *= 10;
    }
    out[flat] = code;
  }
  return out;
}

function checkpointOf(format: OpenedCheckpoint['format'], tensor: TensorInfo, data: Float32Array) {
  const ckpt: OpenedCheckpoint = { format, uri: 'mem', tensors: [tensor], readTensor: async () => data };
  return { ckpt, mapped: mapTensors(ckpt)[0]! };
}

describe('mapTensor', () => {
  const cases: [string, TensorInfo, string][] = [
    ['dense', info('encoder.layer.0.attention.self.query.weight', [384, 384]), 'dense'],
    ['embedding', info('embeddings.word_embeddings.weight', [30522, 384]), 'embedding'],
    ['gpt2 wte', info('wte.weight', [50257, 768]), 'embedding'],
    ['conv2d', info('features.0.weight', [64, 3, 3, 3]), 'conv2d'],
    ['conv1d', info('conv.weight', [64, 32, 5]), 'conv1d'],
    ['bias', info('fc.bias', [10]), 'skipped'],
    ['4-D mask buffer named bias', info('h.0.attn.bias', [1, 1, 1024, 1024]), 'skipped'],
    ['layer norm', info('encoder.LayerNorm.weight', [384]), 'skipped'],
    ['integer buffer', info('embeddings.position_ids', [1, 512], { dtype: 'I64' }), 'skipped'],
    // A state dict has no graph: WeightWatcher analyzes a depthwise kernel as a conv2d (M = 1).
    ['depthwise by name in a state dict', info('blocks.1.conv_dw.weight', [32, 1, 3, 3]), 'conv2d'],
    ['non-.weight key', info('attn.in_proj_weight', [2304, 768]), 'skipped'],
    ['degenerate', info('cls.weight', [1, 768]), 'skipped'],
  ];
  it.each(cases)('%s', (_label, tensor, expected) => {
    const mapped = mapTensor(tensor, 'safetensors', undefined);
    expect(mapped.layerType).toBe(expected);
    expect(mapped.analyzed).toBe(expected !== 'skipped');
    if (expected === 'skipped') expect(mapped.reason).toBeTruthy();
  });

  it('follows reader hints (depthwise, bias, embedding op)', () => {
    const kernel = info('dw/depthwise_kernel', [3, 3, 32, 1]);
    expect(mapTensor(kernel, 'tfjs', { op: 'DepthwiseConv2D', depthwise: true }).analyzed).toBe(false);
    expect(mapTensor(info('block/depthwise/kernel', [3, 3, 32, 1]), 'keras-h5', undefined).analyzed).toBe(
      false,
    );
    expect(mapTensor(info('x', [8, 8]), 'onnx', { op: 'Gemm', role: 'bias' }).analyzed).toBe(false);
    expect(mapTensor(info('table', [100, 16]), 'tfjs', { op: 'Embedding' }).layerType).toBe('embedding');
    expect(mapTensor(info('k', [3, 3, 8, 16]), 'tfjs', { op: 'Conv2D' }).layerType).toBe('conv2d');
  });
});

describe('readLayerWeights brings kernels to the canonical layout', () => {
  it('OIHW (torch) → HWIO', async () => {
    const [o, i, h, w] = [3, 2, 4, 5];
    const { ckpt, mapped } = checkpointOf(
      'pytorch',
      info('c.weight', [o, i, h, w]),
      indexCoded([o, i, h, w]),
    );
    const weights = await readLayerWeights(ckpt, mapped);
    expect(weights.shape).toEqual([h, w, i, o]);
    // Canonical element [kh, kw, ci, co] must hold the stored [co, ci, kh, kw] code.
    for (let kh = 0; kh < h; kh++)
      for (let kw = 0; kw < w; kw++)
        for (let ci = 0; ci < i; ci++)
          for (let co = 0; co < o; co++) {
            const at = ((kh * w + kw) * i + ci) * o + co;
            expect(weights.data[at]).toBe(co * 1000 + ci * 100 + kh * 10 + kw);
          }
  });

  it('OHWI (TFLite) → HWIO and HWIO unchanged', async () => {
    const [o, h, w, i] = [4, 3, 2, 5];
    const stored = indexCoded([o, h, w, i]);
    const tensor = info('k', [o, h, w, i], { layout: 'OHWI' });
    const { ckpt, mapped } = checkpointOf('tflite', tensor, stored);
    const weights = await readLayerWeights(ckpt, mapped);
    expect(weights.shape).toEqual([h, w, i, o]);
    expect(weights.data[((1 * w + 1) * i + 2) * o + 3]).toBe(3 * 1000 + 1 * 100 + 1 * 10 + 2);
    const hwio = checkpointOf('tfjs', info('k2', [3, 3, 2, 4]), indexCoded([3, 3, 2, 4]));
    const same = await readLayerWeights(hwio.ckpt, hwio.mapped);
    expect(same.data).toBe(await hwio.ckpt.readTensor(hwio.mapped.tensor));
  });

  it('torch conv1d [out, in, k] → [k, in, out]', async () => {
    const { ckpt, mapped } = checkpointOf('pytorch', info('c.weight', [4, 3, 5]), indexCoded([4, 3, 5]));
    const weights = await readLayerWeights(ckpt, mapped);
    expect(weights.layerType).toBe('conv1d');
    expect(weights.shape).toEqual([5, 3, 4]);
    expect(weights.data[(2 * 3 + 1) * 4 + 3]).toBe(3 * 100 + 1 * 10 + 2);
  });

  it('reads a dense layer from a safetensors file and refuses skipped tensors', async () => {
    const values = Float32Array.from({ length: 12 }, (_, k) => k - 5.5);
    const opener = new MemoryObjectOpener({
      'm/model.safetensors': buildSafetensors([
        { name: 'fc.weight', shape: [3, 4], data: values },
        { name: 'fc.bias', shape: [3] },
      ]),
    });
    const ckpt = await openCheckpoint('m/model.safetensors', opener);
    const mapped = mapTensors(ckpt);
    const dense = mapped.find((m) => m.tensor.name === 'fc.weight')!;
    const weights = await readLayerWeights(ckpt, dense);
    expect(weights.layerType).toBe('dense');
    expect([...weights.data]).toEqual([...values]);
    const bias = mapped.find((m) => m.tensor.name === 'fc.bias')!;
    await expect(readLayerWeights(ckpt, bias)).rejects.toBeInstanceOf(BadInputError);
  });

  it('takes the kernel layout from safetensors metadata (kernel_layout: HWIO)', async () => {
    const shape = [3, 3, 2, 4];
    const opener = new MemoryObjectOpener({
      'k.safetensors': buildSafetensors([{ name: 'conv.weight', shape, data: indexCoded(shape) }], {
        kernel_layout: 'HWIO',
      }),
    });
    const ckpt = await openCheckpoint('k.safetensors', opener);
    const weights = await readLayerWeights(ckpt, mapTensors(ckpt)[0]!);
    expect(weights.shape).toEqual(shape);
    expect([...weights.data]).toEqual([...indexCoded(shape)]);
  });
});
