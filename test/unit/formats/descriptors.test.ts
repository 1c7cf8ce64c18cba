/**
 * Self-describing formats: every registered reader carries a complete descriptor, and every
 * committed fixture a reader claims is discovered — from a directory listing alone — as (part of)
 * a checkpoint of that reader's format. A reader whose descriptor lacks its file names, or a
 * registry entry without a descriptor, fails here instead of being skipped silently by discovery.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverCheckpoints } from '../../../lib/formats/discover.ts';
import { PLAIN_DTYPES } from '../../../lib/formats/dtypes.ts';
import { BLOCK_LAYOUT } from '../../../lib/formats/gguf/dequant.ts';
import { DETECT_HEAD_BYTES, formatReaders, openCheckpoint } from '../../../lib/formats/index.ts';
import type { DType, FormatReader } from '../../../lib/formats/types.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const KNOWN_DTYPES = new Set<string>([...PLAIN_DTYPES, ...Object.keys(BLOCK_LAYOUT)]);

function claimant(path: string, bytes: Uint8Array): FormatReader | undefined {
  return formatReaders.find((r) => r.detect(`mem://${path}`, bytes.subarray(0, DETECT_HEAD_BYTES)));
}

describe('format descriptors', () => {
  it('every registered reader has a complete descriptor with a unique preference', () => {
    const problems: string[] = [];
    for (const reader of formatReaders) {
      const d = (reader as Partial<FormatReader>).descriptor;
      if (!d) {
        problems.push(`${reader.format}: no descriptor`);
        continue;
      }
      if (!(d.fileNames instanceof RegExp)) problems.push(`${reader.format}: fileNames is not a RegExp`);
      if (!['OIHW', 'HWIO', 'OHWI'].includes(d.kernelLayout)) problems.push(`${reader.format}: kernelLayout`);
      if (typeof d.stateDict !== 'boolean') problems.push(`${reader.format}: stateDict`);
      if (!Number.isInteger(d.preference)) problems.push(`${reader.format}: preference`);
      if (d.dtypes.length === 0) problems.push(`${reader.format}: no dtypes`);
      for (const dtype of d.dtypes) if (!KNOWN_DTYPES.has(dtype)) problems.push(`${reader.format}: ${dtype}`);
    }
    expect(problems).toEqual([]);
    const preferences = formatReaders.map((r) => r.descriptor.preference);
    expect(new Set(preferences).size).toBe(preferences.length);
    expect(new Set(formatReaders.map((r) => r.format)).size).toBe(formatReaders.length);
  });

  it('a registry entry without a descriptor fails the completeness check above', () => {
    const { descriptor: _dropped, ...bare } = formatReaders[0]!;
    expect((bare as Partial<FormatReader>).descriptor).toBeUndefined();
  });

  // Each fixture a reader claims, in a listing of its directory without other formats' files.
  const fixtures = filesUnder(FIXTURES_DIR)
    .map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }))
    .map((f) => ({ ...f, reader: claimant(f.path, f.bytes) }));

  it('every reader has a committed fixture', () => {
    const covered = new Set(fixtures.flatMap((f) => (f.reader ? [f.reader.format] : [])));
    expect(formatReaders.map((r) => r.format).filter((format) => !covered.has(format))).toEqual([]);
  });

  for (const fixture of fixtures.filter((f) => f.reader)) {
    const name = relative(FIXTURES_DIR, fixture.path);
    it(`${name} is discovered as ${fixture.reader!.format} from a directory listing`, async () => {
      const dir = dirname(fixture.path);
      const objects: Record<string, Uint8Array> = {};
      for (const f of fixtures) {
        if (dirname(f.path) !== dir || (f.reader && f.reader !== fixture.reader)) continue;
        objects[`mem://zoo/${relative(dir, f.path)}`] = f.bytes;
      }
      const found = await discoverCheckpoints('mem://zoo', new MemoryObjectOpener(objects));
      const uri = `mem://zoo/${relative(dir, fixture.path)}`;
      const holder = found.find((c) => c.files.some((file) => file.uri === uri));
      expect(holder, `${name} in ${found.map((c) => c.uri).join(', ')}`).toBeDefined();
      expect(holder!.format).toBe(fixture.reader!.format);
    });
  }

  it("every fixture tensor's dtype is one its reader's descriptor lists", async () => {
    const outside: string[] = [];
    for (const f of fixtures.filter((x) => x.reader)) {
      const dir = dirname(f.path);
      const objects = Object.fromEntries(
        fixtures
          .filter((x) => dirname(x.path) === dir)
          .map((x) => [`mem://d/${relative(dir, x.path)}`, x.bytes]),
      );
      const uri = `mem://d/${relative(dir, f.path)}`;
      const opened = await openCheckpoint(uri, new MemoryObjectOpener(objects)).catch(() => undefined);
      const listed = new Set<DType>(f.reader!.descriptor.dtypes);
      for (const t of opened?.tensors ?? []) {
        if (!listed.has(t.dtype)) outside.push(`${relative(FIXTURES_DIR, f.path)}: ${t.name} ${t.dtype}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
