/**
 * Contract of the plan workflow (workflows/plan.ts): a quantization/pruning plan of one checkpoint
 * computed from its stored per-layer results. `preparePlan` finds the checkpoint, records the plan
 * row and says whether the spectral results it needs are stored; when they are not, the workflow
 * runs a one-checkpoint sweep (the sweep and checkpoint workflows) first; `computePlan` then solves
 * and stores the plan (Plan + PlanLayer rows). Payloads carry ids and options, never weights.
 */
import type { DataSourceOptions } from '../lib/curvature/batch.ts';
import type { PlanOptions } from '../lib/plan/plan.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { CurvatureSettings } from './curvature.ts';

export function planWorkflowId(planId: string): string {
  return `plan-${planId}`;
}

/** The sweep a plan runs when the spectral results it reads are missing. */
export function planSweepId(planId: string): string {
  return `plan-${planId}`;
}

export interface PlanWorkflowInput {
  planId: string;
  /** One checkpoint (file:// or s3://, as `normalizeSource` makes it). */
  uri: string;
  options: PlanOptions;
  /** Analysis configuration whose stored α the plan reads (and computes when missing). */
  config: AnalysisConfig;
  configHash: string;
  /**
   * hawq: the curvature run whose per-layer traces the plan reads (reused from Postgres by its
   * configHash, computed on the gpu queue first when missing); zeroq: the inputs its KL is
   * measured on (settings unused). Absent for alpha/uniform.
   */
  curvature?: PlanCurvature;
  /** Where to write the planned checkpoint (safetensors; a file:// or s3:// URI), if anywhere. */
  write?: string;
}

export interface PlanCurvature {
  data: DataSourceOptions;
  settings: CurvatureSettings;
  /** `curvatureConfigHash(data, settings)`: keys the CurvatureResult row the traces come from. */
  configHash: string;
}

/** ZeroQ KL sensitivities by tensor name and bit width (small: layers × widths numbers). */
export type KlTable = Record<string, Record<string, number>>;

export interface PlanWorkflowResult {
  planId: string;
  status: 'succeeded' | 'failed';
  reason?: string;
}

export interface PreparedPlan {
  checkpointId: string;
  /** The checkpoint's uri as discovery names it. */
  uri: string;
  /**
   * `stored`: the results the method reads are in Postgres (or it reads none); `missing`: run the
   * sweep `sweepId` (its row is created) over `uri` first.
   */
  spectral: { action: 'stored' } | { action: 'missing'; sweepId: string };
}

/** The plan workflow's activities on the `cpu` queue (activities/plan.ts implements them). */
export interface PlanActivities {
  preparePlan(input: {
    planId: string;
    workflowId: string;
    uri: string;
    options: PlanOptions;
    config: AnalysisConfig;
    configHash: string;
    curvatureHash?: string;
  }): Promise<PreparedPlan>;
  /**
   * Solve the plan and its budget sweep from the stored inputs (hawq: the CurvatureResult row of
   * `curvatureHash`; zeroq: `kl`); store them; write the planned checkpoint to `write` if given.
   */
  computePlan(input: {
    planId: string;
    checkpointId: string;
    uri: string;
    options: PlanOptions;
    configHash: string;
    curvatureHash?: string;
    kl?: { table: KlTable; source: string };
    write?: string;
  }): Promise<{ layers: number }>;
  recordPlanFailure(input: { planId: string; reason: string }): Promise<void>;
}

/** The plan workflow's activity on the `gpu` queue (tfjs; activities/plan-zeroq.ts implements it). */
export interface PlanGpuActivities {
  /** ZeroQ KL of every planned tensor at every candidate width, on the TF.js model beside `uri`. */
  zeroqActivity(input: {
    uri: string;
    options: PlanOptions;
    data: DataSourceOptions;
  }): Promise<{ table: KlTable; source: string }>;
}

/** Whether a plan reads α (the alpha method, or α-guided pruning). */
export function planNeedsAlpha(options: Pick<PlanOptions, 'method' | 'pruneBy' | 'sparsity'>): boolean {
  if (options.method === 'alpha') return true;
  return (options.sparsity ?? 0) > 0 && options.pruneBy === 'alpha';
}
