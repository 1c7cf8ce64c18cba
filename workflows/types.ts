/**
 * Contracts between the sweep workflows and the activities that serve them. Workflows import only
 * these types (and `@temporalio/workflow`), so the workflow bundle never pulls in I/O code.
 * Every payload here is small: lists of checkpoints live in Postgres and travel as cursors.
 * A sweep's curvature request travels as `SweepCurvature` (data source, method settings and their
 * configHash) to each checkpoint workflow, which asks the cpu queue for a `CurvaturePlan` and runs
 * at most one `GpuActivities.curvatureActivity` on the gpu queue (workflows/curvature.ts).
 */

import type { BackendPreference } from '../lib/curvature/backend.ts';
import type { DataSourceOptions } from '../lib/curvature/batch.ts';
import type { CurvatureOptions } from '../lib/curvature/index.ts';
import type { CompletenessRule } from '../lib/formats/completeness.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { LayerType } from '../lib/types.ts';
import { DEFAULT_OUTAGE_BUDGET_MS } from './retry-policy.ts';

/**
 * Task queues: spectral work and all workflows on `cpu`; curvature on `gpu`, served by
 * `weightlens worker --queue gpu` processes (tfjs-node-gpu when it loads, CPU backends otherwise).
 */
export const TASK_QUEUES = { cpu: 'weightlens-cpu', gpu: 'weightlens-gpu' } as const;
export type QueueKind = keyof typeof TASK_QUEUES;

/** Deterministic child id: the same checkpoint content under the same configuration dedupes. */
export function checkpointWorkflowId(checkpointId: string, configHash: string): string {
  return `checkpoint-${checkpointId}-${configHash.slice(0, 16)}`;
}

export function sweepWorkflowId(sweepId: string): string {
  return `sweep-${sweepId}`;
}

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

/** Knobs of a sweep's fan-out; defaults in `defaultSweepTuning`. */
export interface SweepTuning {
  /** Checkpoint child workflows in flight at once. */
  maxParallelCheckpoints: number;
  /** Layer activities (batches of layers) in flight at once per checkpoint. */
  maxParallelLayers: number;
  /**
   * Estimated eigen-decomposition flops per layer activity: small layers are batched up to this
   * (workflows/layer-batches.ts); 0 = one activity per layer.
   */
  layerBatchFlops: number;
  /** Children started per workflow run before continue-as-new (keeps history bounded). */
  childrenPerRun: number;
  /** Checkpoints fetched from Postgres per page. */
  pageSize: number;
  /**
   * How long an activity keeps retrying infrastructure errors (Postgres, S3, network down) before
   * its layers are given up and the checkpoint recorded `incomplete`.
   */
  outageBudgetMs: number;
}

export const defaultSweepTuning: SweepTuning = {
  maxParallelCheckpoints: 16,
  maxParallelLayers: 32,
  layerBatchFlops: 1e9,
  childrenPerRun: 200,
  pageSize: 100,
  outageBudgetMs: DEFAULT_OUTAGE_BUDGET_MS,
};

/** Counters carried across continue-as-new and exposed by the progress query. */
export interface SweepCounts {
  total: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Checkpoints whose layers did not all finish (not summarized; `sweep resume` finishes them). */
  incomplete: number;
  layersComputed: number;
  layersReused: number;
  layersFailed: number;
  layersSkipped: number;
  curvatureComputed: number;
  curvatureReused: number;
  curvatureSkipped: number;
  curvatureFailed: number;
}

export interface SweepWorkflowInput {
  sweepId: string;
  sources: string[];
  config: AnalysisConfig;
  configHash: string;
  /** Absent (or 'off', as older clients send it): spectral analysis only. */
  curvature?: SweepCurvature | 'off';
  tuning?: Partial<SweepTuning>;
  /** Watched sources (`weightlens watch`): only checkpoints complete under this rule are swept. */
  completeness?: CompletenessRule;
  /** Set by continue-as-new: discovery is done, children resume after `cursor`. */
  carried?: { cursor: string | null; counts: SweepCounts; runs: number; sourceErrors: SourceError[] };
}

export type SweepPhase = 'discovering' | 'analyzing' | 'finishing' | 'completed' | 'cancelled';

export interface SweepProgress extends SweepCounts {
  phase: SweepPhase;
  /** Checkpoint children running now. */
  running: number;
  /** How many times the workflow continued as new. */
  runs: number;
}

export interface SweepWorkflowResult extends SweepCounts {
  /** `completed_with_failures`: some checkpoints are `incomplete`. */
  status: 'completed' | 'completed_with_failures' | 'cancelled';
  sourceErrors: SourceError[];
}

/** One checkpoint as the sweep pages through them (ordered by checkpointId). */
export interface SweepItem {
  checkpointId: string;
  uri: string;
  sizeBytes: number;
}

export interface SourceError {
  source: string;
  error: string;
}

