/** `weightlens inspect` as a user runs it: the real CLI in child processes over committed fixtures. */
import { describe, expect, it } from 'vitest';
import { formatInspectTable, inspectCheckpoint } from '../../../cli/commands/inspect.ts';
import { discoverCheckpoints } from '../../../lib/formats/discover.ts';
import { FileStorage } from '../../../storage/file.ts';
import { runCli } from '../../integration/cli-helpers.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';

const inspect = (...args: string[]) => runCli(['inspect', ...args]);

describe('weightlens inspect', () => {
  it('prints the documented JSON, and one error line naming the file for a hostile pickle', async () => {
    const evil = `${FIXTURES_DIR}pytorch/evil_os_system.pt`;
    // The CLI loads every subcommand (slow on a shared machine): run both at once.
    const [json, failure] = await Promise.all([
      inspect(`${FIXTURES_DIR}pytorch/state_dict.pt`, '--format', 'json'),
      inspect(evil),
    ]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      format: string;
      metadata: Record<string, unknown>;
      tensors: { name: string; dtype: string; shape: number[]; layer_type: string; analyzed: boolean }[];
    };
    expect(report.format).toBe('pytorch');
    expect(report.metadata).toEqual({});
    const byName = new Map(report.tensors.map((t) => [t.name, t]));
    expect(byName.get('0.weight')).toMatchObject({
      dtype: 'F32',
      shape: [4, 3, 3, 3],
      layer_type: 'conv2d',
      analyzed: true,
    });
    expect(byName.get('3.weight')).toMatchObject({ shape: [5, 16], layer_type: 'dense', analyzed: true });
    expect(byName.get('0.bias')).toMatchObject({ layer_type: 'skipped', analyzed: false });
    expect(byName.get('1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [], analyzed: false });

    expect(failure.code).toBe(1);
    expect(failure.stdout).toBe('');
    expect(failure.stderr.trim().split('\n')).toHaveLength(1);
    expect(failure.stderr).toContain(evil);
    expect(failure.stderr).toMatch(/posix\.system|os\.system/);
  }, 180_000);

  it('formats a table per checkpoint of a directory', async () => {
    const storage = new FileStorage();
    const [checkpoint] = await discoverCheckpoints(`${FIXTURES_DIR}pytorch/sharded`, storage);
    const table = formatInspectTable(await inspectCheckpoint(checkpoint!, storage));
    expect(table).toContain('format: pytorch');
    expect(table).toMatch(/3\.weight\s+F32\s+\[5, 16\]\s+dense\s+yes/);
    expect(table).toMatch(/0\.bias\s+F32\s+\[4\]\s+skipped\s+no \(bias\)/);
  });
});
