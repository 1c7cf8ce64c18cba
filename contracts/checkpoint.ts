/**
 * Contract of the checkpoint workflow (workflows/checkpoint.ts): its input and result, the layer
 * plan the inspect activity returns, and the activities it calls on the `cpu` queue. Payloads are
 * small: a plan lists layers (names, shapes), never weights.
 */
import type { FailureKind } from '../lib/errors.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { LayerType } from '../lib/types.ts';
import type { CurvatureOutcomeKind, SweepCurvature } from './curvature.ts';

/** Deterministic child id: the same checkpoint content under the same configuration dedupes. */
export function checkpointWorkflowId(checkpointId: string, configHash: string): string {
  return `checkpoint-${checkpointId}-${configHash.slice(0, 16)}`;
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
  /** See `SweepTuning.gpuMinDim`; absent (inputs of older sweeps): the default. */
  gpuMinDim?: number;
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

/** The checkpoint workflow's activities on the `cpu` queue (part of `SweepActivities`). */
export interface CheckpointActivities {
  /** Workers polling the gpu queue for activities (activities/gpu-routing.ts). */
  countGpuWorkers(): Promise<{ workers: number }>;
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
  /** `failure`: the kind from the failure's type (stored; reruns keep a final one, retry the rest). */
  recordLayerFailure(input: {
    checkpointId: string;
    configHash: string;
    layer: LayerPlan;
    reason: string;
    failure: FailureKind;
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
    failure: FailureKind;
  }): Promise<{ failed: number }>;
  summarizeCheckpoint(input: {
    sweepId: string;
    checkpointId: string;
    configHash: string;
  }): Promise<CheckpointSummaryOutcome>;
  recordCheckpointFailure(input: { sweepId: string; checkpointId: string; reason: string }): Promise<void>;
}
