/** The ESD artifact layout (lib/esd-artifact.ts): what the pipeline writes, the dashboard reads. */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../lib/errors.ts';
import { decodeEsd, ESD_MAX_BYTES, encodeEsd, esdObjectKey, esdValueCount } from '../../lib/esd-artifact.ts';
import { SeededRandom } from '../../lib/random.ts';

const EDGE_VALUES = [0, -0, 1.5, -2, 5e-324, 1e-300, Number.MAX_VALUE, Infinity, -Infinity, Number.NaN];

describe('ESD artifact', () => {
  it('round-trips every float64, bit for bit (NaN, ±0, subnormals, infinities)', () => {
    const rng = new SeededRandom(7);
    const random = Array.from({ length: 1000 }, () => rng.gaussian() * 10 ** (rng.int(40) - 20));
    const values = new Float64Array([...EDGE_VALUES, ...random]);
    const bytes = encodeEsd(values);
    expect(bytes.length).toBe(values.length * 8);
    const decoded = decodeEsd(bytes, 's3://b/esd/x.f64');
    expect(new Uint8Array(decoded.buffer)).toEqual(new Uint8Array(values.buffer));
    for (let i = 0; i < EDGE_VALUES.length; i++) expect(Object.is(decoded[i], EDGE_VALUES[i])).toBe(true);
  });

  it('writes little-endian whatever the host order', () => {
    expect([...encodeEsd(new Float64Array([1]))]).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  });

  it('decodes a view at an unaligned offset of a larger buffer', () => {
    const values = new Float64Array([3, 1, 4, 1, 5]);
    const padded = new Uint8Array(values.length * 8 + 3);
    padded.set(encodeEsd(values), 3);
    expect([...decodeEsd(padded.subarray(3), 'u')]).toEqual([...values]);
  });

  it('round-trips an empty ESD', () => {
    expect(decodeEsd(encodeEsd(new Float64Array(0)), 'u').length).toBe(0);
  });

  it('refuses sizes no encoder writes, naming the object', () => {
    const line = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        expect(err).toBeInstanceOf(BadInputError);
        return (err as BadInputError).toLine();
      }
      throw new Error('expected a BadInputError');
    };
    expect(line(() => decodeEsd(new Uint8Array(7), 's3://b/esd/bad.f64'))).toBe(
      's3://b/esd/bad.f64: 7 bytes is not a float64 eigenvalue array',
    );
    expect(line(() => esdValueCount(ESD_MAX_BYTES + 8, 's3://b/big.f64'))).toMatch(
      /^s3:\/\/b\/big\.f64: .*limit/,
    );
    expect(esdValueCount(ESD_MAX_BYTES, 'u')).toBe(ESD_MAX_BYTES / 8);
  });

  it('keys objects by content hash, config hash and an escaped layer name', () => {
    const key = esdObjectKey({ contentHash: 'abc', configHash: 'def', layerName: 'blocks/0.attn.weight' });
    expect(key).toBe('esd/abc/def/blocks%2F0.attn.weight.f64');
  });
});
