/**
 * Contracts between the sweep workflows and the activities that serve them. Workflows import only
 * these types (and `@temporalio/workflow`), so the workflow bundle never pulls in I/O code.
 * Every payload here is small: lists of checkpoints live in Postgres and travel as cursors.
 */

import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { LayerType } from '../lib/types.ts';

/** Task queues: spectral work and all workflows on `cpu`; curvature (GPU backends) on `gpu`. */
export const TASK_QUEUES = { cpu: 'weightlens-cpu', gpu: 'weightlens-gpu' } as const;
export type QueueKind = keyof typeof TASK_QUEUES;

/** Deterministic child id: the same checkpoint content under the same configuration dedupes. */
export function checkpointWorkflowId(checkpointId: string, configHash: string): string {
  return `checkpoint-${checkpointId}-${configHash.slice(0, 16)}`;
}

export function sweepWorkflowId(sweepId: string): string {
  return `sweep-${sweepId}`;
}

/** Whether a sweep also runs curvature; only 'off' is implemented so far (curvature issue). */
export type CurvatureMode = 'off' | 'cpu' | 'gpu';

/** Knobs of a sweep's fan-out; defaults in `defaultSweepTuning`. */
export interface SweepTuning {
  /** Checkpoint child workflows in flight at once. */
  maxParallelCheckpoints: number;
  /** Layer activities in flight at once per checkpoint. */
  maxParallelLayers: number;
  /** Children started per workflow run before continue-as-new (keeps history bounded). */
  childrenPerRun: number;
  /** Checkpoints fetched from Postgres per page. */
  pageSize: number;
}

export const defaultSweepTuning: SweepTuning = {
  maxParallelCheckpoints: 16,
  maxParallelLayers: 32,
  childrenPerRun: 200,
  pageSize: 100,
};

/** Counters carried across continue-as-new and exposed by the progress query. */
export interface SweepCounts {
  total: number;
  started: number;
  succeeded: number;
  failed: number;
  layersComputed: number;
  layersReused: number;
  layersFailed: number;
  layersSkipped: number;
}

export interface SweepWorkflowInput {
  sweepId: string;
  sources: string[];
  config: AnalysisConfig;
  configHash: string;
  curvature: CurvatureMode;
  tuning?: Partial<SweepTuning>;
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
  status: 'completed' | 'cancelled';
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
}

export interface CheckpointWorkflowResult {
  checkpointId: string;
  status: 'succeeded' | 'failed';
  reason?: string;
  layersComputed: number;
  layersReused: number;
  layersFailed: number;
  layersSkipped: number;
  score: number | null;
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
}

export interface LayerTaskInput {
  sweepId: string;
  checkpointId: string;
  uri: string;
  layer: LayerPlan;
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
  status: 'succeeded' | 'failed';
  reason?: string;
  score: number | null;
}

export interface DiscoverInput {
  sweepId: string;
  sources: string[];
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
    status: 'completed' | 'cancelled' | 'failed';
    error?: string;
  }): Promise<void>;
  inspectCheckpoint(input: {
    sweepId: string;
    checkpointId: string;
    uri: string;
    config: AnalysisConfig;
    configHash: string;
  }): Promise<CheckpointPlan>;
  analyzeLayerActivity(input: LayerTaskInput): Promise<LayerTaskResult>;
  recordLayerFailure(input: {
    checkpointId: string;
    configHash: string;
    layer: LayerPlan;
    reason: string;
  }): Promise<void>;
  summarizeCheckpoint(input: {
    sweepId: string;
    checkpointId: string;
    configHash: string;
  }): Promise<CheckpointSummaryOutcome>;
  recordCheckpointFailure(input: { sweepId: string; checkpointId: string; reason: string }): Promise<void>;
}

/**
 * Activities of the `gpu` queue (curvature issue). A sweep option `curvature: 'gpu'` will route a
 * per-checkpoint curvature activity here; until it exists the sweep rejects curvature != 'off'.
 */
// biome-ignore lint/complexity/noBannedTypes: an intentionally empty extension point for the curvature issue.
export type GpuActivities = {};

/** Failure types activities throw as non-retryable (bad input is data, not an outage). */
export const NON_RETRYABLE_TYPES = ['BadInput', 'Unsupported'] as const;
