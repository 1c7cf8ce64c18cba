/**
 * Issue 18.4/18.6 through the real CLI: `weightlens analyze <dir>` analyzes each checkpoint on its
 * own (an empty `.safetensors` among good ones is one stderr line and rc 1, the good ones' results
 * unchanged), and names with terminal controls are escaped in the table but exact in the JSON.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../integration/cli-helpers.ts';
import { buildSafetensors } from '../formats/builders.ts';

const analyze = (...args: string[]) => runCli(['analyze', ...args]);

function values(count: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  });
}

/** Code points of C0/C1 controls (newline aside) and bidi overrides/isolates left in `text`. */
function rawControls(text: string): number[] {
  return [...text]
    .map((ch) => ch.codePointAt(0)!)
    .filter(
      (c) =>
        (c < 0x20 && c !== 0x0a) ||
        (c >= 0x7f && c <= 0x9f) ||
        (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069),
    );
}

const root = mkdtempSync(join(tmpdir(), 'wl-isolation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two good checkpoints; `withBad` adds an empty .safetensors that sorts between them. */
function zoo(name: string, withBad: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'a.safetensors'),
    buildSafetensors([
      { name: 'fc1.weight', shape: [64, 32], data: values(64 * 32, 1) },
      { name: 'fc2.weight', shape: [32, 24], data: values(32 * 24, 2) },
    ]),
  );
  writeFileSync(
    join(dir, 'c.safetensors'),
    buildSafetensors([{ name: 'fc.weight', shape: [48, 40], data: values(48 * 40, 3) }]),
  );
  if (withBad) writeFileSync(join(dir, 'b.safetensors'), new Uint8Array(0));
  return dir;
}

interface JsonEntry {
  checkpoint: { uri: string };
  error?: string;
}

describe('weightlens analyze <dir> isolates checkpoints', () => {
  it('an empty .safetensors among good ones: one line naming it, rc 1, the good results unchanged', async () => {
    const good = zoo('good', false);
    const mixed = zoo('mixed', true);
    const [alone, together, table] = await Promise.all([
      analyze(good, '--format', 'json'),
      analyze(mixed, '--format', 'json'),
      analyze(mixed),
    ]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(together.code).toBe(1);
    const bad = join(mixed, 'b.safetensors');
    const stderr = together.stderr.trim().split('\n');
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain(bad);

    const relative = (entries: JsonEntry[], dir: string) =>
      JSON.parse(JSON.stringify(entries).replaceAll(dir, '<dir>')) as JsonEntry[];
    const expected = relative(JSON.parse(alone.stdout) as JsonEntry[], good);
    const entries = relative(JSON.parse(together.stdout) as JsonEntry[], mixed);
    expect(entries.map((e) => e.checkpoint.uri)).toEqual([
      '<dir>/a.safetensors',
      '<dir>/b.safetensors',
      '<dir>/c.safetensors',
    ]);
    expect(entries[1]!.error).toMatch(/b\.safetensors: .*truncated/);
    expect(entries.filter((e) => e.error === undefined)).toEqual(expected);

    expect(table.code).toBe(1);
    expect(table.stdout).toContain(`${join(mixed, 'a.safetensors')} (safetensors)`);
    expect(table.stdout).toContain(`${join(mixed, 'c.safetensors')} (safetensors)`);
    expect(table.stdout).toContain('2 of 3 checkpoints analyzed, 1 failed');
  });
});

describe('names are escaped on the terminal, exact in JSON', () => {
  it('ESC, CR and a bidi override in a tensor name and a file name', async () => {
    const hostile = 'fc\u001b[2J\u001b]0;pwned\u0007\r\u202eevil.weight';
    const dir = join(root, 'escapes');
    mkdirSync(dir);
    const file = join(dir, 'm\u001b[31m.safetensors');
    writeFileSync(
      file,
      buildSafetensors([
        { name: hostile, shape: [64, 32], data: values(64 * 32, 4) },
        { name: `nan-${hostile}`, shape: [64, 32], data: new Float32Array(64 * 32).fill(Number.NaN) },
      ]),
    );
    writeFileSync(join(dir, 'z\u001b[1m.safetensors'), new Uint8Array(3));
    const [table, json] = await Promise.all([analyze(dir), analyze(dir, '--format', 'json')]);
    for (const output of [table.stdout, table.stderr]) expect(rawControls(output)).toEqual([]);
    expect(table.stdout).toContain('fc\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\u202eevil.weight');
    expect(table.stdout).toContain('m\\x1b[31m.safetensors');
    expect(table.stdout).toMatch(/error: nan-fc\\x1b.*evil\.weight: weights contain NaN/);
    expect(table.stderr).toContain('z\\x1b[1m.safetensors');
    const entries = JSON.parse(json.stdout) as {
      layers?: { name: string }[];
      errors?: { layer: string }[];
    }[];
    expect(entries[0]!.layers!.map((l) => l.name)).toEqual([hostile]);
    expect(entries[0]!.errors!.map((e) => e.layer)).toEqual([`nan-${hostile}`]);
    expect(json.stderr).toContain('z\\x1b[1m.safetensors');
  });
});
