/**
 * Curvature analysis of one model on one labelled batch: top Hessian eigenvalues (Lanczos by default,
 * PyHessian's power iteration on request), Hutchinson trace, SLQ density and per-layer (block
 * diagonal) traces and top eigenvalues. Pure library: the caller loads the model and the batch
 * (load.ts, data.ts) and picks the backend (backend.ts).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { densityOnGrid, type QuadratureRun, stochasticLanczosQuadrature } from './density.ts';
import { hutchinsonTrace } from './hutchinson.ts';
import { HessianOperator, type HvpEngine, type LabelledBatch } from './hvp.ts';
import { lanczosTopEigenvalues } from './lanczos.ts';
import { buildCurvatureNetwork } from './network.ts';
import { powerIteration } from './power.ts';
import { blockOperator } from './vector.ts';

export interface CurvatureOptions {
  /** Number of top eigenvalues (0 skips). Default 1. */
  topK?: number;
  eigenMethod?: 'lanczos' | 'power';
  /** Lanczos steps for the top-k (default max(2k, k + 20)). */
  lanczosSteps?: number;
  /** Power iteration: PyHessian's maxIter 100, tol 1e-3. */
  powerMaxIter?: number;
  powerTol?: number;
  trace?: boolean;
  /** Hutchinson: PyHessian's rule by default (maxIter 100, tol 1e-3). */
  traceRule?: 'pyhessian' | 'fixed';
  traceMaxProbes?: number;
  traceTol?: number;
  density?: boolean;
  /** SLQ: PyHessian's 100 steps, 1 run. */
  densitySteps?: number;
  densityRuns?: number;
  gridPoints?: number;
  perLayer?: boolean;
  /** Lanczos steps per layer block (default 20). */
  perLayerSteps?: number;
  engine?: HvpEngine;
  chunkSize?: number;
  seed?: number;
  onProgress?: (line: string) => void;
  /** Called after every Hessian-vector product with the running count. */
  onProduct?: (count: number) => void;
}

export interface LayerCurvature {
  name: string;
  parameters: number;
  trace: number;
  traceStandardError: number;
  topEigenvalue: number;
}

export interface CurvatureReport {
  topEigenvalues: number[];
  /** Lanczos residual bounds, or power-iteration counts, for the top eigenvalues. */
  eigenResiduals: number[];
  trace: number | null;
  traceStandardError: number | null;
  traceProbes: number;
  density: { grid: number[]; values: number[]; sigmaSquared: number; quadrature: QuadratureRun[] } | null;
  layers: LayerCurvature[];
  engine: HvpEngine;
  parameters: number;
  samples: number;
  loss: number;
  hessianVectorProducts: number;
  durationMs: number;
}

export async function analyzeCurvature(
  model: LayersModel,
  batch: LabelledBatch,
  options: CurvatureOptions = {},
): Promise<CurvatureReport> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => {});
  const seed = options.seed ?? 1;
  const network = buildCurvatureNetwork(model);
  const op = new HessianOperator(network, batch, {
    engine: options.engine,
    chunkSize: options.chunkSize,
    onProduct: options.onProduct,
  });
  try {
    const topK = options.topK ?? 1;
    let topEigenvalues: number[] = [];
    let eigenResiduals: number[] = [];
    if (topK > 0) {
      if (options.eigenMethod === 'power') {
        const power = await powerIteration(op, {
          topK,
          maxIter: options.powerMaxIter,
          tol: options.powerTol,
          seed,
        });
        topEigenvalues = power.values;
        eigenResiduals = power.iterations;
      } else {
        const top = await lanczosTopEigenvalues(op, topK, { steps: options.lanczosSteps, seed });
        topEigenvalues = top.values;
        eigenResiduals = top.residuals;
      }
      progress(`top eigenvalues: ${topEigenvalues.map((v) => v.toPrecision(6)).join(', ')}`);
    }
    let trace: number | null = null;
    let traceStandardError: number | null = null;
    let traceProbes = 0;
    if (options.trace) {
      const estimate = await hutchinsonTrace(op, {
        rule: options.traceRule,
        maxProbes: options.traceMaxProbes,
        tol: options.traceTol,
        seed: seed + 1,
      });
      trace = estimate.trace;
      traceStandardError = estimate.standardError;
      traceProbes = estimate.probes;
      progress(
        `trace: ${trace.toPrecision(6)} ± ${traceStandardError.toPrecision(2)} (${traceProbes} probes)`,
      );
    }
    let density: CurvatureReport['density'] = null;
    if (options.density) {
      const quadrature = await stochasticLanczosQuadrature(op, {
        steps: options.densitySteps,
        runs: options.densityRuns,
        seed: seed + 2,
      });
      density = { ...densityOnGrid(quadrature, { gridPoints: options.gridPoints }), quadrature };
      progress(`density: ${quadrature.length} SLQ run(s) of ${quadrature[0]?.nodes.length ?? 0} nodes`);
    }
    const layers: LayerCurvature[] = [];
    if (options.perLayer) {
      for (const block of op.blocks) {
        const blockOp = blockOperator(op, block.offset, block.size);
        const top = await lanczosTopEigenvalues(blockOp, 1, { steps: options.perLayerSteps ?? 20, seed });
        const estimate = await hutchinsonTrace(blockOp, {
          rule: options.traceRule,
          maxProbes: options.traceMaxProbes,
          tol: options.traceTol,
          seed: seed + 1,
        });
        layers.push({
          name: block.name,
          parameters: block.size,
          trace: estimate.trace,
          traceStandardError: estimate.standardError,
          topEigenvalue: top.values[0]!,
        });
        progress(
          `layer ${block.name}: top ${top.values[0]!.toPrecision(5)}, trace ${estimate.trace.toPrecision(5)}`,
        );
      }
    }
    return {
      topEigenvalues,
      eigenResiduals,
      trace,
      traceStandardError,
      traceProbes,
      density,
      layers,
      engine: op.engine,
      parameters: op.dim,
      samples: op.sampleCount,
      loss: op.loss(),
      hessianVectorProducts: op.productCount,
      durationMs: Date.now() - started,
    };
  } finally {
    op.dispose();
    network.dispose();
  }
}

/** The CLI/API JSON shape: {"top_eigenvalues", "trace", "density": {grid, values}, "layers": [...]}. */
export function curvatureJson(report: CurvatureReport) {
  return {
    top_eigenvalues: report.topEigenvalues,
    trace: report.trace,
    trace_standard_error: report.traceStandardError,
    density: report.density ? { grid: report.density.grid, values: report.density.values } : null,
    layers: report.layers.map((l) => ({
      name: l.name,
      trace: l.trace,
      top_eigenvalue: l.topEigenvalue,
      parameters: l.parameters,
      trace_standard_error: l.traceStandardError,
    })),
    engine: report.engine,
    parameters: report.parameters,
    samples: report.samples,
    loss: report.loss,
    hessian_vector_products: report.hessianVectorProducts,
    duration_ms: report.durationMs,
  };
}
