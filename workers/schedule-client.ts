/**
 * Client side of `weightlens schedule`: Temporal Schedules whose action starts
 * `scheduledSweepWorkflow` (workflows/scheduled-sweep.ts) with the sweep's fixed inputs. Temporal
 * keeps the timing (intervals or cron), overlap ("skip": a run still going makes the next one skip)
 * and a bounded catch-up after downtime; nothing here keeps time itself.
 */
import {
  type Client,
  type ScheduleHandle,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { SweepCurvature } from '../contracts/curvature.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import { SCHEDULE_ID_PREFIX, type ScheduledSweepInput, scheduleId } from '../contracts/schedule.ts';
import type { PrismaClient } from '../db/client.ts';
import { saveScheduleRecord } from '../db/schedules.ts';
import { parseAlertRule } from '../lib/alerts/rules.ts';
import { alertVocabulary } from '../lib/alerts/vocabulary.ts';
import { BadInputError } from '../lib/errors.ts';
import { type CompletenessRule, completenessText } from '../lib/formats/completeness.ts';
import { hashAnalysisConfig } from '../lib/spectral/index.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import type { scheduledSweepWorkflow } from '../workflows/scheduled-sweep.ts';
import { normalizeSource } from './sweep-client.ts';

export type ScheduleTiming = { every: string } | { cron: string };

export interface CreateScheduleOptions {
  name: string;
  sources: string[];
  timing: ScheduleTiming;
  config: AnalysisConfig;
  curvature?: SweepCurvature;
  alerts?: string[];
  webhook?: string;
  /** How far back missed runs are caught up after downtime (Temporal duration); default 1 hour. */
  catchupWindow?: string;
  paused?: boolean;
  /** Watch mode: only checkpoints complete under this rule are swept. */
  completeness?: CompletenessRule;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const DURATION = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/;

export function checkScheduleName(name: string): string {
  if (!NAME.test(name)) {
    throw new BadInputError(
      `schedule name '${name}' must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

export function checkDuration(value: string, option: string): string {
  if (!DURATION.test(value)) {
    throw new BadInputError(`${option} '${value}' is not a duration (e.g. 30s, 5m, 1h, 1d)`);
  }
  return value;
}

function checkWebhook(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadInputError(`--webhook '${url}' is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadInputError(`--webhook '${url}' must be an http:// or https:// URL`);
  }
  return url;
}

/** Everything the schedule's runs receive, checked before anything is created. */
export function scheduledSweepInput(options: CreateScheduleOptions): ScheduledSweepInput {
  checkScheduleName(options.name);
  if (options.sources.length === 0) throw new BadInputError('a schedule needs at least one source');
  const alerts = (options.alerts ?? []).map((text) => parseAlertRule(text, alertVocabulary).text);
  return {
    scheduleName: options.name,
    sources: options.sources.map((s) => normalizeSource(s)),
    config: options.config,
    configHash: hashAnalysisConfig(options.config),
    curvature: options.curvature ?? 'off',
    alerts,
    webhook: options.webhook === undefined ? undefined : checkWebhook(options.webhook),
    completeness: options.completeness,
  };
}

function notFound(name: string): BadInputError {
  return new BadInputError(`no schedule named '${name}' (see: weightlens schedule list)`);
}

/** `act` on the schedule's handle; a schedule Temporal does not know is a BadInputError naming it. */
async function onSchedule<T>(
  client: Client,
  name: string,
  act: (handle: ScheduleHandle) => Promise<T>,
): Promise<T> {
  try {
    return await act(client.schedule.getHandle(scheduleId(name)));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw notFound(name);
    throw err;
  }
}

export async function createSchedule(client: Client, options: CreateScheduleOptions): Promise<string> {
  const input = scheduledSweepInput(options);
  const catchupWindow = checkDuration(options.catchupWindow ?? '1h', '--catchup');
  const spec =
    'every' in options.timing
      ? { intervals: [{ every: checkDuration(options.timing.every, '--every') }] }
      : { cronExpressions: [options.timing.cron] };
  const id = scheduleId(options.name);
  try {
    await client.schedule.create<typeof scheduledSweepWorkflow>({
      scheduleId: id,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledSweepWorkflow',
        workflowId: `weightlens-scheduled-${options.name}`,
        taskQueue: TASK_QUEUES.cpu,
        args: [input],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow },
      state: { paused: options.paused ?? false, note: 'created by weightlens schedule create' },
    });
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/already (exists|running|registered)/i.test(message)) {
      throw new BadInputError(`a schedule named '${options.name}' already exists`);
    }
    if ((err as { code?: number }).code === 3 /* INVALID_ARGUMENT */) {
      throw new BadInputError(`Temporal refused the schedule '${options.name}': ${message}`);
    }
    throw err;
  }
  return id;
}

export interface ScheduleSummary {
  name: string;
  paused: boolean;
  timing: string;
  sources: string[];
  alerts: string[];
  webhook: string | undefined;
  /** Set for watched runs. */
  completeness: string | undefined;
  nextRuns: Date[];
  /** Recent runs, newest last: when they were due and the workflow that ran them. */
  recentRuns: { scheduledAt: Date; startedAt: Date; workflowId: string; runId: string }[];
  runsTaken: number;
  runsSkipped: number;
  note: string | undefined;
}

function timingText(spec: {
  intervals?: { every: unknown }[];
  cronExpressions?: string[];
  calendars?: unknown[];
}): string {
  if (spec.intervals?.length)
    return spec.intervals.map((i) => `every ${formatMs(Number(i.every))}`).join(', ');
  if (spec.cronExpressions?.length) return spec.cronExpressions.map((c) => `cron "${c}"`).join(', ');
  if (spec.calendars?.length) return `${spec.calendars.length} calendar spec(s)`;
  return '—';
}

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Write the schedule's current state to Postgres for the dashboard. */
export async function recordSchedule(
  client: Client,
  prisma: PrismaClient,
  name: string,
): Promise<ScheduleSummary> {
  const s = await describeSchedule(client, name);
  await saveScheduleRecord(prisma, {
    name,
    timing: s.timing,
    sources: s.sources,
    alerts: s.alerts,
    watch: s.completeness,
    webhook: s.webhook,
    paused: s.paused,
    nextRunAt: s.paused ? undefined : s.nextRuns[0],
    lastRunAt: s.recentRuns.at(-1)?.startedAt,
  });
  return s;
}

export async function describeSchedule(client: Client, name: string): Promise<ScheduleSummary> {
  const description = await onSchedule(client, name, (handle) => handle.describe());
  const action = description.action as { args?: unknown[] };
  const input = (action.args?.[0] ?? {}) as Partial<ScheduledSweepInput>;
  return {
    name,
    paused: description.state.paused,
    timing: timingText(description.spec as Parameters<typeof timingText>[0]),
    sources: input.sources ?? [],
    alerts: input.alerts ?? [],
    webhook: input.webhook,
    completeness: input.completeness ? completenessText(input.completeness) : undefined,
    nextRuns: description.info.nextActionTimes,
    recentRuns: description.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt,
      startedAt: a.takenAt,
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
    runsTaken: description.info.numActionsTaken,
    runsSkipped: description.info.numActionsSkippedOverlap,
    note: description.state.note,
  };
}

/** Every weightlens schedule in the namespace, by name. */
export async function listSchedules(client: Client): Promise<ScheduleSummary[]> {
  const names: string[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(SCHEDULE_ID_PREFIX))
      names.push(s.scheduleId.slice(SCHEDULE_ID_PREFIX.length));
  }
  names.sort();
  const out: ScheduleSummary[] = [];
  for (const name of names) {
    try {
      out.push(await describeSchedule(client, name));
    } catch (err) {
      // Deleted between list and describe (visibility lags): not a schedule any more.
      if (!(err instanceof BadInputError)) throw err;
    }
  }
  return out;
}

export async function pauseSchedule(client: Client, name: string, note = 'paused by weightlens') {
  await onSchedule(client, name, (handle) => handle.pause(note));
}

export async function unpauseSchedule(client: Client, name: string, note = 'unpaused by weightlens') {
  await onSchedule(client, name, (handle) => handle.unpause(note));
}

/** Run now (skipped, like a due run, while a run is still going). */
export async function triggerSchedule(client: Client, name: string): Promise<void> {
  await onSchedule(client, name, (handle) => handle.trigger(ScheduleOverlapPolicy.SKIP));
}

export async function deleteSchedule(client: Client, name: string): Promise<void> {
  await onSchedule(client, name, (handle) => handle.delete());
}
