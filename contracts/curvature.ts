/**
 * Contract of a checkpoint's curvature step (workflows/curvature.ts): a sweep's curvature request
 * travels as `SweepCurvature` (data source, method settings and their configHash) to each checkpoint
 * workflow, which asks the cpu queue for a `CurvaturePlan` and runs at most one
 * `GpuActivities.curvatureActivity` on the gpu queue.
 */
import type { BackendPreference } from '../lib/curvature/backend.ts';
import type { DataSourceOptions } from '../lib/curvature/batch.ts';
import type { CurvatureOptions } from '../lib/curvature/index.ts';
import type { FailureKind } from '../lib/errors.ts';

/**
 * Whether a sweep also runs curvature, and on which backends. Both 'gpu' and 'cpu' schedule one
 * curvature activity per checkpoint on the `gpu` task queue (curvature re-registers tfjs gradients
 * globally, so it lives in its own worker processes): 'gpu' lets the worker use tfjs-node-gpu when
 * it loads (falling back to wasm/cpu), 'cpu' keeps it on the CPU backends (wasm, then pure JS).
 */
export type CurvatureMode = 'off' | 'cpu' | 'gpu';

/** The options that change a curvature result (and so its configHash); callbacks excluded. */
export type CurvatureSettings = Omit<CurvatureOptions, 'onProgress' | 'onProduct'>;

/** A sweep's curvature request, as the client resolved it (paths made absolute, hash computed). */
export interface SweepCurvature {
  mode: Exclude<CurvatureMode, 'off'>;
  data: DataSourceOptions;
  settings: CurvatureSettings;
  /** `curvatureConfigHash(data, settings)`: keys CurvatureResult rows with the checkpoint id. */
  configHash: string;
}

/** What the checkpoint workflow did about curvature (counted per sweep). */
export type CurvatureOutcomeKind = 'computed' | 'reused' | 'skipped' | 'failed';

/**
 * The cpu-queue decision before any gpu work: `skip` (no differentiable model next to the
 * checkpoint; the reason is recorded), `reuse` (a final row exists under this configHash) or
 * `compute` (with the size of the model, to size the activity's timeout).
 */
export type CurvaturePlan =
  | { action: 'skip'; reason: string }
  | { action: 'reuse'; status: 'succeeded' | 'failed' }
  | { action: 'compute'; modelUri: string; parameters: number | null; weightTensors: number | null };

export interface CurvatureActivityInput {
  checkpointId: string;
  /** The model.json, or the directory/prefix holding it. */
  uri: string;
  data: DataSourceOptions;
  settings: CurvatureSettings;
  /** Unset: the worker's choice (WEIGHTLENS_TF_BACKEND, else tfjs-node-gpu when it loads). */
  backend?: BackendPreference;
}

export interface CurvatureActivityOutcome {
  status: 'succeeded' | 'cached' | 'failed';
  configHash: string;
  topEigenvalues: number[];
  trace: number | null;
  error?: string;
}

/** The curvature step's activities on the `cpu` queue (part of `SweepActivities`). */
export interface CurvatureCpuActivities {
  /** Cheap cpu-queue check before curvature: model.json present? final row stored? */
  planCurvature(input: {
    checkpointId: string;
    uri: string;
    configHash: string;
    data: DataSourceOptions;
  }): Promise<CurvaturePlan>;
  /** A curvature activity that failed for good (retries exhausted, timeouts), recorded on its row. */
  recordCurvatureFailure(input: {
    checkpointId: string;
    configHash: string;
    data: DataSourceOptions;
    reason: string;
    failure: FailureKind;
  }): Promise<void>;
}

/** Activities of the `gpu` queue (activities/curvature.ts implements them). */
export interface GpuActivities {
  curvatureActivity(input: CurvatureActivityInput): Promise<CurvatureActivityOutcome>;
}
