/**
 * Issue 18.7, generated fuzz classes beside the mutation fuzz (fuzz.test.ts): inputs built from a
 * seed to attack one property each, every case with its oracle.
 * - complexity: name-uniquing, renaming and layer-hint inputs scaled up 10×: CPU time grows ~10×
 *   (a bound of 50×; quadratic work is 100×), seeded adversarial name mixes stay unique;
 * - amplification: stride-0/overlapping torch views, repeated tfjs shard references, deflated npz
 *   members: refused, or decoded bytes bounded by the bytes stored (decompression: the zip limits);
 * - path canonicalization: seeded reference names (encoded dot segments, absolute paths, URIs,
 *   backslashes, symlinks out) in every reader that follows a reference, as plain paths and file://
 *   URIs: no file outside the checkpoint directory is ever opened, errors are typed and leak nothing;
 * - duplicate keys: npy header keys (numpy's last-wins), safetensors names (refused), JSON index keys
 *   (last-wins, as Python's json), HDF5 leaf names (unique, each with its own values).
 * Deterministic: FUZZ_SEED (default below) seeds every class; each case names its seed.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError, WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import type { ObjectOpener, OpenOptions, RangeReader } from '../../../lib/formats/types.ts';
import { UniqueNames } from '../../../lib/formats/unique-names.ts';
import { DEFAULT_ZIP_LIMITS } from '../../../lib/formats/zip.ts';
import { seededRandom } from '../../../lib/random.ts';
import { FileStorage, filePathOf } from '../../../storage/file.ts';
import {
  type CheckpointFiles,
  onnxUnnamedInitializers,
  tfjsDeepWeightName,
  tfliteSharedName,
} from '../../fixtures/hostile/complexity-gen.ts';
import { buildSafetensors, jsonBytes } from './builders.ts';
import { torchZipBytes } from './hostile/torch-gen.ts';
import { values, writeH5 } from './keras-fixture.ts';
import { MemoryObjectOpener } from './memory-opener.ts';
import { buildZip } from './zip-builder.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
/** A hang guard per class, far above the work (not a speed test). */
const CLASS_TIMEOUT_MS = 600_000;

function picker(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  return { random, int, pick: <T>(items: readonly T[]): T => items[int(items.length)]! };
}

const roots: string[] = [];
function freshRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'wl-fuzz-classes-'));
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function inMemory(files: CheckpointFiles, dir = 'case'): MemoryObjectOpener {
  return new MemoryObjectOpener(
    Object.fromEntries(Object.entries(files).map(([k, v]) => [`${dir}/${k}`, v])),
  );
}

/** Open the checkpoint and decode every tensor; the decoded element count, or the error thrown. */
async function decodeAll(
  uri: string,
  opener: ObjectOpener,
): Promise<{ elements: number } | { error: unknown }> {
  try {
    const ckpt = await openCheckpoint(uri, opener);
    let elements = 0;
    for (const t of ckpt.tensors) elements += (await ckpt.readTensor(t)).length;
    return { elements };
  } catch (error) {
    return { error };
  }
}

/** CPU microseconds of `work`, the least of `runs` (the least is the one a busy machine disturbed least). */
async function cpuMicros(work: () => Promise<unknown> | unknown, runs = 3): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    await work();
    const used = process.cpuUsage(before);
    best = Math.min(best, used.user + used.system);
  }
  return best;
}

