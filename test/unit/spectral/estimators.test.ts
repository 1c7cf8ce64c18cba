/**
 * The optional estimators against independent references:
 * - detX / ERG columns against WeightWatcher 0.7.7 with detX=True (details-detx.json), 1e-6 relative,
 *   integers equal, on every parity fixture layer;
 * - alpha_hill against its closed form (hand-computed spectra) and against the numpy implementation
 *   of test/fixtures/gen/estimators_fixtures.py (both x_min rules);
 * - alpha_farms against the same script's FARMS (reference defaults), within 0.01.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detXConstraint } from '../../../lib/spectral/detx.ts';
import { hillAlpha } from '../../../lib/spectral/hill.ts';
import { analyzeLayer, parseAnalysisConfig } from '../../../lib/spectral/index.ts';
import type { LayerMetrics } from '../../../lib/spectral/types.ts';
import { closeRelative, loadFixtureLayers, loadFixtureRun } from './ww-fixtures.ts';

const layers = loadFixtureLayers();

interface EstimatorRow {
  name: string;
  alpha_hill_mid: number;
  alpha_hill_peak: number | null;
  alpha_farms: number | null;
}
const reference = (
  JSON.parse(readFileSync(new URL('../../fixtures/estimators/estimators.json', import.meta.url), 'utf8')) as {
    rows: EstimatorRow[];
  }
).rows;

async function analyzeAll(options: Record<string, unknown>): Promise<LayerMetrics[]> {
  const config = parseAnalysisConfig(options);
  const rows: LayerMetrics[] = [];
  for (const [index, weights] of layers.entries())
    rows.push((await analyzeLayer(weights, config, index + 1)).metrics);
  return rows;
}

describe('detX / ERG columns (WeightWatcher 0.7.7, detX=True)', () => {
  it('match on every parity layer: values 1e-6 relative, counts equal', async () => {
    const run = loadFixtureRun('detx');
    expect(run.weightwatcher).toBe('0.7.7');
    expect(run.rows.length).toBe(layers.length);
    const ours = await analyzeAll({ estimators: ['detx'] });
    const misses: string[] = [];
    for (const [i, theirs] of run.rows.entries()) {
      const row = ours[i]!;
      expect(row.name).toBe(theirs.name);
      for (const column of ['detX_num', 'num_ERG_spikes', 'ERG_gap'] as const) {
        if (row[column] !== theirs[column])
          misses.push(`${row.name}.${column}: ${row[column]} vs ${theirs[column]}`);
      }
      if (!closeRelative(row.detX_val, theirs.detX_val!, 1e-6)) {
        misses.push(`${row.name}.detX_val: ${row.detX_val} vs ${theirs.detX_val}`);
      }
    }
    expect(misses).toEqual([]);
  });

  it('follows WeightWatcher on degenerate spectra', () => {
    expect(detXConstraint(new Float64Array([2]))).toEqual({ num: 0, index: 0 });
    expect(detXConstraint(new Float64Array([3, 3, 3]))).toEqual({ num: 0, index: 0 });
    // Rescaled to mean 1: [0.5, 0.5, 2] → 2 ≥ 1, 2·0.5 = 1 is not < 1, the loop ends at index 1.
    expect(detXConstraint(new Float64Array([1, 1, 4]))).toEqual({ num: 3, index: 1 });
    // [0.25, 0.75, 2]: 2, then 1.5, never < 1 before index 1 → all.
    expect(detXConstraint(new Float64Array([1, 3, 8]))).toEqual({ num: 3, index: 1 });
    // [0.1, 0.1, 0.1, 3.7]: 3.7 ≥ 1, 0.37 < 1 → the top 2.
    expect(detXConstraint(new Float64Array([1, 1, 1, 37]))).toEqual({ num: 2, index: 2 });
  });
});

describe('alpha_hill', () => {
  it('equals its closed form α = 1 + n / Σ ln(λ_i / λ_xmin)', () => {
    const evals = new Float64Array([0.5, 1, 2, 4, 8, 16]);
    // xmin_mid: i = 3, x_min = 4, n = 3: Σ ln = 0 + ln 2 + ln 4 = 3 ln 2.
    const fit = hillAlpha(evals, 'xmin_mid')!;
    expect(fit.xmin).toBe(4);
    expect(fit.k).toBe(3);
    expect(fit.alpha).toBeCloseTo(1 + 3 / (3 * Math.LN2), 12);
    const odd = hillAlpha(new Float64Array([1, 3, 9, 27, 81]), 'xmin_mid')!;
    expect(odd.xmin).toBe(9); // i = ⌊5/2⌋ = 2
    expect(odd.alpha).toBeCloseTo(1 + 3 / (3 * Math.log(3)), 12);
    expect(hillAlpha(new Float64Array([1]), 'xmin_mid')).toBeNull();
    expect(hillAlpha(new Float64Array([0, 0, 0, 1]), 'xmin_mid')).toBeNull();
  });

  for (const rule of ['xmin_mid', 'xmin_peak'] as const) {
    it(`matches the numpy reference on every fixture layer (${rule})`, async () => {
      const ours = await analyzeAll({ estimators: 'hill', hillXmin: rule });
      const misses: string[] = [];
      for (const [i, row] of ours.entries()) {
        const ref = reference[i]!;
        expect(row.name).toBe(ref.name);
        const expected = rule === 'xmin_mid' ? ref.alpha_hill_mid : ref.alpha_hill_peak;
        if (!closeRelative(row.alpha_hill, expected, 1e-9))
          misses.push(`${row.name}: ${row.alpha_hill} vs ${expected}`);
      }
      expect(misses).toEqual([]);
    });
  }
});

describe('alpha_farms', () => {
  it('matches the reference-default FARMS within 0.01 on every fixture layer', async () => {
    const ours = await analyzeAll({ estimators: 'farms' });
    const misses: string[] = [];
    for (const [i, row] of ours.entries()) {
      const ref = reference[i]!;
      const ok =
        ref.alpha_farms === null
          ? row.alpha_farms === null
          : typeof row.alpha_farms === 'number' && Math.abs(row.alpha_farms - ref.alpha_farms) <= 0.01;
      if (!ok) misses.push(`${row.name}: ${row.alpha_farms} vs ${ref.alpha_farms}`);
    }
    expect(misses).toEqual([]);
    // FARMS is not plain α or Hill α under another name on these layers.
    const differ = ours.filter(
      (row, i) => Math.abs((row.alpha_farms as number) - reference[i]!.alpha_hill_mid) > 0.05,
    );
    expect(differ.length).toBeGreaterThan(ours.length / 2);
  });
});
