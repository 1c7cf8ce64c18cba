/**
 * Seeded mutation fuzzing of every reader: each case mutates a valid fixture (bit flips, hostile
 * integers in header-sized windows, truncation, insertion, deletion), opens it, maps its layers
 * and decodes its tensors. Only typed WeightlensErrors may come out; reads stay inside the file
 * (MemoryRangeReader enforces it) and bounded in number; decoded sizes stay within what the file
 * can hold. Replay one case with FUZZ_SEED=<seed> FUZZ_CASE=<n>.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WeightlensError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors, readLayerWeights } from '../../../lib/formats/layers.ts';
import { MAX_DEFLATE_RATIO } from '../../../lib/formats/zip.ts';
import { seededRandom } from '../../../lib/random.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { FUZZ_TARGETS, type FuzzTarget } from './fuzz-targets.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const TOTAL_CASES = 10_000;
/** Generous: a shared two-core machine can be 10× slower than an idle one (this is not a speed test). */
const FUZZ_ROW_TIMEOUT_MS = 900_000;
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const ONLY_CASE = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
/** Tensors decoded per case (fixtures are small; this bounds the per-case work). */
const MAX_TENSORS_PER_CASE = 64;
/** Bytes read per case, in file sizes: a reader looping on a corrupt file shows up here, not as a hang. */
const MAX_READ_FACTOR = 64;

const HOSTILE_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
const HOSTILE_U64 = [0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

/** One mutated copy of `original`. Header-ish regions (start and end) are hit more often. */
function mutate(original: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  const position = (bytes: Uint8Array) => {
    const r = random();
    const headerSpan = Math.min(bytes.byteLength, 2048);
    if (r < 0.45) return pick(headerSpan);
    if (r < 0.7) return bytes.byteLength - 1 - pick(headerSpan);
    return pick(bytes.byteLength);
  };
  let bytes = original.slice();
  const rounds = 1 + pick(4);
  for (let round = 0; round < rounds && bytes.byteLength > 0; round++) {
    const kind = pick(7);
    const at = position(bytes);
    if (kind <= 1) {
      bytes[at] = bytes[at]! ^ (1 << pick(8));
    } else if (kind === 2) {
      bytes[at] = [0, 0xff, 0x7f, 0x80, pick(256)][pick(5)]!;
    } else if (kind === 3 && at + 4 <= bytes.byteLength) {
      new DataView(bytes.buffer).setUint32(at, HOSTILE_U32[pick(HOSTILE_U32.length)]!, random() < 0.8);
    } else if (kind === 4 && at + 8 <= bytes.byteLength) {
      new DataView(bytes.buffer).setBigUint64(at, HOSTILE_U64[pick(HOSTILE_U64.length)]!, true);
    } else if (kind === 5) {
      bytes = bytes.slice(0, pick(bytes.byteLength));
    } else {
      const length = 1 + pick(16);
      const insert = random() < 0.5;
      const out = new Uint8Array(
        bytes.byteLength + (insert ? length : -Math.min(length, bytes.byteLength - at)),
      );
      out.set(bytes.subarray(0, at));
      if (insert) {
        for (let i = 0; i < length; i++) out[at + i] = pick(256);
        out.set(bytes.subarray(at), at + length);
      } else {
        out.set(bytes.subarray(at + Math.min(length, bytes.byteLength - at)), at);
      }
      bytes = out;
    }
  }
  return bytes;
}

interface CaseOutcome {
  opened: boolean;
  error?: string;
}

const fuzzName = (fixture: string): string => `fuzz/${fixture.split('/').pop()}`;

/** Siblings of multi-file checkpoints, unmutated (read once). */
const siblingBytes = new Map<string, Uint8Array>();
function sibling(fixture: string): Uint8Array {
  const cached = siblingBytes.get(fixture);
  if (cached) return cached;
  const bytes = new Uint8Array(readFileSync(`${FIXTURES_DIR}${fixture}`));
  siblingBytes.set(fixture, bytes);
  return bytes;
}

/** Open the checkpoint with `bytes` as the target's fixture (its siblings unmutated), decode it. */
async function runCase(target: FuzzTarget, bytes: Uint8Array): Promise<CaseOutcome> {
  const files: Record<string, Uint8Array> = { [fuzzName(target.fixture)]: bytes };
  for (const fixture of target.siblings ?? []) files[fuzzName(fixture)] = sibling(fixture);
  const opener = new MemoryObjectOpener(files);
  const name = fuzzName(target.open ?? target.fixture);
  const size = Object.values(files).reduce((n, b) => n + b.byteLength, 0);
  const maxElements = target.compressed ? size * MAX_DEFLATE_RATIO : 2 * size + 64;
  try {
    const ckpt = await openCheckpoint(name, opener);
    const mapped = mapTensors(ckpt);
    for (const m of mapped.slice(0, MAX_TENSORS_PER_CASE)) {
      const data = m.analyzed ? (await readLayerWeights(ckpt, m)).data : await ckpt.readTensor(m.tensor);
      if (data.length > maxElements) {
        return {
          opened: true,
          error: `decoded ${data.length} elements from ${size} bytes of files`,
        };
      }
      if (opener.bytesRead > MAX_READ_FACTOR * size + 4096) {
        return { opened: true, error: `read ${opener.bytesRead} bytes of ${size} bytes of files` };
      }
    }
    return { opened: true };
  } catch (err) {
    if (err instanceof WeightlensError) return { opened: false };
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { opened: false, error: `untyped error ${message}` };
  }
}

const casesPerTarget = Math.ceil(TOTAL_CASES / FUZZ_TARGETS.length);

describe(`mutation fuzz: ${casesPerTarget} cases × ${FUZZ_TARGETS.length} fixtures (≥ ${TOTAL_CASES})`, () => {
  FUZZ_TARGETS.forEach((target, row) => {
    it(
      `${target.format}: ${target.fixture}`,
      async () => {
        const original = new Uint8Array(readFileSync(`${FIXTURES_DIR}${target.fixture}`));
        // The unmutated fixture must open cleanly, or the fuzzing proves nothing.
        expect(await runCase(target, original)).toEqual({ opened: true });
        const failures: string[] = [];
        let rejected = 0;
        for (let n = 0; n < casesPerTarget; n++) {
          if (ONLY_CASE !== undefined && n !== ONLY_CASE) continue;
          const seed = BASE_SEED + row * 1_000_003 + n;
          const outcome = await runCase(target, mutate(original, seededRandom(seed)));
          if (!outcome.opened) rejected++;
          if (outcome.error && failures.length < 10)
            failures.push(`case ${n} (FUZZ_CASE=${n}): ${outcome.error}`);
        }
        expect(failures).toEqual([]);
        // No corrupt file leaves a reader broken (h5wasm is replaced after an abort or a hang).
        expect(await runCase(target, original)).toEqual({ opened: true });
        // Mutations must actually reach the parsers: some cases are rejected.
        if (ONLY_CASE === undefined) expect(rejected).toBeGreaterThan(casesPerTarget / 20);
      },
      FUZZ_ROW_TIMEOUT_MS,
    );
  });
});