describe('fuzz class: complexity (work linear in the input)', () => {
  const SCALE = 10;
  const BOUND = 50;
  const scaled: [string, (n: number) => () => Promise<unknown> | unknown, number][] = [
    [
      'ONNX unnamed initializers',
      (n) => () => openCheckpoint('case/model.onnx', inMemory(onnxUnnamedInitializers(n))),
      3_000,
    ],
    [
      'TFLite tensors sharing a name',
      (n) => () => openCheckpoint('case/model.tflite', inMemory(tfliteSharedName(n))),
      6_000,
    ],
    [
      'tfjs weight name segments',
      (n) => () => openCheckpoint('case/model.json', inMemory(tfjsDeepWeightName(n))),
      500,
    ],
    [
      'seeded name mixes (bases, pre-suffixed "w#k" names)',
      (n) => () => {
        const { int, pick } = picker(SEED + n);
        const names = new UniqueNames();
        for (let i = 0; i < n; i++) names.claim(int(4) === 0 ? `w#${int(n)}` : pick(['w', 'w#1', 'b', '']));
      },
      20_000,
    ],
  ];
  for (const [what, build, n] of scaled) {
    it(
      `${what}: ${SCALE}× the input costs < ${BOUND}× the CPU`,
      async () => {
        const small = build(n);
        const large = build(n * SCALE);
        await small(); // compiled before either is measured
        const ratio = (await cpuMicros(large)) / Math.max(1, await cpuMicros(small));
        console.log(`complexity: ${what}: ${SCALE}× input → ${ratio.toFixed(1)}× CPU`);
        expect(ratio, `${what}: CPU ratio ${ratio.toFixed(1)}`).toBeLessThan(BOUND);
      },
      CLASS_TIMEOUT_MS,
    );
  }

  it('seeded name mixes: every claimed name unique, a first use keeps its name', () => {
    for (let c = 0; c < 50; c++) {
      const { int, pick } = picker(SEED * 7 + c);
      const names = new UniqueNames();
      const claimed = new Set<string>();
      const bases = ['w', 'w#1', 'w#2', 'x', 'x#1#1', '#', ''];
      for (let i = 0; i < 200; i++) {
        const base = int(3) === 0 ? `${pick(bases)}#${int(5)}` : pick(bases);
        const name = names.claim(base);
        expect(claimed.has(name), `seed case ${c}: "${name}" twice`).toBe(false);
        if (!claimed.has(base)) expect(name).toBe(base);
        claimed.add(name);
      }
    }
  });
});

