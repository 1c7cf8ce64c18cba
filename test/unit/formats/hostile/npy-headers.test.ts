/**
 * Issue 18, strict parsing: .npy header dicts are read as numpy reads them. For every crafted
 * header of test/fixtures/hostile/npy-headers.json (written by test/fixtures/gen/hostile_npy_headers.py
 * with numpy), the reader either gives numpy's dtype, shape and values or refuses the file; where
 * numpy refuses, so does the reader. Duplicate keys take the last value, as numpy does (the
 * reader used to take the first: half the data, or F16 read as F32).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WeightlensError } from '../../../../lib/errors.ts';
import { openCheckpoint } from '../../../../lib/formats/index.ts';
import { MemoryObjectOpener } from '../memory-opener.ts';

interface HeaderCase {
  header: string;
  numpy?: { dtype: string; shape: number[]; values: number[] };
  numpyError?: string;
}
const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/hostile/npy-headers.json', import.meta.url), 'utf8'),
) as { cases: HeaderCase[] };

/** The generator's layout: v1.0 header padded to 64 bytes, then 8 float32 0..7. */
function npyBytes(header: string): Uint8Array {
  let text = header;
  while ((10 + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const data = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
  const out = new Uint8Array(10 + text.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(Buffer.from(text, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer), 10 + text.length);
  return out;
}

async function readNpy(header: string) {
  const ckpt = await openCheckpoint('h.npy', new MemoryObjectOpener({ 'h.npy': npyBytes(header) }));
  const tensor = ckpt.tensors[0]!;
  return { dtype: tensor.dtype, shape: tensor.shape, values: Array.from(await ckpt.readTensor(tensor)) };
}

describe('.npy headers are read as numpy reads them, or refused', () => {
  it('the fixture covers duplicate keys numpy accepts and headers numpy refuses', () => {
    expect(
      fixture.cases.filter((c) => c.numpy && /'(shape|descr|fortran_order)'.*'\1'/.test(c.header)).length,
    ).toBeGreaterThanOrEqual(6);
    expect(fixture.cases.filter((c) => c.numpyError).length).toBeGreaterThanOrEqual(8);
  });

  for (const c of fixture.cases) {
    it(c.header, async () => {
      const ours = await readNpy(c.header).catch((e: unknown) => e);
      if (c.numpyError !== undefined) {
        expect(ours, `numpy refuses: ${c.numpyError}`).toBeInstanceOf(WeightlensError);
        expect((ours as WeightlensError).context.file).toBe('h.npy');
      } else {
        // Every header numpy accepts here is one numpy writes or a duplicate-key variant: read it.
        expect(ours).not.toBeInstanceOf(Error);
        expect(ours).toEqual(c.numpy);
      }
    });
  }
});
