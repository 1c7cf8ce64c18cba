/**
 * Issue 18, path escapes: a reference inside a checkpoint (ONNX external data, tfjs `paths`, a
 * safetensors index) never reads a file outside the checkpoint's directory — neither through
 * percent-encoded dot segments under a file:// URI nor through a symlink — and the error names the
 * reference without printing anything of the target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { siblingUri } from '../../../../lib/formats/uri.ts';
import { FileStorage } from '../../../../storage/file.ts';
import { buildSafetensors } from '../builders.ts';
import {
  ENCODED_ESCAPE,
  onnxEncodedEscape,
  SECRET,
  safetensorsIndexEncodedEscape,
  safetensorsSymlinkedShard,
  tfjsEncodedEscape,
} from './paths-gen.ts';

const roots: string[] = [];
function freshRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'wl-hostile-'));
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Open every tensor of the checkpoint; return the error (or undefined when it all reads). */
async function readAll(uri: string): Promise<unknown> {
  try {
    const ckpt = await openCheckpoint(uri, new FileStorage());
    for (const t of ckpt.tensors) await ckpt.readTensor(t);
    return undefined;
  } catch (err) {
    return err;
  }
}

function expectNoLeak(err: unknown): void {
  const text = `${String(err)} ${JSON.stringify((err as BadInputError).context ?? {})}`;
  expect(text).not.toContain('SECRET');
  expect(text).not.toContain(new TextDecoder().decode(SECRET.subarray(0, 8)));
  expect(text).not.toMatch(/4096|outside\.safetensors/);
}

describe('references stay inside the checkpoint directory', () => {
  const generators = {
    'ONNX external data': onnxEncodedEscape,
    'tfjs paths': tfjsEncodedEscape,
    'safetensors index weight_map': safetensorsIndexEncodedEscape,
  };
  for (const [what, generate] of Object.entries(generators)) {
    for (const spelling of ['file:// URI', 'plain path'] as const) {
      it(`${what}: "${ENCODED_ESCAPE}" is a file name, never "..", as a ${spelling}`, async () => {
        const file = generate(freshRoot());
        const uri = spelling === 'plain path' ? file : pathToFileURL(file).href;
        const err = await readAll(uri);
        expect(err).toBeInstanceOf(BadInputError);
        expect((err as BadInputError).message).toMatch(/no such file/);
        expectNoLeak(err);
      });
    }
  }

  it('a symlinked shard pointing outside the directory is refused without naming its target', async () => {
    const file = safetensorsSymlinkedShard(freshRoot());
    const err = await readAll(file);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/outside the checkpoint directory/);
    expect(String((err as BadInputError).context.file)).toContain('model-00001-of-00001.safetensors');
    expectNoLeak(err);
  });

  it('a symlinked shard pointing inside the directory is still followed', async () => {
    const root = freshRoot();
    const dir = path.join(root, 'ckpt');
    mkdirSync(path.join(dir, 'blobs'), { recursive: true });
    writeFileSync(path.join(dir, 'blobs', 'abc'), buildSafetensors([{ name: 'fc.weight', shape: [2, 2] }]));
    symlinkSync(path.join(dir, 'blobs', 'abc'), path.join(dir, 'shard.safetensors'));
    writeFileSync(
      path.join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'fc.weight': 'shard.safetensors' } }),
    );
    expect(await readAll(path.join(dir, 'model.safetensors.index.json'))).toBeUndefined();
  });

  it('sibling names are percent-encoded under file:// and literal in plain paths and S3 keys', () => {
    expect(siblingUri('file:///d/m.onnx', 'a%2e#b/c d')).toBe('file:///d/a%252e%23b/c%20d');
    expect(siblingUri('/d/m.onnx', 'a%2e#b')).toBe('/d/a%2e#b');
    expect(siblingUri('s3://bucket/d/m.onnx', 'a%2e#b')).toBe('s3://bucket/d/a%2e#b');
  });
});

describe('file system oddities are typed errors naming the file', () => {
  it('a symlink loop', async () => {
    const dir = freshRoot();
    symlinkSync(path.join(dir, 'b.safetensors'), path.join(dir, 'a.safetensors'));
    symlinkSync(path.join(dir, 'a.safetensors'), path.join(dir, 'b.safetensors'));
    const err = await new FileStorage().open(path.join(dir, 'a.safetensors')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/symlink loop/);
    expect((err as BadInputError).context.file).toBe(path.join(dir, 'a.safetensors'));
  });

  it('a FIFO named like a checkpoint is "a FIFO", not "no such file", and is never opened for reading', async () => {
    const dir = freshRoot();
    const fifo = path.join(dir, 'model.safetensors');
    execFileSync('mkfifo', [fifo]);
    const storage = new FileStorage();
    for (const attempt of [() => storage.open(fifo), () => storage.exists(fifo)]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as BadInputError).message).toMatch(/is a FIFO/);
    }
  });
});
