/**
 * Layer flags are a list and counted as one: a layer warned "over-trained, correlation-trap" (what
 * `analyzeLayer` writes with randomize on) counts as over-trained AND as a trap. Counting by
 * comparing the whole warning text (`warning === 'over-trained'`) missed it.
 */
import { describe, expect, it } from 'vitest';
import {
  alphaFlags,
  countFlags,
  formatWarning,
  parseWarning,
  storedFlags,
} from '../../../lib/spectral/flags.ts';

describe('layer flags', () => {
  it('counts a flag however many others the layer carries', () => {
    const rows = [
      { warning: 'over-trained, correlation-trap' },
      { warning: 'under-trained, correlation-trap' },
      { warning: 'over-trained' },
      { warning: 'correlation-trap' },
      { warning: '' },
      { warning: null },
    ];
    expect(countFlags(rows.map(storedFlags))).toEqual({
      overTrained: 2,
      underTrained: 1,
      correlationTraps: 3,
    });
  });

  it('reads the stored list first, the warning text of older rows otherwise', () => {
    expect(storedFlags({ flags: ['under-trained'], warning: 'over-trained' })).toEqual(['under-trained']);
    expect(storedFlags({ flags: [], warning: 'over-trained, correlation-trap' })).toEqual([
      'over-trained',
      'correlation-trap',
    ]);
    expect(parseWarning('over-trained, something-else')).toEqual(['over-trained']);
  });

  it("writes WeightWatcher's warning text from the list (parity) and parses it back", () => {
    const flags = [...alphaFlags(1.5), 'correlation-trap' as const];
    expect(formatWarning(flags)).toBe('over-trained, correlation-trap');
    expect(parseWarning(formatWarning(flags))).toEqual(flags);
    expect(alphaFlags(7)).toEqual(['under-trained']);
    expect(alphaFlags(4)).toEqual([]);
    expect(formatWarning([])).toBe('');
  });
});
