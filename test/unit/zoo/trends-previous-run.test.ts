import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keptPretrained } from '../../../zoo/trends/previous-run.ts';

describe('keptPretrained (--keep-pretrained)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trends-previous-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (context: Record<string, unknown>) =>
    writeFileSync(join(dir, 'trends.json'), JSON.stringify(context));
  const series = [{ series: 'movenet', quality: 'COCO mAP', source: 's', members: [], correlations: [] }];

  it('carries the pretrained half over with its sweep, wall time and one note saying so', () => {
    write({
      source: 'pipeline',
      generatedAt: 'T0',
      sweeps: { trained: 'a', control: 'b', pretrained: 'p1' },
      sweepSeconds: { a: 10, p1: 320 },
      pretrained: series,
      pretrainedNotes: ['Series: movenet.', 'Not re-swept in this run (older note)'],
    });
    const kept = keptPretrained(dir);
    expect(kept.sweep).toBe('p1');
    expect(kept.seconds).toEqual({ p1: 320 });
    expect(kept.pretrained).toEqual(series);
    expect(kept.pretrainedNotes).toEqual([
      'Series: movenet.',
      'Not re-swept in this run (`npm run experiment:trends -- --keep-pretrained`): the results of sweep `p1` as the previous trends.json (generated T0) recorded them.',
    ]);
  });

  it('refuses a local run or one without pretrained results, naming the file', () => {
    write({ source: 'local', generatedAt: 'T0', sweeps: {}, pretrained: series });
    expect(() => keptPretrained(dir)).toThrow(
      /trends\.json has no pipeline results of the pretrained series/,
    );
    write({ source: 'pipeline', generatedAt: 'T0', sweeps: {}, pretrained: [] });
    expect(() => keptPretrained(dir)).toThrow(/no pipeline results/);
    expect(() => keptPretrained(join(dir, 'missing'))).toThrow(
      /--keep-pretrained reads .*missing\/trends\.json/,
    );
  });
});
