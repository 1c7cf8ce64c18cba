/** Shared helpers for format tests over the committed fixtures in test/fixtures/formats/. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { OpenedCheckpoint } from '../../../lib/formats/types.ts';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/formats/', import.meta.url));

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: number[];
}

export function readExpected(relative: string): Record<string, Record<string, ExpectedTensor>> {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}${relative}`, 'utf8')) as Record<
    string,
    Record<string, ExpectedTensor>
  >;
}

/** Every expected tensor is listed with its dtype and shape and decodes to exactly its values. */
export async function expectTensorsExact(
  ckpt: OpenedCheckpoint,
  expected: Record<string, ExpectedTensor>,
): Promise<void> {
  const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
  expect([...byName.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const info = byName.get(name)!;
    expect({ name, dtype: info.dtype, shape: info.shape }).toEqual({
      name,
      dtype: want.dtype,
      shape: want.shape,
    });
    const data = await ckpt.readTensor(info);
    expect(data.length, name).toBe(want.values.length);
    for (let i = 0; i < want.values.length; i++) {
      if (!Object.is(data[i], want.values[i])) {
        expect.fail(`${name}[${i}] decoded ${data[i]} but the library wrote ${want.values[i]}`);
      }
    }
  }
}
