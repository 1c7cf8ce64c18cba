/**
 * `npm run experiment:esrgan-psnr` — the measured quality of the pretrained ESRGAN series
 * (@upscalerjs/esrgan-slim, -medium, -thick at ×2, ×3, ×4, ×8): every model restores real photos
 * (scikit-learn's china.jpg and flower.jpg, from Debian's python3-sklearn) from a bicubic
 * downscale, and the PSNR of the restoration against the original is measured here, on TF.js's
 * wasm backend. Bicubic upscaling is measured beside the models as the floor a working model
 * beats. Writes docs/experiments/esrgan-psnr.json (read by `npm run experiment:trends` as the
 * series' quality order) and esrgan-psnr.md.
 *
 *   npm run experiment:esrgan-psnr                # 192×192 centre crops (divisible by 2, 3, 4, 8)
 *   npm run experiment:esrgan-psnr -- --crop 240  # larger crops: slower, especially thick ×2
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { ConfigError } from '../lib/errors.ts';
import { createStorage } from '../storage/index.ts';
import { pretrainedPackages } from './pretrained.ts';
import {
  ESRGAN_FAMILIES,
  type EsrganPsnrReport,
  type EsrganSize,
  type PsnrRow,
  SCALES,
} from './sr/esrgan-models.ts';
import { type Image, psnr, toEightBit } from './sr/psnr.ts';
import { initTrainingBackend } from './tfjs-wasm.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKLEARN_IMAGES = '/usr/lib/python3/dist-packages/sklearn/datasets/images';
const IMAGES = ['china.jpg', 'flower.jpg'];
/** RRDN's custom layers, as the thick package defines them: a 0.2 residual scaling and a pixel shuffle. */
function registerThickLayers(): void {
  class MultiplyBeta extends tfl.layers.Layer {
    static className = 'MultiplyBeta';
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 0.2);
    }
  }
  tf.serialization.registerClass(MultiplyBeta);
  for (const scale of SCALES) {
    class PixelShuffle extends tfl.layers.Layer {
      static className = `PixelShuffle${scale}x`;
      override computeOutputShape(shape: tfl.Shape | tfl.Shape[]): tfl.Shape {
        const [b, h, w, c] = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
        const times = (v: number | null) => (v === null ? null : v * scale);
        return [b ?? null, times(h ?? null), times(w ?? null), c == null ? null : c / (scale * scale)];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.depthToSpace((Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D, scale, 'NHWC');
      }
    }
    tf.serialization.registerClass(PixelShuffle);
  }
}

async function centreCrop(file: string, crop: number): Promise<Image> {
  const meta = await sharp(file).metadata();
  if (!meta.width || !meta.height || meta.width < crop || meta.height < crop)
    throw new ConfigError(`${file}: ${meta.width}×${meta.height} is smaller than the ${crop}×${crop} crop`);
  const left = Math.floor((meta.width - crop) / 2);
  const top = Math.floor((meta.height - crop) / 2);
  const rgb = await sharp(file)
    .extract({ left, top, width: crop, height: crop })
    .removeAlpha()
    .raw()
    .toBuffer();
  return { width: crop, height: crop, rgb: new Uint8Array(rgb) };
}

