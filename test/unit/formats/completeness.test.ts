import { describe, expect, it } from 'vitest';
import { isBadInput } from '../../../lib/errors.ts';
import { incompleteReason, parseCompletenessRule } from '../../../lib/formats/completeness.ts';
import { discoverCheckpoints } from '../../../lib/formats/discover.ts';
import { buildSafetensors, jsonBytes } from './builders.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const root = 's3://bucket/run';
const shard1 = buildSafetensors([{ name: 'a.weight', shape: [4, 4] }]);
const shard2 = buildSafetensors([{ name: 'b.weight', shape: [4, 4] }]);
const index = jsonBytes({
  metadata: { total_size: 128 },
  weight_map: {
    'a.weight': 'model-00001-of-00002.safetensors',
    'b.weight': 'model-00002-of-00002.safetensors',
  },
});
const entry = `${root}/checkpoint-2000/model.safetensors.index.json`;

function files(extra: Record<string, Uint8Array>): MemoryObjectOpener {
  return new MemoryObjectOpener({
    [`${root}/checkpoint-2000/model.safetensors.index.json`]: index,
    ...extra,
  });
}

describe('checkpoint completeness (watched runs)', () => {
  it('parses the rules and refuses others', () => {
    expect(parseCompletenessRule('readable')).toEqual({ kind: 'readable' });
    expect(parseCompletenessRule('marker:trainer_state.json')).toEqual({
      kind: 'marker',
      file: 'trainer_state.json',
    });
    for (const bad of ['', 'marker:', 'marker:../x', 'marker:..', 'always']) {
      let caught: unknown;
      try {
        parseCompletenessRule(bad);
      } catch (err) {
        caught = err;
      }
      expect(isBadInput(caught), bad).toBe(true);
    }
  });

  it('an index is complete only when every shard is there whole', async () => {
    const readable = { kind: 'readable' } as const;
    expect(await incompleteReason(entry, files({}), readable)).toMatch(/not readable yet/);
    const one = { [`${root}/checkpoint-2000/model-00001-of-00002.safetensors`]: shard1 };
    expect(await incompleteReason(entry, files(one), readable)).toMatch(/not readable yet/);
    const truncated = {
      ...one,
      [`${root}/checkpoint-2000/model-00002-of-00002.safetensors`]: shard2.subarray(0, shard2.length - 10),
    };
    expect(await incompleteReason(entry, files(truncated), readable)).toBeDefined();
    const whole = { ...one, [`${root}/checkpoint-2000/model-00002-of-00002.safetensors`]: shard2 };
    expect(await incompleteReason(entry, files(whole), readable)).toBeUndefined();

    const marker = { kind: 'marker', file: 'trainer_state.json' } as const;
    expect(await incompleteReason(entry, files(whole), marker)).toBe('no trainer_state.json yet');
    const marked = { ...whole, [`${root}/checkpoint-2000/trainer_state.json`]: jsonBytes({ epoch: 1 }) };
    expect(await incompleteReason(entry, files(marked), marker)).toBeUndefined();
  });

  it('takes the step from a checkpoint-<step> folder when no sidecar gives one', async () => {
    const opener = files({
      [`${root}/checkpoint-2000/model-00001-of-00002.safetensors`]: shard1,
      [`${root}/checkpoint-2000/model-00002-of-00002.safetensors`]: shard2,
      [`${root}/checkpoint-30/model.safetensors`]: shard1,
      [`${root}/checkpoint-30/weightlens.json`]: jsonBytes({ step: 31 }),
    });
    const found = await discoverCheckpoints(root, opener);
    expect(found.map((f) => [f.uri.slice(root.length), f.metadata.step])).toEqual([
      ['/checkpoint-2000/model.safetensors.index.json', 2000],
      ['/checkpoint-30/model.safetensors', 31],
    ]);
  });
});
