/**
 * Issue 18, `#` and `%` in locations: in plain paths (and S3 keys) they are file-name characters;
 * in file:// URIs they follow the URI rules (percent-decoding, `#` a member fragment). One parser
 * (`parseLocation`) decides; names weightlens appends (listed files, members) are encoded so the
 * result names exactly that file.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BadInputError } from '../../../../lib/errors.ts';
import { discoverCheckpoints } from '../../../../lib/formats/discover.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { memberUri, parseLocation } from '../../../../lib/formats/uri.ts';
import { FileStorage, filePathOf } from '../../../../storage/file.ts';
import { parseS3Uri } from '../../../../storage/s3.ts';
import { buildSafetensors } from '../builders.ts';
import { writeKeras3Archive } from '../keras-fixture.ts';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/formats/', import.meta.url));
const OTHER = 'OTHER-FILE-NOT-PART-OF-THE-CHECKPOINT';

const roots: string[] = [];
function freshRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'wl-uri-'));
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const model = () => buildSafetensors([{ name: 'fc.weight', shape: [4, 4] }]);

/** A directory holding `a#b.safetensors` and, beside it, a file named `a` (what a cut at `#` opens). */
function hashNamedBesidePrefix(): string {
  const dir = path.join(freshRoot(), 'd');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'a#b.safetensors'), model());
  writeFileSync(path.join(dir, 'a'), OTHER);
  return dir;
}

async function filesOf(uri: string): Promise<{ uri: string; size: number }[][]> {
  return (await discoverCheckpoints(uri, new FileStorage())).map((c) => c.files);
}

describe('plain paths: # and % are file-name characters', () => {
  it('a#b.safetensors is one file; the file "a" beside it is never read', async () => {
    const dir = hashNamedBesidePrefix();
    const file = path.join(dir, 'a#b.safetensors');
    const expected = [[{ uri: file, size: model().byteLength }]];
    expect(await filesOf(dir)).toEqual(expected);
    expect(await filesOf(file)).toEqual(expected);
  });

  it('a directory named %2e%2e is a directory of that name, never ".."', async () => {
    const root = freshRoot();
    writeFileSync(path.join(root, 'outside.safetensors'), model());
    const dir = path.join(root, 'in', '%2e%2e');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'm.safetensors'), model());
    expect(await filesOf(path.join(root, 'in'))).toEqual([
      [{ uri: path.join(dir, 'm.safetensors'), size: model().byteLength }],
    ]);
  });

  it('a deflated .npz and .keras whose names hold "#" read their members (no member syntax in paths)', async () => {
    const dir = path.join(freshRoot(), 'x#y');
    mkdirSync(dir);
    writeFileSync(path.join(path.dirname(dir), 'x'), OTHER);
    copyFileSync(path.join(FIXTURES, 'numpy/compressed.npz'), path.join(dir, 'w#1.npz'));
    writeFileSync(path.join(dir, 'k#1.keras'), await writeKeras3Archive(true));
    for (const [name, member] of [
      ['w#1.npz', 'fc.weight.npy'],
      ['k#1.keras', 'model.weights.h5'],
    ] as const) {
      const file = path.join(dir, name);
      const ckpt = await openCheckpoint(file, new FileStorage());
      expect(ckpt.tensors.map((t) => t.member)).toContain(member);
      for (const t of ckpt.tensors) {
        expect(t.uri).toBe(file);
        expect((await ckpt.readTensor(t)).length).toBeGreaterThan(0);
      }
      const [found] = await filesOf(file);
      expect(found!.map((f) => f.uri)).toEqual([file]);
    }
  });
});

describe('file:// URIs follow the URI rules', () => {
  it('a listed a#b.safetensors is spelled a%23b and opens that file, not "a"', async () => {
    const dir = hashNamedBesidePrefix();
    const [files] = await filesOf(pathToFileURL(dir).href);
    expect(files).toEqual([
      { uri: pathToFileURL(path.join(dir, 'a#b.safetensors')).href, size: model().byteLength },
    ]);
    expect(files![0]!.uri).toContain('a%23b.safetensors');
  });

  it('a listed directory named %2e%2e stays that directory (encoded %252e%252e), never climbing out', async () => {
    const root = freshRoot();
    writeFileSync(path.join(root, 'm.safetensors'), buildSafetensors([{ name: 'secret', shape: [8, 8] }]));
    const dir = path.join(root, 'in', '%2e%2e');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'm.safetensors'), model());
    const [files, ...rest] = await filesOf(pathToFileURL(path.join(root, 'in')).href);
    expect(rest).toEqual([]);
    expect(files).toEqual([
      { uri: pathToFileURL(path.join(dir, 'm.safetensors')).href, size: model().byteLength },
    ]);
    expect(filePathOf(files![0]!.uri)).toBe(path.join(dir, 'm.safetensors'));
  });

  it('a #fragment names an archive member: refused as a file, never cut to open another file', async () => {
    const dir = hashNamedBesidePrefix();
    const uri = `${pathToFileURL(dir).href}/a#b.safetensors`;
    const err = await new FileStorage().open(uri).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/member "b\.safetensors".*%23/);
    expect((err as BadInputError).context.file).toBe(uri);
    const analyzed = await openCheckpoint(uri, new FileStorage()).catch((e: unknown) => e);
    expect(analyzed).toBeInstanceOf(BadInputError);
  });

  it('a query is refused: "?" in a file name is %3F', () => {
    expect(() => filePathOf('file:///d/a?b.safetensors')).toThrow(/query.*%3F/);
    expect(filePathOf('file:///d/a%3Fb.safetensors')).toBe('/d/a?b.safetensors');
  });

  it('percent-decoding applies to file:// only', () => {
    expect(filePathOf('file:///d/a%23b%25c')).toBe('/d/a#b%c');
    expect(filePathOf('/d/a%23b%25c')).toBe('/d/a%23b%25c');
    expect(filePathOf('/d/a#b.safetensors')).toBe('/d/a#b.safetensors');
  });
});

describe('one parser', () => {
  it('member URIs round-trip under file:// (the member is the percent-decoded fragment)', () => {
    for (const member of ['arr_0.npy', 'a#b.npy', 'c%2e%2e/d e.npy', 'é?.npy']) {
      const uri = memberUri('file:///d/x%23y.npz', member);
      expect(parseLocation(uri)).toEqual({ kind: 'file', path: '/d/x#y.npz', member });
    }
  });

  it('plain paths and S3 keys are taken as they are', () => {
    expect(parseLocation('/d/x#y%2e.npz')).toEqual({ kind: 'path', path: '/d/x#y%2e.npz' });
    expect(parseS3Uri('s3://bucket/d/a#b%2e%2e')).toEqual({ bucket: 'bucket', key: 'd/a#b%2e%2e' });
    expect(() => parseLocation('http://host/x')).toThrow(BadInputError);
  });
});
