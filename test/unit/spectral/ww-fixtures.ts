/** Loading the WeightWatcher parity fixtures (test/fixtures/ww, made by test/fixtures/gen/ww_fixtures.py). */
import { readFileSync } from 'node:fs';
import type { LayerType, LayerWeights } from '../../../lib/types.ts';

const FIXTURE_DIR = new URL('../../fixtures/ww/', import.meta.url);

export type FixtureValue = number | string | boolean | null;
export type FixtureRow = Record<string, FixtureValue>;

export interface FixtureRun {
  weightwatcher: string;
  options: Record<string, FixtureValue>;
  rows: FixtureRow[];
  summary: Record<string, FixtureValue>;
}

interface MatrixEntry {
  name: string;
  layerType: LayerType;
  shape: number[];
  /** Offset of the matrix in matrices.f32, in floats. */
  offset: number;
}

export function loadFixtureLayers(): LayerWeights[] {
  const parsed = JSON.parse(readFileSync(new URL('matrices.json', FIXTURE_DIR), 'utf8')) as {
    matrices: MatrixEntry[];
  };
  const bytes = readFileSync(new URL('matrices.f32', FIXTURE_DIR));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return parsed.matrices.map((entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    // Copies, so tests may hand them to workers (transfer) without detaching the shared buffer.
    const data = all.slice(entry.offset, entry.offset + size);
    return { name: entry.name, layerType: entry.layerType, shape: entry.shape, data };
  });
}

export function loadFixtureRun(run: string): FixtureRun {
  return JSON.parse(readFileSync(new URL(`details-${run}.json`, FIXTURE_DIR), 'utf8')) as FixtureRun;
}

/** Fixture numbers: ±inf are stored as strings. */
export function fixtureNumber(value: FixtureValue): number | null {
  if (value === 'inf') return Number.POSITIVE_INFINITY;
  if (value === '-inf') return Number.NEGATIVE_INFINITY;
  return typeof value === 'number' ? value : null;
}

/** |a − b| ≤ tol·max(|a|, |b|), with equal infinities and (null, NaN) pairs matching. */
export function closeRelative(ours: unknown, theirs: FixtureValue, tol: number): boolean {
  const expected = fixtureNumber(theirs);
  if (expected === null) return ours === null || (typeof ours === 'number' && Number.isNaN(ours));
  if (typeof ours !== 'number') return false;
  if (ours === expected) return true;
  return Math.abs(ours - expected) <= tol * Math.max(Math.abs(ours), Math.abs(expected));
}
