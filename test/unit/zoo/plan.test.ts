import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareWithManifest,
  MANIFEST_PATH,
  type ManifestEntry,
  type TrainedZooManifest,
} from '../../../zoo/manifest.ts';
import { checkpointId, hyperparametersOf, zooPlan } from '../../../zoo/plan.ts';

describe('zooPlan', () => {
  const ids = zooPlan.flatMap((run) => run.checkpointEpochs.map((epoch) => checkpointId(run, epoch)));

  it('has at least 40 uniquely named checkpoints', () => {
    expect(ids.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is what the committed manifest records: every checkpoint, its hyperparameters, a measured accuracy', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as TrainedZooManifest;
    expect(manifest.checkpoints.map((c) => c.id)).toEqual(ids);
    for (const run of zooPlan) {
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
