/** Contract of the scheduled-sweep workflow (workflows/scheduled-sweep.ts): its input and the activities it calls. */
import type { CompletenessRule } from '../lib/formats/completeness.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { SweepCurvature } from './curvature.ts';

/** What a Temporal Schedule's action passes to each run (fixed at `schedule create`). */
export interface ScheduledSweepInput {
  scheduleName: string;
  sources: string[];
  config: AnalysisConfig;
  configHash: string;
  curvature?: SweepCurvature | 'off';
  /** Alert rules as written (validated at creation; re-parsed by the activity). */
  alerts?: string[];
  /** Where fired alerts are POSTed (JSON); absent: stored and shown only. */
  webhook?: string;
  /** A watched training run (`weightlens watch`): sweep only checkpoints complete under this rule. */
  completeness?: CompletenessRule;
}

export interface ScheduledSweepResult {
  sweepId: string;
  /** Alerts newly recorded and delivered by this run (absent without rules). */
  alerts?: { fired: number; delivered: number };
  /** Why evaluating or delivering alerts failed; the hits stay stored for the next run. */
  alertError?: string;
}

export interface RecordScheduledSweepInput {
  scheduleName: string;
  sweepId: string;
  workflowId: string;
  sources: string[];
  config: AnalysisConfig;
  configHash: string;
}

export interface EvaluateAlertsInput {
  scheduleName: string;
  sweepId: string;
  rules: string[];
  webhook?: string;
}

export interface ScheduleActivities {
  recordScheduledSweep(input: RecordScheduledSweepInput): Promise<void>;
  /** Evaluate the rules over every checkpoint the schedule has seen, record new hits, deliver undelivered ones. */
  evaluateScheduleAlerts(input: EvaluateAlertsInput): Promise<{ fired: number; delivered: number }>;
}

/** Schedule ids in Temporal: a prefix keeps weightlens' schedules apart from others in the namespace. */
export const SCHEDULE_ID_PREFIX = 'weightlens-schedule-';
export function scheduleId(name: string): string {
  return `${SCHEDULE_ID_PREFIX}${name}`;
}
