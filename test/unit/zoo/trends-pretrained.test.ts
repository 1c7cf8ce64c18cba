import { describe, expect, it } from 'vitest';
import type { EsrganPsnrReport } from '../../../zoo/sr/esrgan-models.ts';
import type { MetricValues } from '../../../zoo/trends/analysis.ts';
import {
  meanPsnr,
  type PretrainedSeries,
  pretrainedSeries,
  seriesCorrelations,
} from '../../../zoo/trends/pretrained-series.ts';
import {
  paperComparison,
  renderPretrainedSection,
  seriesTally,
  seriesVerdict,
} from '../../../zoo/trends/report-pretrained.ts';

const psnrReport: EsrganPsnrReport = {
  generatedAt: '2026-12-02T00:00:00.000Z',
  command: 'npm run experiment:esrgan-psnr',
  crop: 192,
  backend: 'wasm',
  images: ['a.jpg', 'b.jpg'],
  rows: [2, 3, 4, 8].flatMap((scale) =>
    (['bicubic', 'slim', 'medium', 'thick'] as const).flatMap((size, k) =>
      ['a.jpg', 'b.jpg'].map((image, i) => ({
        model: size,
        size,
        scale,
        image,
        psnrY: 30 - scale + k + i,
        psnrRgb: 0,
        seconds: 0,
      })),
    ),
  ),
};

/** Two series where α falls with quality (the theory's way) and log_norm rises with it. */
function fixture(): { series: PretrainedSeries[]; rows: Map<string, MetricValues> } {
  const series: PretrainedSeries[] = [
    {
      series: 'three',
      quality: 'q',
      source: 's',
      members: [1, 2, 3].map((q) => ({ name: `m${q}`, path: `/m${q}`, quality: q })),
    },
    {
      series: 'two',
      quality: 'q',
      source: 's',
      members: [1, 2].map((q) => ({ name: `n${q}`, path: `/n${q}`, quality: q })),
    },
  ];
  const rows = new Map<string, MetricValues>();
  for (const q of [1, 2, 3]) rows.set(`/m${q}`, { alpha: 5 - q, log_norm: q, alpha_farms: 4 - q });
  rows.set('/n1', { alpha: 3, log_norm: 1, alpha_farms: 2 });
  // n2 has no pipeline result: the series keeps one measured member.
  return { series, rows };
}

describe('pretrained series', () => {
  it('defines the published series and one ESRGAN series per scale from the measured PSNR', () => {
    const withPsnr = pretrainedSeries(psnrReport).map((s) => s.series);
    expect(withPsnr).toEqual([
      'efficientnet-lite',
      'blazepose',
      'movenet',
      'esrgan-x2',
      'esrgan-x3',
      'esrgan-x4',
      'esrgan-x8',
    ]);
    expect(pretrainedSeries(null).map((s) => s.series)).toEqual([
      'efficientnet-lite',
      'blazepose',
      'movenet',
    ]);
    const x4 = pretrainedSeries(psnrReport).find((s) => s.series === 'esrgan-x4')!;
    expect(x4.members.map((m) => [m.name, m.quality])).toEqual([
      ['slim', 27.5],
      ['medium', 28.5],
      ['thick', 29.5],
    ]);
    expect(meanPsnr(psnrReport, 'bicubic', 8)).toBe(22.5);
    const lite = pretrainedSeries(null)[0]!;
    expect(lite.members.map((m) => m.quality)).toEqual([75.1, 76.7, 77.6]);
  });

  it('correlates each metric with quality within a series, with the expected direction', () => {
    const { series, rows } = fixture();
    const [three, two] = seriesCorrelations(series, rows, ['alpha', 'log_norm', 'alpha_farms']);
    const alpha = three!.correlations.find((c) => c.metric === 'alpha')!;
    expect(alpha.tau).toBeCloseTo(-1, 12);
    expect(seriesVerdict(alpha)).toBe('agrees');
    expect(seriesVerdict(three!.correlations.find((c) => c.metric === 'log_norm'))).toBe('opposite');
    expect(two!.members.map((m) => m.metrics !== null)).toEqual([true, false]);
    expect(seriesVerdict(two!.correlations[0])).toBe('none');
    const tally = seriesTally([three!, two!], ['alpha', 'log_norm']);
    expect(tally).toEqual([
      { metric: 'alpha', agrees: 1, opposite: 0, untested: 1, meanAlignedTau: 1 },
      { metric: 'log_norm', agrees: 0, opposite: 1, untested: 1, meanAlignedTau: -1 },
    ]);
  });

  it('states per series what orders it and what reverses it', () => {
    const { series, rows } = fixture();
    const results = seriesCorrelations(series, rows, ['alpha', 'log_norm', 'alpha_farms']);
    const text = renderPretrainedSection(results, ['alpha', 'log_norm', 'alpha_farms'], 'sweep-x', []).join(
      '\n',
    );
    expect(text).toContain('(sweep `sweep-x`)');
    expect(text).toMatch(
      /\*\*three\*\* \(n=3\): ordered as HT-SR predicts by alpha \(τ=-1\.00\), alpha_farms \(τ=-1\.00\); \*\*reversed\*\* by log_norm/,
    );
    expect(text).toMatch(/\*\*two\*\*: 1 of 2 members have a pipeline result/);
    expect(text).toMatch(/FARMS and plain α order these series equally well/);
    expect(text).toContain('| n2 | 2.00 | no result |');
  });

  it("restates Martin, Peng & Mahoney's within-series claims on the series, from the numbers", () => {
    const { series, rows } = fixture();
    // alpha_weighted rises with quality in `three` (reversed), log_spectral_norm falls (agrees).
    for (const q of [1, 2, 3])
      Object.assign(rows.get(`/m${q}`)!, { alpha_weighted: q, log_spectral_norm: -q });
    const results = seriesCorrelations(series, rows, [
      'alpha',
      'alpha_weighted',
      'log_norm',
      'log_spectral_norm',
    ]);
    const [line] = paperComparison(results);
    // Norms: log_norm τ·sign −1, log_spectral_norm +1 → mean 0.00; power law: alpha_weighted −1 (log_alpha_norm absent).
    expect(line).toContain('over our 2 series mean τ·sign = 0.00 (**fails**)');
    expect(line).toContain('mean τ·sign = -1.00 (**fails**, worse than the norms)');
    expect(line).toContain('plain α: 1.00 (holds)');
    expect(line).toContain('alpha_weighted reverses the quality order in 1 of 2 series (three).');
  });
});
