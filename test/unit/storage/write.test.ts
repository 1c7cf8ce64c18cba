/**
 * Storage.write for local files (plan --write): a path or file:// URI, parent folders created, an
 * existing file replaced whole; under a storage root, a target outside it (directly or through a
 * symlinked folder) is refused naming the URI, and nothing is written there.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import { Storage } from '../../../storage/index.ts';

describe('Storage.write (files)', () => {
  it('writes a path or file:// URI into new folders and replaces an existing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'storage-write-'));
    const storage = new Storage();
    const target = join(dir, 'a', 'b#c', 'out.safetensors');
    await storage.write(pathToFileURL(target).href, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(target)]).toEqual([1, 2, 3]);
    await storage.write(target, new Uint8Array([9]));
    expect([...readFileSync(target)]).toEqual([9]);
    // No temporary file left beside it.
    expect(readdirSync(join(dir, 'a', 'b#c'))).toEqual(['out.safetensors']);
  });

  it('under a root: inside is written, outside (or through a symlink out) is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'storage-root-'));
    const outside = mkdtempSync(join(tmpdir(), 'storage-outside-'));
    const storage = new Storage({ fileRoot: root });
    await storage.write(join(root, 'x', 'ok.bin'), new Uint8Array([7]));
    expect([...readFileSync(join(root, 'x', 'ok.bin'))]).toEqual([7]);
    await expect(storage.write(join(outside, 'no.bin'), new Uint8Array([1]))).rejects.toThrow(BadInputError);
    expect(existsSync(join(outside, 'no.bin'))).toBe(false);
    mkdirSync(join(root, 'y'));
    symlinkSync(outside, join(root, 'y', 'link'));
    await expect(storage.write(join(root, 'y', 'link', 'no.bin'), new Uint8Array([1]))).rejects.toThrow(
      /outside the storage root/,
    );
    expect(existsSync(join(outside, 'no.bin'))).toBe(false);
  });
});
