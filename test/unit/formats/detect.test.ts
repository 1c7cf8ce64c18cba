/**
 * Format detection must not depend on the order of `formatReaders`: every committed fixture is
 * claimed by exactly one reader (the zip-based ones are told apart by extension: .npz, .pt/.pth/
 * .bin/.ckpt, .keras), and a zip under the wrong name gets a typed error, never a crash.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WeightlensError } from '../../../lib/errors.ts';
import { DETECT_HEAD_BYTES, formatReaders, openCheckpoint } from '../../../lib/formats/index.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

function fixtureFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? fixtureFiles(path) : [path];
  });
}

const claimants = (uri: string, bytes: Uint8Array): string[] =>
  formatReaders.filter((r) => r.detect(uri, bytes.subarray(0, DETECT_HEAD_BYTES))).map((r) => r.format);

describe('format detection', () => {
  it('no committed fixture is claimed by two readers', () => {
    const shared: string[] = [];
    for (const path of fixtureFiles(FIXTURES_DIR)) {
      const claimed = claimants(`file://${path}`, new Uint8Array(readFileSync(path)));
      if (claimed.length > 1) shared.push(`${relative(FIXTURES_DIR, path)}: ${claimed.join(', ')}`);
    }
    expect(shared).toEqual([]);
  });

  it('a torch zip named .npz and an npz named .pt get typed errors from the reader their name picks', async () => {
    const torchZip = new Uint8Array(readFileSync(`${FIXTURES_DIR}pytorch/state_dict.pt`));
    const npz = new Uint8Array(readFileSync(`${FIXTURES_DIR}numpy/stored.npz`));
    expect(claimants('mem://x/model.npz', torchZip)).toEqual(['npz']);
    expect(claimants('mem://x/model.pt', npz)).toEqual(['pytorch']);
    for (const [uri, bytes] of [
      ['mem://x/model.npz', torchZip],
      ['mem://x/model.pt', npz],
    ] as const) {
      const err = await openCheckpoint(uri, new MemoryObjectOpener({ [uri]: bytes })).catch(
        (e: unknown) => e,
      );
      expect(err, uri).toBeInstanceOf(WeightlensError);
      expect((err as WeightlensError).toLine()).toContain(uri);
    }
  });
});
