/**
 * The exact HVP engine and the Krylov methods against float64 Hessians formed independently:
 * softmax regression in closed form, a tanh MLP by finite differences of an analytic gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { basisTrace, hutchinsonTrace } from '../../../lib/curvature/hutchinson.ts';
import { HessianOperator } from '../../../lib/curvature/hvp.ts';
import { lanczosTopEigenvalues } from '../../../lib/curvature/lanczos.ts';
import { buildCurvatureNetwork } from '../../../lib/curvature/network.ts';
import { powerIteration } from '../../../lib/curvature/power.ts';
import { symmetricEigen } from '../../../lib/curvature/symmetricEigen.ts';
import { SeededRandom } from '../../../lib/curvature/vector.ts';
import { seededProblem, setSeededWeights, softmaxRegression, tanhMlp } from './models.ts';
import {
  finiteDifferenceHessian,
  matVec,
  mlpGradient,
  type Problem,
  relativeError,
  softmaxRegressionHessian,
} from './reference.ts';

beforeAll(async () => {
  await initCurvatureBackend('cpu', () => {});
});

function operatorFor(model: Parameters<typeof buildCurvatureNetwork>[0], p: Problem, chunkSize?: number) {
  const network = buildCurvatureNetwork(model);
  const x = tf.tensor(Float32Array.from(p.x), [p.n, p.d]);
  return new HessianOperator(network, { x, labels: p.labels }, { chunkSize });
}

async function expectAgreement(op: HessianOperator, reference: Float64Array) {
  const dim = op.dim;
  const exact = symmetricEigen(reference, dim).values;
  const top = [exact[dim - 1]!, exact[dim - 2]!, exact[dim - 3]!];
  const exactTrace = exact.reduce((s, x) => s + x, 0);

  const rng = new SeededRandom(3);
  for (let trial = 0; trial < 3; trial++) {
    const v = rng.gaussianVector(dim);
    expect(relativeError(await op.apply(v), matVec(reference, v))).toBeLessThan(1e-4);
  }
  const lanczos = await lanczosTopEigenvalues(op, 3, { steps: dim });
  lanczos.values.forEach((value, i) => {
    expect(Math.abs(value - top[i]!) / Math.abs(top[i]!)).toBeLessThan(1e-3);
  });
  const power = await powerIteration(op, { topK: 1, maxIter: 500, tol: 1e-8 });
  expect(Math.abs(power.values[0]! - top[0]!) / top[0]!).toBeLessThan(1e-3);

  const trace = await basisTrace(op);
  expect(Math.abs(trace.trace - exactTrace) / Math.abs(exactTrace)).toBeLessThan(1e-3);
  const hutchinson = await hutchinsonTrace(op, { rule: 'fixed', maxProbes: 60, seed: 5 });
  expect(Math.abs(hutchinson.trace - exactTrace)).toBeLessThan(5 * hutchinson.standardError);
  return { top, exactTrace, lanczos: lanczos.values, power: power.values[0]!, trace: trace.trace };
}

describe('exact Hessian-vector products', () => {
  it('softmax regression: HVP, top-3 eigenvalues and trace match the closed form', async () => {
    const p = seededProblem(40, 5, 3, 11);
    const model = softmaxRegression(p.d, p.c);
    const theta = setSeededWeights(model, 12);
    const wCount = p.d * p.c;
    const reference = softmaxRegressionHessian(p, theta.subarray(0, wCount), theta.subarray(wCount));
    const op = operatorFor(model, p);
    expect(op.dim).toBe(18);
    await expectAgreement(op, reference);
  });

  it('tanh MLP: matches finite differences of a float64 gradient, also when chunked', async () => {
    const p = seededProblem(30, 4, 3, 21);
    const hidden = 5;
    const model = tanhMlp(p.d, hidden, p.c);
    const theta = setSeededWeights(model, 22);
    const reference = finiteDifferenceHessian((t) => mlpGradient(p, hidden, t), theta);
    await expectAgreement(operatorFor(model, p), reference);
    await expectAgreement(operatorFor(model, p, 7), reference);
  });

  it('finite-difference engine is flagged and close on a smooth model', async () => {
    const p = seededProblem(30, 4, 3, 31);
    const model = tanhMlp(p.d, 5, p.c);
    const theta = setSeededWeights(model, 32);
    const reference = finiteDifferenceHessian((t) => mlpGradient(p, 5, t), theta);
    const network = buildCurvatureNetwork(model);
    const x = tf.tensor(Float32Array.from(p.x), [p.n, p.d]);
    const op = new HessianOperator(network, { x, labels: p.labels }, { engine: 'finite-difference' });
    expect(op.engine).toBe('finite-difference');
    const v = new SeededRandom(4).gaussianVector(op.dim);
    expect(relativeError(await op.apply(v), matVec(reference, v))).toBeLessThan(2e-2);
  });
});
