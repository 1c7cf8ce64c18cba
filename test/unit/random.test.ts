/** The one seeded generator (lib/random.ts): mulberry32, reproducible draws. */
import { describe, expect, it } from 'vitest';
import { SeededRandom as CurvatureRandom } from '../../lib/curvature/vector.ts';
import { SeededRandom, seededRandom } from '../../lib/random.ts';

describe('seeded random', () => {
  it('keeps the sequence the copies it replaces produced (pinned uint32 outputs for seed 1)', () => {
    // Stored fixtures and seeded tests depend on these numbers; a changed generator must fail here.
    const next = seededRandom(1);
    const first = Array.from({ length: 3 }, () => Math.round(next() * 4294967296));
    expect(first).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('gives the same sequence for the same seed and a different one for another', () => {
    const a = Array.from({ length: 5 }, seededRandom(42));
    expect(Array.from({ length: 5 }, seededRandom(42))).toEqual(a);
    expect(Array.from({ length: 5 }, seededRandom(43))).not.toEqual(a);
    for (const x of a) expect(x >= 0 && x < 1).toBe(true);
  });

  it('the class draws from the same stream; permutations are permutations', () => {
    const r = new SeededRandom(9);
    const f = seededRandom(9);
    expect([r.next(), r.next()]).toEqual([f(), f()]);
    const p = new SeededRandom(3).permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("curvature's generator is the same stream, with seed 0 standing for a fixed nonzero seed", () => {
    expect(new CurvatureRandom(5).next()).toBe(seededRandom(5)());
    expect(new CurvatureRandom(0).next()).toBe(seededRandom(0x9e3779b9)());
  });
});