/** Bicubic resampling (libvips' cubic kernel, antialiased when reducing). */
async function resizeCubic(image: Image, size: number): Promise<Image> {
  const rgb = await sharp(Buffer.from(image.rgb as Uint8Array), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(size, size, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: size, height: size, rgb: new Uint8Array(rgb) };
}

async function restore(model: tfl.LayersModel, low: Image, range: number, size: number): Promise<Image> {
  const out = tf.tidy(() => {
    const x = tf.tensor4d(
      Float32Array.from(low.rgb, (v) => (v / 255) * range),
      [1, low.height, low.width, 3],
    );
    const y = model.predict(x);
    return Array.isArray(y) ? y[0]! : y;
  });
  const values = await out.data();
  const shape = out.shape;
  out.dispose();
  if (shape[1] !== size || shape[2] !== size || shape[3] !== 3)
    throw new Error(`${model.name}: output ${shape.join('×')}, expected 1×${size}×${size}×3`);
  return { width: size, height: size, rgb: toEightBit(values, 255 / range) };
}

function measure(reference: Image, restored: Image, scale: number) {
  return {
    psnrY: psnr(reference, restored, { shave: scale, channel: 'y' }),
    psnrRgb: psnr(reference, restored, { shave: scale, channel: 'rgb' }),
  };
}

function renderMarkdown(report: EsrganPsnrReport): string {
  const sizes: (EsrganSize | 'bicubic')[] = ['bicubic', ...ESRGAN_FAMILIES.map((f) => f.size)];
  const cell = (size: string, scale: number, image: string | null) => {
    const rows = report.rows.filter(
      (r) => r.size === size && r.scale === scale && (image === null || r.image === image),
    );
    if (!rows.length) return '–';
    return (rows.reduce((s, r) => s + r.psnrY, 0) / rows.length).toFixed(2);
  };
  const lines = [
    '# ESRGAN slim / medium / thick: PSNR measured here',
    '',
    `Generated by \`${report.command}\` on ${report.generatedAt} (TF.js ${tf.version_core}, ${report.backend} backend). Data: [esrgan-psnr.json](esrgan-psnr.json).`,
    '',
    `Images: ${report.images.join(', ')} (scikit-learn's sample images, Debian python3-sklearn), ${report.crop}×${report.crop} centre crops. ` +
      "Each crop is downscaled by the model's factor with a bicubic kernel (libvips cubic, antialiased), restored by the model, " +
      'rounded to 8 bits and compared with the crop. PSNR (dB) on BT.601 luma with a border of `scale` pixels shaved, as ' +
      'super-resolution papers report it; the JSON also has RGB PSNR. "bicubic" is the downscaled crop upscaled back with the same kernel.',
    '',
    '| model | ×2 | ×3 | ×4 | ×8 |',
    '|---|---|---|---|---|',
    ...sizes.map(
      (size) => `| ${size} (mean of the images) | ${SCALES.map((s) => cell(size, s, null)).join(' | ')} |`,
    ),
    ...report.images.flatMap((image) =>
      sizes.map((size) => `| ${size}, ${image} | ${SCALES.map((s) => cell(size, s, image)).join(' | ')} |`),
    ),
    '',
    `Seconds per restoration (wall, on this shared machine): ${ESRGAN_FAMILIES.map((f) => {
      const rows = report.rows.filter((r) => r.size === f.size);
      return `${f.size} ${(rows.reduce((s, r) => s + r.seconds, 0) / Math.max(1, rows.length)).toFixed(1)}`;
    }).join(', ')}.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      crop: { type: 'string', default: '192' },
      images: { type: 'string', default: SKLEARN_IMAGES },
      out: { type: 'string', default: join(REPO_ROOT, 'docs', 'experiments') },
    },
  });
  const crop = Number(values.crop);
  if (!Number.isInteger(crop) || crop <= 0 || crop % 24 !== 0)
    throw new ConfigError(
      `--crop ${values.crop}: must be a positive multiple of 24 (divisible by every scale)`,
    );
  const files = IMAGES.map((name) => join(values.images, name));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length)
    throw new ConfigError(
      `${absent.join(', ')} not found: \`apt-get install -y python3-sklearn\` (or pass --images <dir>)`,
    );
  await initTrainingBackend('wasm');
  registerThickLayers();
  const storage = createStorage();
  const packages = pretrainedPackages();
  const log = (line: string) =>
    console.log(`[esrgan-psnr ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const rows: PsnrRow[] = [];
  for (const file of files) {
    const image = file.split('/').pop()!;
    const reference = await centreCrop(file, crop);
    for (const scale of SCALES) {
      const low = await resizeCubic(reference, crop / scale);
      const bicubic = await resizeCubic(low, crop);
      rows.push({
        model: 'bicubic',
        size: 'bicubic',
        scale,
        image,
        seconds: 0,
        ...measure(reference, bicubic, scale),
      });
      for (const family of ESRGAN_FAMILIES) {
        const name = `@upscalerjs/esrgan-${family.size}`;
        const pkg = packages.find((p) => p.name === name);
        if (!pkg) throw new ConfigError(`${name} is not in zoo/pretrained-packages.txt`);
        const path = join(pkg.dir, 'models', `x${scale}`, 'model.json');
        if (!existsSync(path))
          throw new ConfigError(`${path} missing: run \`bash zoo/install-pretrained.sh\``);
        const model = await loadLayersModelFromStorage(path, storage);
        const started = performance.now();
        const restored = await restore(model, low, family.range, crop);
        const seconds = (performance.now() - started) / 1000;
        model.dispose();
        const row = {
          model: `${name}@${pkg.version}/models/x${scale}`,
          size: family.size,
          scale,
          image,
          seconds,
          ...measure(reference, restored, scale),
        };
        rows.push(row);
        log(
          `${image} ×${scale} ${family.size}: ${row.psnrY.toFixed(2)} dB (bicubic ${rows.find((r) => r.size === 'bicubic' && r.scale === scale && r.image === image)!.psnrY.toFixed(2)}), ${seconds.toFixed(1)} s`,
        );
      }
    }
  }
  const report: EsrganPsnrReport = {
    generatedAt: new Date().toISOString(),
    command: `npm run experiment:esrgan-psnr${crop === 192 ? '' : ` -- --crop ${crop}`}`,
    crop,
    backend: tf.getBackend(),
    images: IMAGES,
    rows,
  };
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'esrgan-psnr.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(values.out, 'esrgan-psnr.md'), renderMarkdown(report));
  log(`wrote ${join(values.out, 'esrgan-psnr.md')}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
