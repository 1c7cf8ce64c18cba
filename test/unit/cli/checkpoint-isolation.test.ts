/**
 * Issue 18.4 for `inspect <dir>` and `plan <dir>` (as `analyze <dir>` in analyze-isolation.test.ts): through the real
 * CLI, each bad checkpoint is one stderr line naming it and `{checkpoint, error}` in its place in
 * JSON, the others are still reported exactly as in a run without the bad one, and the exit status
 * says that one failed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../integration/cli-helpers.ts';
import { buildSafetensors } from '../formats/builders.ts';

const root = mkdtempSync(join(tmpdir(), 'wl-isolation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Good checkpoints a and d; `withBad` adds b (empty) and c (a header that is not JSON) between them. */
function zoo(name: string, withBad: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'a.safetensors'),
    buildSafetensors([
      { name: 'fc1.weight', shape: [64, 32] },
      { name: 'fc2.weight', shape: [32, 24] },
    ]),
  );
  writeFileSync(join(dir, 'd.safetensors'), buildSafetensors([{ name: 'fc.weight', shape: [48, 40] }]));
  if (withBad) {
    writeFileSync(join(dir, 'b.safetensors'), new Uint8Array(0));
    const notJson = new Uint8Array(24);
    new DataView(notJson.buffer).setBigUint64(0, 16n, true);
    notJson.set(new TextEncoder().encode('{"x": [1, 2, 3'), 8);
    writeFileSync(join(dir, 'c.safetensors'), notJson);
  }
  return dir;
}

interface Entry {
  uri?: string;
  checkpoint?: string | { uri: string };
  error?: string;
}

/** The same entries with the zoo's directory written as <dir>, so two zoos compare equal. */
function relative(stdout: string, dir: string): Entry[] {
  return JSON.parse(stdout.replaceAll(dir, '<dir>')) as Entry[];
}

describe('weightlens inspect <dir> isolates checkpoints', () => {
  it('two bad checkpoints among good ones: a line each, rc 1, the good reports unchanged', async () => {
    const good = zoo('inspect-good', false);
    const mixed = zoo('inspect-mixed', true);
    const [alone, together, table] = await Promise.all([
      runCli(['inspect', good, '--format', 'json'], {}),
      runCli(['inspect', mixed, '--format', 'json'], {}),
      runCli(['inspect', mixed], {}),
    ]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).toBe('');
    expect(together.code).toBe(1);
    const stderr = together.stderr.trim().split('\n');
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toContain(join(mixed, 'b.safetensors'));
    expect(stderr[1]).toContain(join(mixed, 'c.safetensors'));

    const entries = relative(together.stdout, mixed);
    expect(entries.map((e) => e.uri ?? (e.checkpoint as { uri: string }).uri)).toEqual([
      '<dir>/a.safetensors',
      '<dir>/b.safetensors',
      '<dir>/c.safetensors',
      '<dir>/d.safetensors',
    ]);
    expect(entries[1]!.error).toMatch(/^<dir>\/b\.safetensors: /);
    expect(entries[2]!.error).toMatch(/^<dir>\/c\.safetensors: .*JSON/);
    expect(entries.filter((e) => e.error === undefined)).toEqual(relative(alone.stdout, good));

    expect(table.code).toBe(1);
    expect(table.stdout).toContain(join(mixed, 'a.safetensors'));
    expect(table.stdout).toContain(join(mixed, 'd.safetensors'));
    expect(table.stdout).toContain('2 of 4 checkpoints inspected, 2 failed');
  });
});

describe('weightlens plan <dir> isolates checkpoints', () => {
  it('two bad checkpoints among good ones: a line each, rc 1, the good plans unchanged', async () => {
    const good = zoo('plan-good', false);
    const mixed = zoo('plan-mixed', true);
    const args = ['--method', 'uniform', '--bits', '4,8', '--avg-bits', '6'];
    const [alone, together, table, write] = await Promise.all([
      runCli(['plan', good, ...args, '--format', 'json'], {}),
      runCli(['plan', mixed, ...args, '--format', 'json'], {}),
      runCli(['plan', mixed, ...args], {}),
      runCli(['plan', good, ...args, '--write', join(root, 'out.safetensors')], {}),
    ]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).toBe('');
    expect(together.code).toBe(1);
    const stderr = together.stderr.trim().split('\n');
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toContain(join(mixed, 'b.safetensors'));
    expect(stderr[1]).toContain(join(mixed, 'c.safetensors'));

    const entries = relative(together.stdout, mixed);
    expect(entries.map((e) => (typeof e.checkpoint === 'string' ? e.checkpoint : e.checkpoint?.uri))).toEqual(
      ['<dir>/a.safetensors', '<dir>/b.safetensors', '<dir>/c.safetensors', '<dir>/d.safetensors'],
    );
    expect(entries[1]!.error).toMatch(/^<dir>\/b\.safetensors: /);
    expect(entries[2]!.error).toMatch(/^<dir>\/c\.safetensors: /);
    const plans = relative(alone.stdout, good);
    expect(plans).toHaveLength(2);
    expect(entries.filter((e) => e.error === undefined)).toEqual(plans);

    expect(table.code).toBe(1);
    expect(table.stdout).toContain(join(mixed, 'a.safetensors'));
    expect(table.stdout).toContain(join(mixed, 'd.safetensors'));
    expect(table.stdout).toContain('2 of 4 checkpoints planned, 2 failed');

    // One --write file cannot hold several checkpoints' plans.
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/--write names one file, but 2 checkpoints were found/);
  });
});
