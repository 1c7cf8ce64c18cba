/**
 * Recovery of a known power-law exponent: samples and matrices whose ESD is drawn from
 * p(λ) ∝ λ^−α (λ ≥ 1) must give α back within the fit's statistical error.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../lib/random.ts';
import { fitPowerLawWW } from '../../../lib/spectral/fit.ts';
import { analyzeLayer, defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { matrixWithSingularValues } from '../linalg/known-spectrum.ts';

/** Inverse-CDF Pareto samples with density ∝ x^−alpha on [xmin, ∞). */
function paretoSamples(count: number, alpha: number, xmin: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => xmin * (1 - random()) ** (-1 / (alpha - 1)));
}

describe('known-exponent recovery', () => {
  for (const alpha of [2.0, 2.5, 3.5, 5.0]) {
    it(`recovers α = ${alpha} from 20 000 Pareto samples within 3σ`, () => {
      const data = Float64Array.from(paretoSamples(20_000, alpha, 1, 17 + alpha * 10)).sort();
      const fit = fitPowerLawWW(data)!;
      const sigma = (alpha - 1) / Math.sqrt(fit.nTail);
      expect(Math.abs(fit.alpha - alpha)).toBeLessThan(3 * sigma);
      expect(fit.sigma).toBeCloseTo((fit.alpha - 1) / Math.sqrt(fit.nTail), 12);
    });
  }

  it('recovers α = 2.5 from a 600×400 matrix whose ESD is Pareto (full analyzeLayer pipeline)', async () => {
    const alpha = 2.5;
    const evals = paretoSamples(400, alpha, 1, 99);
    const w = matrixWithSingularValues(600, 400, evals.map(Math.sqrt), 5);
    const result = await analyzeLayer(
      { name: 'pareto', layerType: 'dense', shape: [600, 400], data: w },
      defaultAnalysisConfig,
      0,
    );
    const { metrics } = result;
    const sigma = (alpha - 1) / Math.sqrt(metrics.num_pl_spikes);
    expect(Math.abs(metrics.alpha - alpha)).toBeLessThan(3 * sigma);
    // The ESD is exactly the prescribed eigenvalues.
    const sorted = [...evals].sort((a, b) => a - b);
    expect(Math.abs(result.eigenvalues[399]! - sorted[399]!) / sorted[399]!).toBeLessThan(1e-10);
    expect(metrics.warning).toBe('');
  });
});
