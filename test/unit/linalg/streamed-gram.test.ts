/**
 * Layers above max_N through the streamed Gram matrix (--above-max-n gram): the accumulated WᵀW's
 * eigenvalues equal the dense solve on a planted spectrum (TypeScript and native paths, uneven
 * blocks); through analyzeCheckpoint a tall embedding is skipped by default (WeightWatcher) and
 * with 'gram' gives the row the dense analysis gives, read by ranged row blocks only; the option
 * is part of the config hash; wide tensors and randomize are refused with a reason.
 */
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import type { OpenedCheckpoint } from '../../../lib/formats/types.ts';
import { gramWeights } from '../../../lib/gram-weights.ts';
import { planLayers } from '../../../lib/layer-plan.ts';
import { squaredSingularValuesTs } from '../../../lib/linalg/index.ts';
import { createGramAccumulator, nativeGramAvailable } from '../../../lib/linalg/streamed-gram.ts';
import { analyzeLayer, hashAnalysisConfig, parseAnalysisConfig } from '../../../lib/spectral/index.ts';
import { prerequisite } from '../../prerequisites.ts';
import { buildSafetensors } from '../formats/builders.ts';
import { MemoryObjectOpener } from '../formats/memory-opener.ts';
import { matrixWithSingularValues } from './known-spectrum.ts';

const ROWS = 3000;
const COLS = 48;
/** A heavy-tailed planted spectrum: σ_i = 10·(i + 1)^(−0.6). */
const PLANTED = Array.from({ length: COLS }, (_, i) => 10 * (i + 1) ** -0.6);
const dense = matrixWithSingularValues(ROWS, COLS, PLANTED, 7);

async function streamed(backend: 'ts' | 'native-syevd', blockRows: number): Promise<Float64Array> {
  const gram = createGramAccumulator(COLS, backend);
  for (let start = 0; start < ROWS; start += blockRows) {
    const count = Math.min(blockRows, ROWS - start);
    await gram.add(dense.subarray(start * COLS, (start + count) * COLS), count);
  }
  expect(gram.rows).toBe(ROWS);
  return gram.eigenvalues();
}

function worstError(values: Float64Array, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - expected[i]!));
  return worst / expected[expected.length - 1]!;
}

describe('streamed Gram accumulation', () => {
  const planted = Float64Array.from(PLANTED.map((s) => s * s)).sort();
  const reference = squaredSingularValuesTs(dense, ROWS, COLS);

  it('TypeScript: eigenvalues of ΣBᵀB equal the dense solve and the planted σ² (blocks of 7 rows)', async () => {
    const values = await streamed('ts', 7);
    expect(values).toHaveLength(COLS);
    expect(worstError(values, reference)).toBeLessThan(1e-12);
    expect(worstError(values, planted)).toBeLessThan(1e-10);
  });

  it.runIf(prerequisite(nativeGramAvailable(), 'the native addon with gramUpdate (npm run build:native)'))(
    'native dsyrk + dsyevd: the same eigenvalues (blocks of 512 rows, a short last one)',
    async () => {
      const values = await streamed('native-syevd', 512);
      expect(worstError(values, reference)).toBeLessThan(1e-12);
      expect(worstError(values, planted)).toBeLessThan(1e-10);
    },
  );

  it('refuses a block of the wrong width', async () => {
    const gram = createGramAccumulator(COLS, 'ts');
    await expect(gram.add(new Float64Array(10), 1)).rejects.toThrow(/not 1×48/);
  });
});

const EMBEDDING = 'model.embed_tokens.weight';
/** max_N below the embedding's 3000 rows (maxEvals must stay ≤ maxN). */
const SMALL = { maxN: 2000, maxEvals: 1000 };

function opener(): MemoryObjectOpener {
  const tensors = [
    { name: EMBEDDING, shape: [ROWS, COLS], data: Float32Array.from(dense) },
    { name: 'lm_head_t.weight', shape: [COLS, ROWS], data: Float32Array.from(dense) },
  ];
  return new MemoryObjectOpener({ 'm/model.safetensors': buildSafetensors(tensors) });
}