describe('fuzz class: amplification (decoded bytes bounded by stored bytes)', () => {
  it('torch views: stride 0, overlapping and transposed strides over a small storage', async () => {
    for (let c = 0; c < 60; c++) {
      const { int, pick } = picker(SEED + 100 + c);
      const shape = [1 + int(300), 1 + int(300)];
      const stride = [pick([0, 1, shape[1]!, int(4)]), pick([0, 1, shape[0]!, int(4)])];
      const numel = pick([1, 16, shape[0]! * shape[1]!, int(1000) + 1]);
      const result = await decodeAll(
        'case/model.pt',
        inMemory({ 'model.pt': torchZipBytes(numel, shape, stride, numel * 4) }),
      );
      const context = `case ${c}: shape ${shape} stride ${stride} storage ${numel}`;
      if ('error' in result) expect(result.error, context).toBeInstanceOf(WeightlensError);
      else expect(result.elements, context).toBeLessThanOrEqual(numel);
    }
  });

  it('tfjs paths: one shard listed many times never decodes more than the distinct shards hold', async () => {
    for (let c = 0; c < 40; c++) {
      const { int } = picker(SEED + 200 + c);
      const shardFloats = 1 + int(512);
      const repeats = 1 + int(64);
      const distinct = 1 + int(3);
      const paths = Array.from({ length: repeats }, (_, i) => `s${i % distinct}.bin`);
      const rows = repeats;
      const files: CheckpointFiles = {
        'model.json': jsonBytes({
          format: 'layers-model',
          modelTopology: { class_name: 'Sequential', config: { name: 'net', layers: [] } },
          weightsManifest: [
            { paths, weights: [{ name: 'fc/kernel', shape: [rows, shardFloats], dtype: 'float32' }] },
          ],
        }),
      };
      for (let s = 0; s < distinct; s++) files[`s${s}.bin`] = new Uint8Array(shardFloats * 4);
      const result = await decodeAll('case/model.json', inMemory(files));
      const context = `case ${c}: ${repeats} paths over ${distinct} shards of ${shardFloats} floats`;
      if ('error' in result) expect(result.error, context).toBeInstanceOf(WeightlensError);
      else expect(result.elements, context).toBeLessThanOrEqual(distinct * shardFloats);
      if (repeats > distinct) expect('error' in result, context).toBe(true);
    }
  });

  it('deflated npz members: inflated only within the zip ratio and allowance', async () => {
    for (let c = 0; c < 8; c++) {
      const { int } = picker(SEED + 300 + c);
      const floats = 1_000 + int(6_000_000);
      let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${floats},), }`;
      while ((10 + header.length + 1) % 64 !== 0) header += ' ';
      header += '\n';
      const npy = new Uint8Array(10 + header.length + floats * 4);
      npy.set([0x93, ...Buffer.from('NUMPY'), 1, 0], 0);
      new DataView(npy.buffer).setUint16(8, header.length, true);
      npy.set(Buffer.from(header, 'latin1'), 10);
      const npz = buildZip([{ name: 'w.npy', data: npy, method: 8 }]);
      const allowed =
        npz.byteLength * DEFAULT_ZIP_LIMITS.maxInflateRatio + DEFAULT_ZIP_LIMITS.inflateAllowanceBytes;
      const result = await decodeAll('case/model.npz', inMemory({ 'model.npz': npz }));
      const context = `case ${c}: ${npy.byteLength} bytes deflated to ${npz.byteLength}`;
      if (npy.byteLength > allowed) expect('error' in result, context).toBe(true);
      if ('error' in result) expect(result.error, context).toBeInstanceOf(BadInputError);
      else expect(result.elements * 4, context).toBeLessThanOrEqual(allowed);
    }
  });
});

/** A FileStorage that records the real path of every object it opens. */
class RecordingStorage implements ObjectOpener {
  readonly opened: string[] = [];
  private readonly inner = new FileStorage();
  async open(uri: string, options?: OpenOptions): Promise<RangeReader> {
    const reader = await this.inner.open(uri, options);
    this.opened.push(realpathSync(filePathOf(uri)));
    return reader;
  }
  exists(uri: string): Promise<boolean> {
    return this.inner.exists(uri);
  }
  list(prefixUri: string): Promise<string[]> {
    return this.inner.list(prefixUri);
  }
}

const SECRET_TEXT = 'SECRET-OUTSIDE-fuzz-classes';
const SECRET_BYTES = 4099;

describe('fuzz class: path canonicalization (references stay inside the checkpoint)', () => {
  const pieces = [
    '..',
    '%2e%2e',
    '%2E%2E',
    '.%2e',
    '%2e.',
    '%252e%252e',
    '.',
    '',
    'ckpt',
    'link',
    'outside.bin',
    '..\\..',
    '%2f..',
    '．．',
    'a%00',
  ];
  /** A seeded reference name: dot segments in their spellings, absolute paths, URIs, symlinks. */
  function referenceName(seed: number, root: string): string {
    const { int, pick } = picker(seed);
    const kind = int(8);
    const secret = path.join(root, 'outside.bin');
    if (kind === 0) return secret;
    if (kind === 1) return pathToFileURL(secret).href;
    if (kind === 2) return `link/${pick(['outside.bin', 'ckpt/../outside.bin', '%2e%2e/outside.bin'])}`;
    const segments = Array.from({ length: 1 + int(5) }, () => pick(pieces));
    return `${segments.join(pick(['/', '/', '\\']))}/outside.bin`;
  }

  function prepare(root: string): string {
    const dir = path.join(root, 'ckpt');
    mkdirSync(dir, { recursive: true });
    const secret = Buffer.alloc(SECRET_BYTES);
    for (let i = 0; i < secret.length; i += SECRET_TEXT.length) secret.write(SECRET_TEXT, i);
    writeFileSync(path.join(root, 'outside.bin'), secret);
    symlinkSync(root, path.join(dir, 'link'));
    return dir;
  }

  const readers: Record<string, (dir: string, name: string) => string> = {
    'tfjs paths': (dir, name) => {
      writeFileSync(
        path.join(dir, 'model.json'),
        jsonBytes({
          format: 'layers-model',
          modelTopology: { class_name: 'Sequential', config: { name: 'net', layers: [] } },
          weightsManifest: [
            { paths: [name], weights: [{ name: 'fc/kernel', shape: [4, 4], dtype: 'float32' }] },
          ],
        }),
      );
      return path.join(dir, 'model.json');
    },
    'safetensors index': (dir, name) => {
      writeFileSync(
        path.join(dir, 'model.safetensors.index.json'),
        jsonBytes({ weight_map: { 'fc.weight': name } }),
      );
      return path.join(dir, 'model.safetensors.index.json');
    },
    'torch index': (dir, name) => {
      writeFileSync(
        path.join(dir, 'pytorch_model.bin.index.json'),
        jsonBytes({ weight_map: { 'fc.weight': name } }),
      );
      return path.join(dir, 'pytorch_model.bin.index.json');
    },
  };

  for (const [reader, write] of Object.entries(readers)) {
    it(
      `${reader}: 30 seeded reference names × plain path and file:// URI`,
      async () => {
        for (let c = 0; c < 30; c++) {
          const root = freshRoot();
          const dir = prepare(root);
          const name = referenceName(SEED + 400 + c, root);
          const file = write(dir, name);
          for (const uri of [file, pathToFileURL(file).href]) {
            const storage = new RecordingStorage();
            const result = await decodeAll(uri, storage);
            const context = `case ${c}: "${name}" from ${uri}`;
            const inside = realpathSync(dir) + path.sep;
            for (const opened of storage.opened)
              expect(opened.startsWith(inside), `${context} opened ${opened}`).toBe(true);
            expect('error' in result, context).toBe(true);
            const error = (result as { error: unknown }).error;
            expect(error, context).toBeInstanceOf(WeightlensError);
            const text = `${String(error)} ${JSON.stringify((error as WeightlensError).context)}`;
            expect(text, context).not.toContain(SECRET_TEXT.slice(0, 8));
            expect(text, context).not.toContain(String(SECRET_BYTES));
          }
        }
      },
      CLASS_TIMEOUT_MS,
    );
  }
});