export interface CheckpointWorkflowInput {
  sweepId: string;
  checkpointId: string;
  uri: string;
  config: AnalysisConfig;
  configHash: string;
  maxParallelLayers: number;
  /** See `SweepTuning.layerBatchFlops`; absent (inputs of older sweeps): the default. */
  layerBatchFlops?: number;
  /** See `SweepTuning.outageBudgetMs`; absent (inputs of older sweeps): the default. */
  outageBudgetMs?: number;
  curvature?: SweepCurvature;
}

/** `incomplete`: some layers failed for infrastructure reasons; not summarized, not ranked. */
export type CheckpointStatus = 'succeeded' | 'failed' | 'incomplete';

export interface CheckpointWorkflowResult {
  checkpointId: string;
  status: CheckpointStatus;
  reason?: string;
  layersComputed: number;
  layersReused: number;
  layersFailed: number;
  layersSkipped: number;
  score: number | null;
  /** Absent when the sweep has no curvature. */
  curvature?: CurvatureOutcomeKind;
}

/** An analyzable layer as the inspect activity plans it (no weights, a few hundred bytes). */
export interface LayerPlan {
  layerId: number;
  layerName: string;
  tensorName: string;
  layerType: LayerType;
  /** Canonical shape (see lib/types.ts LayerWeights). */
  shape: number[];
  byteLength: number;
}

export interface CheckpointPlan {
  /** Layers still to compute. */
  layers: LayerPlan[];
  skipped: number;
  /** Layers with a final stored result under this config (reruns schedule no activity for them). */
  reused: number;
  /** Of `reused`, how many are recorded failures (bad input). */
  reusedFailed: number;
  /** The checkpoint row's content hash (keys the ESD objects); absent in plans of older workers. */
  contentHash?: string;
}

export interface LayerTaskInput {
  sweepId: string;
  checkpointId: string;
  uri: string;
  layer: LayerPlan;
  config: AnalysisConfig;
  configHash: string;
}

/** Several layers of one checkpoint in one activity (workflows/layer-batches.ts groups them). */
export interface LayerBatchInput {
  sweepId: string;
  checkpointId: string;
  uri: string;
  /** From `CheckpointPlan.contentHash`: saves the activity a Postgres round trip. */
  contentHash: string;
  layers: LayerPlan[];
  config: AnalysisConfig;
  configHash: string;
}

export interface LayerTaskResult {
  layerName: string;
  status: 'succeeded' | 'failed';
  /** False when an existing result was returned without computing (idempotent rerun). */
  computed: boolean;
  alphaWeighted: number | null;
}

/** A checkpoint with no analyzable layer left (all failed) is itself recorded as failed. */
export interface CheckpointSummaryOutcome {
  status: CheckpointStatus;
  reason?: string;
  score: number | null;
}

export interface DiscoverInput {
  sweepId: string;
  sources: string[];
  /** Watched sources: checkpoints not complete under this rule are left for a later run. */
  completeness?: CompletenessRule;
}

export interface DiscoverResult {
  total: number;
  sourceErrors: SourceError[];
}

/** Activities of the `cpu` queue (activities/index.ts implements them). */
export interface SweepActivities {
  discoverSweep(input: DiscoverInput): Promise<DiscoverResult>;
  listSweepCheckpoints(input: { sweepId: string; after: string | null; limit: number }): Promise<SweepItem[]>;
  finishSweep(input: {
    sweepId: string;
    status: 'completed' | 'completed_with_failures' | 'cancelled' | 'failed';
    error?: string;
  }): Promise<void>;
  inspectCheckpoint(input: {
    sweepId: string;
    checkpointId: string;
    uri: string;
    config: AnalysisConfig;
    configHash: string;
  }): Promise<CheckpointPlan>;
  /** One layer per activity: what checkpoint workflows started before layer batching call. */
  analyzeLayerActivity(input: LayerTaskInput): Promise<LayerTaskResult>;
  /**
   * The layers of a batch in order, one result each; bad input in one layer is recorded as that
   * layer's failed result and the others still run.
   */
  analyzeLayerBatch(input: LayerBatchInput): Promise<LayerTaskResult[]>;
  recordLayerFailure(input: {
    checkpointId: string;
    configHash: string;
    layer: LayerPlan;
    reason: string;
  }): Promise<void>;
  /**
   * A batch whose retries ran out: its layers without a succeeded row are recorded failed (rows an
   * earlier attempt stored stay). Returns how many were recorded failed.
   */
  recordLayerBatchFailure(input: {
    checkpointId: string;
    configHash: string;
    layers: LayerPlan[];
    reason: string;
  }): Promise<{ failed: number }>;
  summarizeCheckpoint(input: {
    sweepId: string;
    checkpointId: string;
    configHash: string;
  }): Promise<CheckpointSummaryOutcome>;
  recordCheckpointFailure(input: { sweepId: string; checkpointId: string; reason: string }): Promise<void>;
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
  }): Promise<void>;
}

/** Activities of the `gpu` queue (activities/curvature.ts implements them). */
export interface GpuActivities {
  curvatureActivity(input: CurvatureActivityInput): Promise<CurvatureActivityOutcome>;
}

export { NON_RETRYABLE_TYPES } from './retry-policy.ts';
