import { describe, expect, it } from 'vitest';
import { bruteThenFmin, fminNelderMead, mgrid } from '../../../lib/spectral/nelder-mead.ts';
import { esdPlotSvg } from '../../../lib/spectral/plot-svg.ts';
import { jensenShannonDistance } from '../../../lib/spectral/randomize.ts';
import { logUpperGamma } from '../../../lib/spectral/tpl.ts';
import type { LayerAnalysis, LayerMetrics } from '../../../lib/spectral/types.ts';

describe('logUpperGamma', () => {
  it('matches closed forms: Γ(0, z) = E1(z), Γ(−1, z) = e^−z/z − E1(z)', () => {
    const e1At1 = 0.21938393439552029;
    const e1At01 = 1.8229239584193906;
    expect(Math.exp(logUpperGamma(0, 1))).toBeCloseTo(e1At1, 12);
    expect(Math.exp(logUpperGamma(0, 0.1))).toBeCloseTo(e1At01, 11);
    expect(Math.exp(logUpperGamma(-1, 1))).toBeCloseTo(Math.exp(-1) - e1At1, 12);
    // Γ(−1, 0.1) = e^−0.1/0.1 − E1(0.1)
    const expected = Math.exp(-0.1) / 0.1 - e1At01;
    expect(Math.abs(Math.exp(logUpperGamma(-1, 0.1)) - expected) / expected).toBeLessThan(1e-11);
  });
});

describe('Nelder–Mead (scipy fmin semantics)', () => {
  it('minimizes the Rosenbrock function to fmin tolerance', () => {
    const rosenbrock = ([x, y]: number[]) => (1 - x!) ** 2 + 100 * (y! - x! * x!) ** 2;
    const result = fminNelderMead(rosenbrock, [-1.2, 1]);
    expect(result.x[0]).toBeCloseTo(1, 3);
    expect(result.x[1]).toBeCloseTo(1, 3);
    expect(result.evaluations).toBeLessThanOrEqual(400);
  });

  it('brute grid + finish like scipy.optimize.brute, with numpy.mgrid point counts', () => {
    expect(mgrid(0, 1, 0.25)).toEqual([0, 0.25, 0.5, 0.75]);
    expect(mgrid(0.05, 2, 0.01)).toHaveLength(195);
    const { x } = bruteThenFmin((s) => (s - 0.731) ** 2, mgrid(0, 2, 0.1));
    expect(x).toBeCloseTo(0.731, 3);
  });
});

describe('jensenShannonDistance', () => {
  it('is 0 for identical vectors, symmetric, and ≤ √ln2', () => {
    const p = Float64Array.from([1, 2, 3, 4]);
    const q = Float64Array.from([4, 1, 1, 1]);
    expect(jensenShannonDistance(p, p)).toBeCloseTo(0, 12);
    expect(jensenShannonDistance(p, q)).toBeCloseTo(jensenShannonDistance(q, p), 14);
    expect(jensenShannonDistance(Float64Array.from([1, 0]), Float64Array.from([0, 1]))).toBeCloseTo(
      Math.sqrt(Math.LN2),
      12,
    );
  });
});

describe('esdPlotSvg', () => {
  it('draws the histogram, the power-law line and xmin', () => {
    const eigenvalues = Float64Array.from(
      { length: 200 },
      (_, i) => 0.5 + i * 0.05 + (i > 180 ? i : 0),
    ).sort();
    const metrics = {
      name: 'layer<1>',
      alpha: 2.5,
      D: 0.05,
      xmin: 8,
      num_pl_spikes: 40,
      N: 400,
      M: 200,
      Q: 2,
    } as unknown as LayerMetrics;
    const svg = esdPlotSvg({ metrics, eigenvalues, durationMs: 0 } as LayerAnalysis);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('<rect x=');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('>xmin<');
    expect(svg).toContain('layer&#60;1&#62;');
  });
});
