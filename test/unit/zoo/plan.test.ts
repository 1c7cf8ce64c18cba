import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareWithManifest,
  MANIFEST_PATH,
  type ManifestEntry,
  type TrainedZooManifest,
} from '../../../zoo/manifest.ts';
import { checkpointId, hyperparametersOf, zooPlan } from '../../../zoo/plan.ts';
import { convergedPlan } from '../../../zoo/plan-converged.ts';

describe('zooPlan', () => {
  const ids = zooPlan.flatMap((run) => run.checkpointEpochs.map((epoch) => checkpointId(run, epoch)));

  it('has at least 40 uniquely named checkpoints', () => {
    expect(ids.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is what the committed manifest records: every checkpoint, its hyperparameters, a measured accuracy', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as TrainedZooManifest;
    // The quick zoo in full, then the converged runs that have been trained (cheapest first).
    const converged = convergedPlan.map((run) => checkpointId(run, run.epochs));
    const recorded = manifest.checkpoints.map((c) => c.id);
    expect(recorded.slice(0, ids.length)).toEqual(ids);
    expect(recorded.slice(ids.length)).toEqual(converged.filter((id) => recorded.includes(id)));
    for (const run of [...zooPlan, ...convergedPlan]) {
      for (const entry of manifest.checkpoints.filter((c) => c.run === run.run)) {
        expect(entry.hyperparameters, entry.id).toEqual(hyperparametersOf(run));
        expect(entry.test_accuracy, entry.id).toBeGreaterThan(0);
        expect(entry.test_accuracy, entry.id).toBeLessThanOrEqual(1);
      }
    }
  });

  it('ends every run with a checkpoint of its final epoch', () => {
    for (const run of zooPlan) expect(run.checkpointEpochs.at(-1)).toBe(run.epochs);
  });

  it('varies one hyperparameter per run against its set base', () => {
    const bases = new Map(zooPlan.filter((r) => r.varies === 'base').map((r) => [r.set, r]));
    for (const run of zooPlan.filter((r) => r.varies !== 'base')) {
      const base = bases.get(run.set)!;
      const differs = [
        run.batchSize !== base.batchSize && 'batch_size',
        run.learningRate !== base.learningRate && 'learning_rate',
        run.model.hiddenWidth !== base.model.hiddenWidth && 'width',
        run.model.weightDecay !== base.model.weightDecay && 'weight_decay',
        run.labelNoise !== base.labelNoise && 'label_noise',
      ].filter(Boolean);
      expect(differs).toEqual([run.varies]);
    }
  });

  it('trains the Fashion-MNIST MLP batch-size family first', () => {
    expect(zooPlan.slice(0, 7).map((r) => r.varies)).toEqual(['base', ...new Array(6).fill('batch_size')]);
  });
});

describe('convergedPlan', () => {
  it('trains on the full split less a disjoint hold-out and stops early, one checkpoint per run', () => {
    for (const run of convergedPlan) {
      expect(run.earlyStopping, run.run).toBeDefined();
      expect(run.trainSubsample + run.earlyStopping!.validation).toBe(60_000);
      expect(run.checkpointEpochs).toEqual([run.epochs]);
      expect(checkpointId(run, run.epochs)).toBe(`${run.run}-best`);
      expect(hyperparametersOf(run)).toMatchObject({
        validation_holdout: run.earlyStopping!.validation,
        early_stopping_patience: run.earlyStopping!.patience,
      });
    }
    const names = convergedPlan.map((r) => r.run);
    expect(new Set(names).size).toBe(names.length);
    // Quick-zoo runs record no early-stopping fields (their manifest entries stay as they were).
    for (const run of zooPlan) expect(hyperparametersOf(run)).not.toHaveProperty('early_stopping_patience');
  });

  it('varies only the hidden width within each series, around a base run', () => {
    for (const set of new Set(convergedPlan.map((r) => r.set))) {
      const runs = convergedPlan.filter((r) => r.set === set);
      const base = runs.find((r) => r.varies === 'base')!;
      expect(runs.length).toBeGreaterThanOrEqual(3);
      for (const run of runs.filter((r) => r !== base)) {
        expect(run.varies).toBe('width');
        expect({ ...run, run: '', varies: '', model: { ...run.model, hiddenWidth: 0 } }).toEqual({
          ...base,
          run: '',
          varies: '',
          model: { ...base.model, hiddenWidth: 0 },
        });
      }
    }
  });
});

describe('compareWithManifest', () => {
  const entry = (id: string, accuracy: number): ManifestEntry => ({
    id,
    run: id,
    set: 's',
    varies: 'base',
    epoch: 3,
    step: 1,
    dataset: 'mnist',
    hyperparameters: {},
    test_accuracy: accuracy,
  });
  const manifest: TrainedZooManifest = {
    description: '',
    tfjs: '',
    backend: '',
    checkpoints: [entry('a', 0.8), entry('b', 0.5)],
  };

  it('accepts drift within ±0.5 points and names checkpoints beyond it', () => {
    expect(compareWithManifest(manifest, [entry('a', 0.804), entry('b', 0.496)])).toEqual([]);
    const problems = compareWithManifest(manifest, [entry('a', 0.81), entry('b', 0.5)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^a: 81\.00% vs manifest 80\.00%/);
  });
});