describe('fuzz class: duplicate keys', () => {
  it('npy header keys repeated in a seeded order: numpy last-wins, or refused', async () => {
    for (let c = 0; c < 60; c++) {
      const { int, pick } = picker(SEED + 500 + c);
      const entries: [string, string][] = [];
      const descrs = ["'<f4'", "'<f2'", "'<f8'"];
      const shapes = ['(3, 4)', '(12,)', '(2, 6)', '(4, 3)'];
      for (const key of ['descr', 'fortran_order', 'shape']) entries.push([key, '']);
      for (let i = int(4); i > 0; i--) entries.push([pick(['descr', 'fortran_order', 'shape']), '']);
      for (const e of entries)
        e[1] = e[0] === 'descr' ? pick(descrs) : e[0] === 'shape' ? pick(shapes) : pick(['False', 'True']);
      // Shuffle (seeded), then read the winning values the way numpy's literal_eval does: the last.
      for (let i = entries.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      }
      const last = Object.fromEntries(entries);
      const itemBytes = { "'<f4'": 4, "'<f2'": 2, "'<f8'": 8 }[last.descr!]!;
      let header = `{${entries.map(([k, v]) => `'${k}': ${v}`).join(', ')}, }`;
      while ((10 + header.length + 1) % 64 !== 0) header += ' ';
      header += '\n';
      const npy = new Uint8Array(10 + header.length + 12 * itemBytes);
      npy.set([0x93, ...Buffer.from('NUMPY'), 1, 0], 0);
      new DataView(npy.buffer).setUint16(8, header.length, true);
      npy.set(Buffer.from(header, 'latin1'), 10);
      const context = `case ${c}: ${header.trim()}`;
      const ckpt = await openCheckpoint('case/w.npy', inMemory({ 'w.npy': npy }));
      const [tensor] = ckpt.tensors;
      expect(tensor!.dtype, context).toBe({ "'<f4'": 'F32', "'<f2'": 'F16', "'<f8'": 'F64' }[last.descr!]);
      expect(`(${tensor!.shape.join(', ')}${tensor!.shape.length === 1 ? ',' : ''})`, context).toBe(
        last.shape,
      );
      expect((await ckpt.readTensor(tensor!)).length, context).toBe(12);
    }
  });

  it('safetensors: a tensor name repeated anywhere in the header is refused', async () => {
    for (let c = 0; c < 40; c++) {
      const { int } = picker(SEED + 600 + c);
      const count = 2 + int(6);
      const names = Array.from({ length: count }, (_, i) => `t${i}`);
      const bytes = buildSafetensors(names.map((name) => ({ name, shape: [2, 2] })));
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
      const renamed = names[int(count)]!;
      const target = names.filter((n) => n !== renamed)[int(count - 1)]!;
      const crafted = header.replace(`"${renamed}"`, `"${target}"`);
      const out = new Uint8Array(bytes.byteLength);
      out.set(bytes.subarray(0, 8));
      out.set(new TextEncoder().encode(crafted), 8);
      out.set(bytes.subarray(8 + headerLength), 8 + headerLength);
      const err = await openCheckpoint('case/m.safetensors', inMemory({ 'm.safetensors': out })).catch(
        (e: unknown) => e,
      );
      expect(err, `case ${c}: "${renamed}" renamed to "${target}"`).toBeInstanceOf(BadInputError);
    }
  });

  it(
    'HDF5: seeded group trees whose leaf names collide keep unique names and their own values',
    async () => {
      for (let c = 0; c < 6; c++) {
        const { int, pick } = picker(SEED + 800 + c);
        const paths = new Set<string>();
        while (paths.size < 3 + int(4)) {
          const depth = 1 + int(3);
          const groups = Array.from({ length: depth }, () => pick(['a', 'b', 'a/a']));
          paths.add(`${groups.join('/')}/${pick(['kernel', 'kernel:0', 'bias:0'])}`);
        }
        const weights = [...paths].map((p, i) => ({ path: p, shape: [2, 2], data: values(4, 900 + i) }));
        const bytes = await writeH5(weights);
        const ckpt = await openCheckpoint('case/m.h5', inMemory({ 'm.h5': bytes }));
        const context = `case ${c}: ${[...paths].join(' ')}`;
        expect(ckpt.tensors.length, context).toBe(weights.length);
        expect(new Set(ckpt.tensors.map((t) => t.name)).size, context).toBe(weights.length);
        const decoded = new Set<string>();
        for (const t of ckpt.tensors) decoded.add(Array.from(await ckpt.readTensor(t)).join(','));
        const expected = new Set(weights.map((w) => Array.from(w.data).join(',')));
        expect(decoded, context).toEqual(expected);
      }
    },
    CLASS_TIMEOUT_MS,
  );

  it('JSON shard index keys repeated: the last mapping wins (as Python json), or the shard refuses it', async () => {
    for (let c = 0; c < 40; c++) {
      const { int, pick } = picker(SEED + 700 + c);
      const shards = ['a.safetensors', 'b.safetensors'];
      const files: CheckpointFiles = {
        'a.safetensors': buildSafetensors([
          { name: 'w1', shape: [2, 2], data: new Float32Array(4).fill(1) },
          { name: 'w2', shape: [2, 2], data: new Float32Array(4).fill(2) },
        ]),
        'b.safetensors': buildSafetensors([{ name: 'w1', shape: [2, 2], data: new Float32Array(4).fill(3) }]),
      };
      const pairs: [string, string][] = [['w2', 'a.safetensors']];
      for (let i = 1 + int(4); i > 0; i--) pairs.push(['w1', pick(shards)]);
      const text = `{"weight_map": {${pairs.map(([k, v]) => `"${k}": "${v}"`).join(', ')}}}`;
      files['model.safetensors.index.json'] = new TextEncoder().encode(text);
      const ckpt = await openCheckpoint('case/model.safetensors.index.json', inMemory(files));
      const w1 = ckpt.tensors.find((t) => t.name === 'w1')!;
      const lastShard = pairs.filter(([k]) => k === 'w1').at(-1)![1];
      expect(w1.uri, `case ${c}: ${text}`).toBe(`case/${lastShard}`);
      expect(Array.from(await ckpt.readTensor(w1))[0], `case ${c}`).toBe(
        lastShard === 'a.safetensors' ? 1 : 3,
      );
      expect(ckpt.tensors.filter((t) => t.name === 'w1')).toHaveLength(1);
    }
  });
});
