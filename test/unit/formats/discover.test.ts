import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { discoverCheckpoints } from '../../../lib/formats/discover.ts';
import { buildSafetensors, jsonBytes } from './builders.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

function weights(seed: number): Uint8Array {
  return buildSafetensors([
    { name: 'fc.weight', shape: [4, 4], data: Float32Array.from({ length: 16 }, (_, k) => k * seed) },
  ]);
}

function zoo(root: string): MemoryObjectOpener {
  const shard1 = buildSafetensors([{ name: 'a.weight', shape: [2, 2] }]);
  const shard2 = buildSafetensors([{ name: 'b.weight', shape: [2, 2] }]);
  return new MemoryObjectOpener({
    [`${root}/weightlens.json`]: jsonBytes({ family: 'mlp', hyperparameters: { optimizer: 'sgd' } }),
    [`${root}/run-a/model.safetensors`]: weights(1),
    [`${root}/run-a/weightlens.json`]: jsonBytes({
      run: 'a',
      step: 100,
      epoch: 2,
      known_test_accuracy: 0.91,
      known_test_loss: 0.3,
      known_metrics: { f1: 0.8 },
      hyperparameters: { lr: 0.1 },
    }),
    [`${root}/run-b/checkpoint-500/model.safetensors`]: weights(2),
    [`${root}/run-b/checkpoint-500/optimizer.pt`]: new Uint8Array([0x50, 0x4b, 3, 4]),
    [`${root}/run-b/checkpoint-500/training_args.bin`]: new Uint8Array(8),
    [`${root}/run-b/checkpoint-500/trainer_state.json`]: jsonBytes({
      global_step: 500,
      epoch: 1.5,
      log_history: [
        { loss: 2.0, step: 250 },
        { eval_loss: 1.2, eval_accuracy: 0.5, eval_runtime: 3.1, step: 250 },
        { eval_loss: 0.9, eval_accuracy: 0.7, eval_runtime: 3.0, step: 500 },
      ],
    }),
    [`${root}/sharded/model.safetensors.index.json`]: jsonBytes({
      weight_map: {
        'a.weight': 'model-00001-of-00002.safetensors',
        'b.weight': 'model-00002-of-00002.safetensors',
      },
    }),
    [`${root}/sharded/model-00001-of-00002.safetensors`]: shard1,
    [`${root}/sharded/model-00002-of-00002.safetensors`]: shard2,
    [`${root}/notes.txt`]: new Uint8Array(3),
  });
}

describe('discoverCheckpoints', () => {
  it('finds one checkpoint per zoo directory with merged metadata, sorted by uri', async () => {
    const found = await discoverCheckpoints('s3://bucket/zoo', zoo('s3://bucket/zoo'));
    expect(found.map((c) => c.uri)).toEqual([
      's3://bucket/zoo/run-a/model.safetensors',
      's3://bucket/zoo/run-b/checkpoint-500/model.safetensors',
      's3://bucket/zoo/sharded/model.safetensors.index.json',
    ]);
    const [a, b, sharded] = found as [(typeof found)[0], (typeof found)[0], (typeof found)[0]];
    expect(a.metadata).toEqual({
      family: 'mlp',
      run: 'a',
      step: 100,
      epoch: 2,
      knownTestAccuracy: 0.91,
      knownMetrics: { test_loss: 0.3, f1: 0.8 },
      extra: { hyperparameters: { lr: 0.1 } },
    });
    expect(b.metadata).toEqual({
      family: 'mlp',
      step: 500,
      epoch: 1.5,
      knownMetrics: { eval_loss: 0.9, eval_accuracy: 0.7 },
      extra: { hyperparameters: { optimizer: 'sgd' } },
    });
    expect(sharded.files.map((f) => f.uri.split('/').pop())).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
    ]);
    expect(sharded.sizeBytes).toBe(sharded.files.reduce((s, f) => s + f.size, 0));
    expect(new Set(found.map((c) => c.contentHash)).size).toBe(3);
    for (const c of found) expect(c.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same content hash for the same files under another root, a new one when bytes change', async () => {
    const first = await discoverCheckpoints('zoo', zoo('zoo'));
    const moved = await discoverCheckpoints('/data/elsewhere', zoo('/data/elsewhere'));
    expect(moved.map((c) => c.contentHash)).toEqual(first.map((c) => c.contentHash));
    const changed = zoo('zoo');
    const bytes = changed.objects.get('zoo/run-a/model.safetensors')!;
    bytes[bytes.byteLength - 1] = bytes[bytes.byteLength - 1]! ^ 1;
    const after = await discoverCheckpoints('zoo', changed);
    expect(after[0]!.contentHash).not.toBe(first[0]!.contentHash);
    expect(after[1]!.contentHash).toBe(first[1]!.contentHash);
  });

  it('accepts a single file and reads the sidecar next to it', async () => {
    const found = await discoverCheckpoints('zoo/run-a/model.safetensors', zoo('zoo'));
    expect(found).toHaveLength(1);
    expect(found[0]!.format).toBe('safetensors');
    expect(found[0]!.metadata.run).toBe('a');
    expect(found[0]!.metadata.family).toBeUndefined();
  });

  it('rejects bad sidecars, unknown files and empty prefixes with BadInputError', async () => {
    const bad = zoo('zoo').put('zoo/run-a/weightlens.json', jsonBytes({ known_test_accuracy: 91 }));
    await expect(discoverCheckpoints('zoo', bad)).rejects.toThrow(/\[0, 1\]/);
    await expect(discoverCheckpoints('zoo/notes.txt', zoo('zoo'))).rejects.toBeInstanceOf(BadInputError);
    await expect(discoverCheckpoints('nowhere', zoo('zoo'))).rejects.toBeInstanceOf(BadInputError);
  });

  it('still lists a checkpoint whose header is corrupt (the pipeline reports it)', async () => {
    const opener = new MemoryObjectOpener({ 'x/model.safetensors': new Uint8Array(16).fill(0xff) });
    const found = await discoverCheckpoints('x', opener);
    expect(found.map((c) => c.uri)).toEqual(['x/model.safetensors']);
  });

  it('analyzes one format per directory when the same model is there in several (preferring safetensors)', async () => {
    const opener = new MemoryObjectOpener({
      'z/ckpt-1/model.json': jsonBytes({ modelTopology: {}, weightsManifest: [] }),
      'z/ckpt-1/weights.bin': new Uint8Array(64),
      'z/ckpt-1/model.safetensors': weights(1),
      'z/hf/model.safetensors': weights(2),
      'z/hf/pytorch_model.bin': new Uint8Array([0x50, 0x4b, 3, 4]),
      'z/flat/a.safetensors': weights(3),
      'z/flat/b.safetensors': weights(4),
      'z/flat/model.gguf': new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]),
    });
    const found = await discoverCheckpoints('z', opener);
    expect(found.map((c) => [c.uri, c.format])).toEqual([
      ['z/ckpt-1/model.safetensors', 'safetensors'],
      ['z/flat/a.safetensors', 'safetensors'],
      ['z/flat/b.safetensors', 'safetensors'],
      ['z/flat/model.gguf', 'gguf'],
      ['z/hf/model.safetensors', 'safetensors'],
    ]);
  });
});
