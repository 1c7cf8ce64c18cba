/**
 * The torch float64 reference of the tiny CNN (test/fixtures/gen/curvature_tiny_cnn.py): its
 * weights loaded into `tinyCnn(true)`, its batch, and saving a model as model.json + weights.bin.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';
import { tinyCnn } from './models.ts';

export interface TinyCnnFixture {
  input_shape: number[];
  weights: Record<string, number[]>;
  x: number[];
  y: number[];
  loss: number;
  v: number[];
  hv: number[];
  eigenvalues: number[];
  trace: number;
}

export const fixtureDir = join(import.meta.dirname, '../../fixtures/curvature');
export const fixture = JSON.parse(readFileSync(join(fixtureDir, 'tiny_cnn.json'), 'utf8')) as TinyCnnFixture;

export function fixtureModel(): tfl.Sequential {
  const model = tinyCnn(true);
  // model.weights lists trainable weights first (layer order), then the BatchNorm moving statistics.
  const names = Object.keys(fixture.weights);
  const ordered = [
    ...names.filter((n) => !n.includes('moving')),
    ...names.filter((n) => n.includes('moving')),
  ];
  const values = ordered.map((n) => fixture.weights[n]!);
  expect(model.weights.length).toBe(values.length);
  model.weights.forEach((w, i) => {
    w.write(tf.tensor(values[i]!, w.shape as number[]));
  });
  return model;
}

export function fixtureBatch() {
  return { x: tf.tensor(fixture.x, fixture.input_shape), labels: Int32Array.from(fixture.y) };
}

/** Write a layers model as the TF.js format on disk (model.json + one weights.bin shard). */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}
