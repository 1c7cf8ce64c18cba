/**
 * Issue 18, degenerate spectra: a layer no power law can describe is a per-layer BadInputError
 * naming the layer (the sweep activities record it as a failed layer, the local mode in `errors`),
 * never a `success` row with α = ∞ or null norms; the checkpoint's summary leaves it out and says so.
 */
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { BadInputError, isBadInput } from '../../../lib/errors.ts';
import { analyzeLayer, defaultAnalysisConfig, summarizeLayers } from '../../../lib/spectral/index.ts';
import type { LayerWeights } from '../../../lib/types.ts';
import { buildSafetensors } from '../formats/builders.ts';
import { MemoryObjectOpener } from '../formats/memory-opener.ts';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

function gaussianLike(rows: number, cols: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * cols }, () => next() + next() + next());
}

/** A random n×n orthogonal matrix (Gram–Schmidt in float64), rounded to float32. */
function orthogonal(n: number, seed: number): Float32Array {
  const next = random(seed);
  const q: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = Float64Array.from({ length: n }, () => next());
    for (const u of q) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += v[k]! * u[k]!;
      for (let k = 0; k < n; k++) v[k]! -= dot * u[k]!;
    }
    const norm = Math.hypot(...v);
    for (let k = 0; k < n; k++) v[k]! /= norm;
    q.push(v);
  }
  const out = new Float32Array(n * n);
  q.forEach((row, i) => {
    out.set(row, i * n);
  });
  return out;
}

function identity(n: number, scale = 1): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = scale;
  return out;
}

function dense(name: string, shape: [number, number], data: Float32Array | Float64Array): LayerWeights {
  return { name, layerType: 'dense', shape, data };
}

async function failure(weights: LayerWeights): Promise<BadInputError> {
  const err = await analyzeLayer(weights, defaultAnalysisConfig, 0).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BadInputError);
  expect(isBadInput(err)).toBe(true);
  expect((err as BadInputError).context.layer).toBe(weights.name);
  return err as BadInputError;
}

describe('degenerate spectra are per-layer bad input', () => {
  it('an exactly orthogonal matrix (identity, scaled identity): flat spectrum, not α = ∞', async () => {
    for (const data of [identity(64), identity(64, 3)]) {
      const err = await failure(dense('eye.weight', [64, 64], data));
      expect(err.message).toMatch(/degenerate spectrum: all 64 eigenvalues equal/);
    }
  });

  it('a float32-rounded random orthogonal matrix (WeightWatcher 0.7.7: α ≈ 5e7)', async () => {
    const err = await failure(dense('q.weight', [64, 64], orthogonal(64, 7)));
    expect(err.message).toMatch(/degenerate spectrum/);
  });

  it('float64 weights ≥ 1e154 whose W·Wᵀ overflows: an error, not α = 1 with null norms', async () => {
    const data = Float64Array.from(gaussianLike(64, 32, 3), (v) => v * 1e156);
    const err = await failure(dense('big.weight', [64, 32], data));
    expect(err.message).toMatch(/eigenvalues overflow float64 \(largest \|w\| = .*e\+156/);
  });

  it('an ordinary random layer still analyzes, with finite summary metrics', async () => {
    const { metrics } = await analyzeLayer(
      dense('ok.weight', [64, 32], gaussianLike(64, 32, 5)),
      defaultAnalysisConfig,
      0,
    );
    expect(metrics.status).toBe('success');
    for (const column of ['alpha', 'alpha_weighted', 'log_norm', 'log_alpha_norm', 'stable_rank'] as const) {
      expect(Number.isFinite(metrics[column]), column).toBe(true);
    }
  });
});

describe('the checkpoint summary leaves failed layers out and counts them', () => {
  it('mean α is the good layers’ mean; layersAnalyzed / layersFailed say how many', async () => {
    const big = Float64Array.from(gaussianLike(64, 32, 3), (v) => v * 1e156);
    const good = [gaussianLike(64, 32, 11), gaussianLike(48, 24, 12)];
    const bytes = buildSafetensors([
      { name: 'a.weight', shape: [64, 32], data: good[0] },
      { name: 'eye.weight', shape: [64, 64], data: identity(64) },
      { name: 'b.weight', shape: [48, 24], data: good[1] },
      { name: 'big.weight', dtype: 'F64', shape: [64, 32], data: new Uint8Array(big.buffer) },
    ]);
    const opener = new MemoryObjectOpener({ 'm/model.safetensors': bytes });
    const report = await analyzeCheckpoint('m/model.safetensors', opener, defaultAnalysisConfig);
    expect(report.layers.map((l) => l.name)).toEqual(['a.weight', 'b.weight']);
    expect(report.errors.map((e) => e.layer)).toEqual(['eye.weight', 'big.weight']);
    expect(report.layersAnalyzed).toBe(2);
    expect(report.layersFailed).toBe(2);
    expect(report.summary).toEqual(summarizeLayers(report.layers));
    for (const [name, value] of Object.entries(report.summary)) {
      expect(Number.isFinite(value), name).toBe(true);
    }
  });
});