/** The checkpoint with readTensor refused and every row read recorded. */
function rowReadsOnly(ckpt: OpenedCheckpoint, reads: number[]): OpenedCheckpoint {
  return {
    ...ckpt,
    readTensor: () => Promise.reject(new Error('decoded whole')),
    rowReader: (info) => {
      const read = ckpt.rowReader?.(info);
      if (!read) return undefined;
      return (start, count) => {
        reads.push(count);
        return read(start, count);
      };
    },
  };
}

describe('--above-max-n through analyzeCheckpoint', () => {
  it('skips N > max_N by default (WeightWatcher), and with gram gives the dense row', async () => {
    const skip = await analyzeCheckpoint('m/model.safetensors', opener(), parseAnalysisConfig(SMALL));
    expect(skip.layers).toEqual([]);
    expect(skip.skipped.find((s) => s.layer === EMBEDDING)?.reason).toBe('N = 3000 > max_N 2000');

    const gram = await analyzeCheckpoint(
      'm/model.safetensors',
      opener(),
      parseAnalysisConfig({ ...SMALL, aboveMaxN: 'gram' }),
    );
    const wholeRow = await analyzeCheckpoint('m/model.safetensors', opener(), parseAnalysisConfig({}));
    const row = gram.layers.find((r) => r.name === EMBEDDING)!;
    const want = wholeRow.layers.find((r) => r.name === EMBEDDING)!;
    expect(row.above_max_n).toBe('gram');
    expect(row.layer_type).toBe('embedding');
    expect([row.N, row.M, row.num_evals]).toEqual([3000, 48, 48]);
    expect(row.alpha).toBeGreaterThan(1);
    for (const column of ['alpha', 'xmin', 'lambda_max', 'log_norm', 'stable_rank', 'entropy'] as const) {
      expect(Math.abs((row[column] as number) - (want[column] as number)), column).toBeLessThan(
        1e-9 * Math.abs(want[column] as number),
      );
    }
    // A wide tensor cannot be streamed by whole rows: skipped, saying why.
    expect(gram.skipped.find((s) => s.layer === 'lm_head_t.weight')?.reason).toMatch(
      /^N = 3000 > max_N 2000 \(--above-max-n gram streams whole rows, so it needs the long side first/,
    );
  });

  it('reads the tensor by ranged row blocks only', async () => {
    const config = parseAnalysisConfig({ ...SMALL, aboveMaxN: 'gram' });
    const reads: number[] = [];
    const ckpt = rowReadsOnly(await openCheckpoint('m/model.safetensors', opener()), reads);
    const layer = planLayers(ckpt, config).layers.find((l) => l.name === EMBEDDING)!;
    expect(layer.gram).toBe(true);
    const weights = gramWeights(ckpt, layer, { blockRows: 128 });
    expect(reads).toEqual([]);
    const analysis = await analyzeLayer(weights, config, layer.layerId);
    expect(reads).toHaveLength(Math.ceil(ROWS / 128));
    expect(Math.max(...reads)).toBe(128);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(analysis.eigenvalues).toHaveLength(COLS);
  });

  it('is part of the config hash (skip, the default, keeps the old key) and refuses randomize', async () => {
    const plain = hashAnalysisConfig(parseAnalysisConfig({}));
    expect(hashAnalysisConfig(parseAnalysisConfig({ aboveMaxN: 'skip' }))).toBe(plain);
    expect(hashAnalysisConfig(parseAnalysisConfig({ aboveMaxN: 'gram' }))).not.toBe(plain);
    expect(() => parseAnalysisConfig({ aboveMaxN: 'dense' })).toThrow(/aboveMaxN must be one of skip, gram/);

    const report = await analyzeCheckpoint(
      'm/model.safetensors',
      opener(),
      parseAnalysisConfig({ ...SMALL, aboveMaxN: 'gram', randomize: true }),
    );
    expect(report.errors.find((e) => e.layer === EMBEDDING)?.error).toMatch(
      /randomize needs the matrix entries/,
    );
  });
});
