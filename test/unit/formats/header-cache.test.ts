/**
 * Header reuse (lib/formats/header-cache.ts) and the one layer plan (lib/layer-plan.ts): discovery
 * opens each object once and reads a checkpoint's start once more than detection needs; the
 * header cache stays bounded and forgets failures; planLayers gives the CLI and the activities
 * one list of layers and skip reasons.
 */
import { describe, expect, it } from 'vitest';
import { discoverCheckpoints } from '../../../lib/formats/discover.ts';
import { CheckpointHeaderCache, headCachingOpener } from '../../../lib/formats/header-cache.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import type { ObjectOpener, OpenedCheckpoint, OpenOptions, RangeReader } from '../../../lib/formats/types.ts';
import { planLayers } from '../../../lib/layer-plan.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { buildSafetensors } from './builders.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

/** Counts opens (HEAD requests on S3) and reads (ranged GETs) per uri. */
class CountingOpener implements ObjectOpener {
  opens = new Map<string, number>();
  reads = new Map<string, number>();
  constructor(private readonly inner: ObjectOpener) {}
  async open(uri: string, options?: OpenOptions): Promise<RangeReader> {
    this.opens.set(uri, (this.opens.get(uri) ?? 0) + 1);
    const reader = await this.inner.open(uri, options);
    return {
      uri: reader.uri,
      size: reader.size,
      read: (offset, length) => {
        this.reads.set(uri, (this.reads.get(uri) ?? 0) + 1);
        return reader.read(offset, length);
      },
    };
  }
  exists(uri: string) {
    return this.inner.exists(uri);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
}

const random = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed + 1));

function zoo(): MemoryObjectOpener {
  const objects: Record<string, Uint8Array> = {};
  for (const run of ['a', 'b', 'c']) {
    objects[`mem://zoo/${run}/model.safetensors`] = buildSafetensors([
      { name: 'fc1.weight', shape: [200, 100], data: random(20_000, run.charCodeAt(0)) },
      { name: 'fc2.weight', shape: [100, 50], data: random(5_000, 3) },
    ]);
  }
  return new MemoryObjectOpener(objects);
}

describe('headCachingOpener', () => {
  it('discovery opens each file once and reads each checkpoint three times (detect, head, tail)', async () => {
    const counting = new CountingOpener(zoo());
    const found = await discoverCheckpoints('mem://zoo', counting);
    expect(found).toHaveLength(3);
    for (const checkpoint of found) {
      expect(counting.opens.get(checkpoint.uri), checkpoint.uri).toBe(1);
      expect(counting.reads.get(checkpoint.uri), checkpoint.uri).toBe(3);
    }
    // The hash is the one of uncached reads: the same files discovered through a plain opener.
    const plain = await discoverCheckpoints('mem://zoo', zoo());
    expect(found.map((c) => c.contentHash)).toEqual(plain.map((c) => c.contentHash));
  });

  it('serves the same bytes as the object, and reads through after release', async () => {
    const memory = zoo();
    const uri = 'mem://zoo/a/model.safetensors';
    const direct = await memory.open(uri);
    const opener = headCachingOpener(memory, 1024);
    const reader = await opener.open(uri);
    for (const [offset, length] of [
      [0, 64],
      [8, 100],
      [0, 1024],
      [1000, 24],
      [1000, 2000],
      [reader.size - 10, 10],
    ] as const) {
      expect(await reader.read(offset, length)).toEqual(await direct.read(offset, length));
    }
    opener.release();
    expect(await reader.read(4, 16)).toEqual(await direct.read(4, 16));
    expect(await opener.open(uri)).toBe(reader);
  });

  it('a file refused after detection costs only the detection read', async () => {
    const counting = new CountingOpener(zoo());
    const opener = headCachingOpener(counting);
    const reader = await opener.open('mem://zoo/a/model.safetensors');
    await reader.read(0, 64);
    await reader.read(0, 8);
    expect(counting.reads.get('mem://zoo/a/model.safetensors')).toBe(1);
  });
});

describe('CheckpointHeaderCache', () => {
  const fake = (uri: string) => ({ uri }) as unknown as OpenedCheckpoint;

  it('keeps at most maxEntries, least recently used out first', async () => {
    const cache = new CheckpointHeaderCache(2);
    let opens = 0;
    const open = (uri: string) => () => {
      opens += 1;
      return Promise.resolve(fake(uri));
    };
    await cache.get('a', open('a'));
    await cache.get('b', open('b'));
    await cache.get('a', open('a')); // hit: a is now the most recent
    await cache.get('c', open('c')); // evicts b
    expect(cache.size).toBe(2);
    expect(opens).toBe(3);
    await cache.get('a', open('a'));
    expect(opens).toBe(3);
    await cache.get('b', open('b'));
    expect(opens).toBe(4);
  });

  it('does not keep a failed open, and put() entries are hits', async () => {
    const cache = new CheckpointHeaderCache();
    await expect(cache.get('x', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cache.size).toBe(0);
    cache.put('y', fake('y'));
    const opened = await cache.get('y', () => Promise.reject(new Error('must not open')));
    expect(opened.uri).toBe('y');
  });
});

describe('planLayers', () => {
  it('analyzes weight matrices, skips the rest with the mapper or the size filter reason', async () => {
    const uri = 'mem://p/model.safetensors';
    const opener = new MemoryObjectOpener({
      [uri]: buildSafetensors([
        { name: 'fc1.weight', shape: [64, 32], data: random(2048, 1) },
        { name: 'fc1.bias', shape: [64], data: random(64, 2) },
        { name: 'norm.weight', shape: [8, 8], data: random(64, 3) },
        { name: 'tiny.weight', shape: [4, 3], data: random(12, 4) },
        { name: 'attn.rotary_table', shape: [4, 4], data: random(16, 5) },
      ]),
    });
    const plan = planLayers(await openCheckpoint(uri, opener), defaultAnalysisConfig);
    expect(plan.layers.map((l) => [l.layerId, l.name, l.layerType, l.shape])).toEqual([
      [0, 'fc1.weight', 'dense', [64, 32]],
    ]);
    const reasons = Object.fromEntries(plan.skipped.map((s) => [s.name, [s.layerType, s.reason]]));
    expect(Object.keys(reasons)).toEqual(['fc1.bias', 'norm.weight', 'tiny.weight', 'attn.rotary_table']);
    expect(reasons['fc1.bias']).toEqual(['skipped', 'bias']);
    expect(reasons['tiny.weight']![0]).toBe('dense');
    expect(reasons['attn.rotary_table']![1]).toContain('.weight');
  });
});
