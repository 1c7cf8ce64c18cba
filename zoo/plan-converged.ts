/**
 * The converged runs: the zoo's MLP trained on the full training split (55 000 images, 5 000 of
 * the 60 000 held out for early stopping; the official test split is never used for selection)
 * until the validation accuracy stops improving. One series per data set, varying only the hidden
 * width, because width is the hyperparameter whose quality order a converged MLP settles (wider
 * fits better, up to a plateau); the quick zoo's other knobs mostly change how far 3 epochs get.
 * Kept to MLPs of ≤ 256 units: on two shared CPU cores a full-set epoch of the 128-wide MLP
 * takes 0.5–2.5 min (wasm, loaded machine), so the whole plan fits in about an hour.
 *
 *   npm run zoo:train -- --converged
 */
import type { DatasetName } from '../lib/data/datasets.ts';
import type { RunSpec } from './plan.ts';

const VALIDATION = 5_000;
const PATIENCE = 3;
/** Upper bound only: every run so far stopped well before it (see the manifest's epochs). */
const MAX_EPOCHS = 30;

function convergedRun(set: string, dataset: DatasetName, hiddenWidth: number): RunSpec {
  return {
    run: `${set}-w${hiddenWidth}`,
    set,
    varies: hiddenWidth === 128 ? 'base' : 'width',
    dataset,
    model: { architecture: 'mlp', hiddenWidth, weightDecay: 0 },
    batchSize: 64,
    learningRate: 0.02,
    momentum: 0.9,
    epochs: MAX_EPOCHS,
    labelNoise: 0,
    trainSubsample: 60_000 - VALIDATION,
    seed: 1,
    checkpointEpochs: [MAX_EPOCHS],
    earlyStopping: { validation: VALIDATION, patience: PATIENCE },
  };
}

/** Cheapest first, so an interrupted session still leaves a series of three. */
export const convergedPlan: RunSpec[] = [
  ...[32, 64, 128, 256].map((w) => convergedRun('fmnist-mlp-converged', 'fashion-mnist', w)),
  ...[32, 64, 128].map((w) => convergedRun('mnist-mlp-converged', 'mnist', w)),
];
