/**
 * Contract of the sweep workflow (workflows/sweep.ts): its input, tuning, progress and result, and
 * the activities of the `cpu` queue (activities/index.ts implements them). Lists of checkpoints
 * live in Postgres and travel as cursors, so every payload is small.
 */

import type { CompletenessRule } from '../lib/formats/completeness.ts';
import { CUDA_MIN_DIM } from '../lib/linalg/thresholds.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { CheckpointActivities } from './checkpoint.ts';
import type { CurvatureCpuActivities, SweepCurvature } from './curvature.ts';

/** How long an activity keeps retrying infrastructure errors before it is given up: 6 hours. */
export const DEFAULT_OUTAGE_BUDGET_MS = 6 * 3600_000;

export function sweepWorkflowId(sweepId: string): string {
  return `sweep-${sweepId}`;
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
  /**
   * Layers whose matrices are at least this large on their smaller side run on the gpu queue when
   * gpu workers poll it (workflows/layer-batches.ts planLayerRoutes); 0 keeps every layer on cpu.
   */
  gpuMinDim: number;
}

export const defaultSweepTuning: SweepTuning = {
  maxParallelCheckpoints: 16,
  maxParallelLayers: 32,
  layerBatchFlops: 1e9,
  childrenPerRun: 200,
  pageSize: 100,
  outageBudgetMs: DEFAULT_OUTAGE_BUDGET_MS,
  gpuMinDim: CUDA_MIN_DIM,
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

/** Every counter at zero: where a new sweep starts. */
export function emptySweepCounts(): SweepCounts {
  return {
    total: 0,
    started: 0,
    succeeded: 0,
    failed: 0,
    incomplete: 0,
    layersComputed: 0,
    layersReused: 0,
    layersFailed: 0,
    layersSkipped: 0,
    curvatureComputed: 0,
    curvatureReused: 0,
    curvatureSkipped: 0,
    curvatureFailed: 0,
  };
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

/** Activities of the `cpu` queue: the sweep's own, and those of the checkpoint and curvature steps. */
export interface SweepActivities extends CheckpointActivities, CurvatureCpuActivities {
  discoverSweep(input: DiscoverInput): Promise<DiscoverResult>;
  listSweepCheckpoints(input: { sweepId: string; after: string | null; limit: number }): Promise<SweepItem[]>;
  finishSweep(input: {
    sweepId: string;
    status: 'completed' | 'completed_with_failures' | 'cancelled' | 'failed';
    error?: string;
  }): Promise<void>;
}
