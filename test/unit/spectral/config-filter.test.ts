import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../lib/errors.ts';
import {
  analyzeLayer,
  defaultAnalysisConfig,
  hashAnalysisConfig,
  layerFilter,
  parseAnalysisConfig,
  summarizeLayers,
} from '../../../lib/spectral/index.ts';
import type { LayerMetrics } from '../../../lib/spectral/types.ts';

describe('parseAnalysisConfig / hashAnalysisConfig', () => {
  it("fills WeightWatcher's defaults", () => {
    const config = parseAnalysisConfig({});
    expect(config).toEqual(defaultAnalysisConfig);
    expect(config.minEvals).toBe(8);
    expect(config.maxEvals).toBe(15000);
    expect(config.maxN).toBe(50000);
  });

  it('accepts CLI-style strings and upper-case fit names', () => {
    const config = parseAnalysisConfig({ minEvals: '20', fit: 'TPL', fixFingers: 'xmin_peak' });
    expect(config.minEvals).toBe(20);
    expect(config.fit).toBe('tpl');
  });

  it.each([
    [{ minEvals: 0 }],
    [{ minEvals: 100, maxEvals: 50 }],
    [{ fit: 'lognormal' }],
    [{ fit: 'e_tpl', fixFingers: 'clip_xmax' }],
    [{ randomize: 'yes' }],
    [{ layers: '(' }],
    [{ bogus: 1 }],
    ['not an object'],
  ])('rejects %j with BadInputError', (bad) => {
    expect(() => parseAnalysisConfig(bad)).toThrow(BadInputError);
  });

  it('hashes stably (key order irrelevant) and changes with any option', () => {
    const a = parseAnalysisConfig({ mpFit: true, minEvals: 20 });
    const b = parseAnalysisConfig({ minEvals: 20, mpFit: true });
    expect(hashAnalysisConfig(a)).toBe(hashAnalysisConfig(b));
    expect(hashAnalysisConfig(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(hashAnalysisConfig(a)).not.toBe(hashAnalysisConfig(defaultAnalysisConfig));
  });
});

describe('layerFilter', () => {
  const config = defaultAnalysisConfig;
  it("applies WeightWatcher's size filters from the shape alone", () => {
    expect(layerFilter('fc', 'dense', [100, 50], config)).toEqual({ analyze: true });
    expect(layerFilter('tiny', 'dense', [100, 5], config).analyze).toBe(false);
    expect(layerFilter('huge', 'dense', [60000, 100], config).analyze).toBe(false);
    expect(layerFilter('wide', 'dense', [20000, 16000], config).analyze).toBe(false);
    // conv2d counts M·rf: 3×3 kernels with 2 input channels give 18 ≥ 10.
    expect(layerFilter('conv', 'conv2d', [3, 3, 2, 8], config)).toEqual({ analyze: true });
    expect(layerFilter('conv1', 'conv2d', [1, 1, 3, 8], config).analyze).toBe(false);
    expect(layerFilter('bias', 'dense', [100], config).analyze).toBe(false);
  });

  it('applies the layers regex', () => {
    const only = parseAnalysisConfig({ layers: '^encoder\\.' });
    expect(layerFilter('encoder.fc', 'dense', [100, 50], only)).toEqual({ analyze: true });
    const skipped = layerFilter('decoder.fc', 'dense', [100, 50], only);
    expect(skipped.analyze).toBe(false);
    if (!skipped.analyze) expect(skipped.reason).toMatch(/layers/);
  });
});

describe('analyzeLayer input errors name the layer', () => {
  const base = { layerType: 'dense' as const, shape: [30, 20] };
  it.each([
    ['NaN', Float32Array.from({ length: 600 }, (_, i) => (i === 7 ? Number.NaN : i % 5))],
    ['Inf', Float32Array.from({ length: 600 }, (_, i) => (i === 9 ? Number.POSITIVE_INFINITY : i % 5))],
    ['all zero', new Float32Array(600)],
    ['wrong length', new Float32Array(10)],
  ])('%s → BadInputError', async (_label, data) => {
    const error = await analyzeLayer({ ...base, name: 'layer.bad', data }, defaultAnalysisConfig, 3).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as BadInputError).context.layer).toBe('layer.bad');
  });

  it('too few eigenvalues → BadInputError', async () => {
    const error = await analyzeLayer(
      { name: 'small', layerType: 'dense', shape: [30, 4], data: new Float32Array(120).fill(1) },
      defaultAnalysisConfig,
      0,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(BadInputError);
  });
});

describe('summarizeLayers', () => {
  it('averages the WeightWatcher summary columns, counting failed fits and skipping nulls', () => {
    const row = (alpha: number, mp: number | null): LayerMetrics =>
      ({
        alpha,
        log_norm: 1,
        alpha_weighted: alpha,
        log_alpha_norm: 2,
        log_spectral_norm: 3,
        stable_rank: 4,
        mp_softrank: mp,
      }) as LayerMetrics;
    const summary = summarizeLayers([row(3, null), row(-1, null)]);
    expect(summary.alpha).toBe(1);
    expect(summary.log_norm).toBe(1);
    expect('mp_softrank' in summary).toBe(false);
    expect(summarizeLayers([row(3, 0.5), row(4, null)]).mp_softrank).toBe(0.5);
  });
});
