/**
 * Whole tf.layers networks: a tiny CNN (conv/ReLU/BatchNorm/max-pool/conv/tanh/avg-pool/dense)
 * against torch's float64 Hessian of the same weights and batch (test/fixtures/gen/
 * curvature_tiny_cnn.py), on the cpu and wasm backends; refusal of uncovered layers; loading
 * through storage; analyzeCurvature end to end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { basisTrace } from '../../../lib/curvature/hutchinson.ts';
import { HessianOperator } from '../../../lib/curvature/hvp.ts';
import { analyzeCurvature } from '../../../lib/curvature/index.ts';
import { lanczosTopEigenvalues } from '../../../lib/curvature/lanczos.ts';
import { loadLayersModelFromStorage } from '../../../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../../../lib/curvature/network.ts';
import { UnsupportedError } from '../../../lib/errors.ts';
import { createStorage } from '../../../storage/index.ts';
import { fixture, fixtureBatch, fixtureModel, saveModel } from './fixture.ts';
import { relativeError } from './reference.ts';

describe.each(['cpu', 'wasm'] as const)('tiny CNN vs torch float64 (%s backend)', (backend) => {
  it('HVP, top-3 eigenvalues, trace and loss agree', async () => {
    await initCurvatureBackend(backend, () => {});
    const op = new HessianOperator(buildCurvatureNetwork(fixtureModel()), fixtureBatch());
    expect(op.dim).toBe(fixture.v.length);
    expect(Math.abs(op.loss() - fixture.loss) / fixture.loss).toBeLessThan(1e-5);
    expect(relativeError(await op.apply(Float64Array.from(fixture.v)), fixture.hv)).toBeLessThan(1e-4);
    const top = await lanczosTopEigenvalues(op, 3, { steps: 60 });
    top.values.forEach((value, i) => {
      expect(Math.abs(value - fixture.eigenvalues[i]!) / Math.abs(fixture.eigenvalues[i]!)).toBeLessThan(
        1e-3,
      );
    });
    const trace = await basisTrace(op);
    expect(Math.abs(trace.trace - fixture.trace) / Math.abs(fixture.trace)).toBeLessThan(1e-3);
    op.dispose();
  });
});

describe('networks the exact engine refuses', () => {
  const cases: [string, () => tfl.Sequential][] = [
    [
      'elu activation',
      () =>
        tfl.sequential({
          layers: [tfl.layers.dense({ inputShape: [3], units: 2, activation: 'elu', name: 'bad_dense' })],
        }),
    ],
    [
      'overlapping max-pool',
      () =>
        tfl.sequential({
          layers: [
            tfl.layers.maxPooling2d({ inputShape: [6, 6, 1], poolSize: 3, strides: 1, name: 'bad_pool' }),
            tfl.layers.flatten(),
            tfl.layers.dense({ units: 2, activation: 'softmax' }),
          ],
        }),
    ],
    [
      'dilated conv',
      () =>
        tfl.sequential({
          layers: [
            tfl.layers.conv2d({
              inputShape: [6, 6, 1],
              filters: 2,
              kernelSize: 2,
              dilationRate: 2,
              name: 'bad_conv',
            }),
            tfl.layers.flatten(),
            tfl.layers.dense({ units: 2, activation: 'softmax' }),
          ],
        }),
    ],
    [
      'embedding',
      () =>
        tfl.sequential({
          layers: [
            tfl.layers.embedding({ inputDim: 5, outputDim: 2, inputLength: 3, name: 'bad_embedding' }),
          ],
        }),
    ],
  ];
  it.each(cases)('%s: UnsupportedError naming the layer', async (_label, make) => {
    await initCurvatureBackend('cpu', () => {});
    let caught: unknown;
    try {
      buildCurvatureNetwork(make());
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsupportedError);
    expect((caught as UnsupportedError).context.layer).toMatch(/^bad_/);
  });
});

describe('loading and end-to-end analysis', () => {
  it('loads a saved model through storage and analyses it', async () => {
    await initCurvatureBackend('cpu', () => {});
    const dir = mkdtempSync(join(tmpdir(), 'curvature-model-'));
    await saveModel(fixtureModel(), dir);
    const model = await loadLayersModelFromStorage(`file://${dir}`, createStorage());
    const report = await analyzeCurvature(model, fixtureBatch(), {
      topK: 2,
      lanczosSteps: 60,
      trace: true,
      traceRule: 'fixed',
      traceMaxProbes: 12,
      density: true,
      densitySteps: 20,
      gridPoints: 500,
      perLayer: true,
      perLayerSteps: 10,
    });
    expect(
      Math.abs(report.topEigenvalues[0]! - fixture.eigenvalues[0]!) / fixture.eigenvalues[0]!,
    ).toBeLessThan(1e-3);
    expect(Math.abs(report.trace! - fixture.trace)).toBeLessThan(5 * report.traceStandardError!);
    expect(report.layers.map((l) => l.name)).toEqual(
      model.layers.filter((l) => l.trainableWeights.length > 0).map((l) => l.name),
    );
    expect(report.layers.reduce((s, l) => s + l.parameters, 0)).toBe(report.parameters);
    for (const layer of report.layers)
      expect(layer.topEigenvalue).toBeLessThanOrEqual(report.topEigenvalues[0]! * (1 + 1e-3));
    const dx = report.density!.grid[1]! - report.density!.grid[0]!;
    expect(report.density!.values.reduce((a, b) => a + b, 0) * dx).toBeCloseTo(1, 6);
  });
});
