/**
 * How library errors cross into Temporal: bad input and unsupported formats are data, not outages,
 * so they become non-retryable application failures (typed 'BadInput'/'Unsupported'); transient
 * ones stay retryable. The one-line message keeps its file/tensor/layer context.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CancelledFailure, TemporalFailure } from '@temporalio/common';
import { ConfigError, errorLine, type FailureKind, isBadInput, WeightlensError } from '../lib/errors.ts';

/** "<Code>: <one line>", the text stored in `error` columns (for people; nothing parses it). */
export function failureText(err: unknown): string {
  const code = err instanceof WeightlensError ? err.code : 'Error';
  return `${code}: ${infrastructureLine(err)}`;
}

/**
 * The kind a workflow reported with a failure it records. A task scheduled by workflow code older
 * than the field carries none: recorded as retryable (a rerun recomputes the layer, never loses it).
 */
export function recordedFailure(input: { failure?: FailureKind }): FailureKind {
  return input.failure ?? { kind: 'Unknown', final: false };
}

/** The stored columns of a failure's kind (curvature rows; layer rows go through db/results.ts). */
export function failureColumns(failure: FailureKind): { errorKind: string; errorFinal: boolean } {
  return { errorKind: failure.kind, errorFinal: failure.final };
}

/**
 * One line saying what went wrong. Prisma's messages open with "Invalid `prisma.x()` invocation"
 * and a code frame and end with the cause ("Can't reach database server at …"): keep the cause.
 */
export function infrastructureLine(err: unknown): string {
  if (err instanceof WeightlensError || !(err instanceof Error)) return errorLine(err);
  const lines = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) return err.name;
  if (/^Invalid `.*` invocation/.test(lines[0]!)) return lines[lines.length - 1]!;
  return lines[0]!;
}

/**
 * Whether a checkpoint's stored layer rows make a complete result: `incomplete` when a layer
 * failed for an infrastructure reason (its retries gave out): such a checkpoint is not
 * summarized, so a partial set of layers is never ranked as if it were the whole model.
 */
export function checkpointCompleteness(rows: readonly { status: string; errorFinal: boolean }[]): {
  complete: boolean;
  layersDone: number;
  layersTotal: number;
  unfinished: number;
} {
  const analyzable = rows.filter((r) => r.status !== 'skipped');
  const unfinished = analyzable.filter(
    (r) => r.status !== 'succeeded' && !(r.status === 'failed' && r.errorFinal),
  ).length;
  return {
    complete: unfinished === 0,
    layersDone: analyzable.filter((r) => r.status === 'succeeded').length,
    layersTotal: analyzable.length,
    unfinished,
  };
}

/**
 * Whether a stored layer row is final (reused on reruns) rather than a leftover of an outage: a
 * failure is final by its stored `errorFinal`, whatever its text says.
 */
export function isReusableLayerRow(row: { status: string; errorFinal: boolean }): boolean {
  return (
    row.status === 'succeeded' || row.status === 'skipped' || (row.status === 'failed' && row.errorFinal)
  );
}

/** Failure type of work a draining worker gave up after its shutdown grace. */
export const WORKER_SHUTDOWN_TYPE = 'WorkerShutdown';

/** Retry delay of handed-over work: the retry goes to a worker still polling (this one stopped). */
const HANDOVER_RETRY_DELAY_MS = 100;

/** The SDK cancels running activities with this reason once a worker's shutdown grace is over. */
function isWorkerShutdown(err: unknown): boolean {
  return err instanceof CancelledFailure && err.message === 'WORKER_SHUTDOWN';
}

/** Rethrow `err` as the failure Temporal should see. */
export function toActivityFailure(err: unknown): never {
  if (isBadInput(err)) {
    const typed = err as WeightlensError;
    throw ApplicationFailure.create({
      message: errorLine(err),
      type: typed.code,
      nonRetryable: true,
      details: [typed.context],
      cause: typed,
    });
  }
  if (err instanceof ConfigError) {
    // Retryable: an operator can fix credentials or start a service while the retries run.
    throw ApplicationFailure.create({ message: errorLine(err), type: 'Config', cause: err });
  }
  if (isWorkerShutdown(err)) {
    // Not a cancellation of the work: another worker should take it now, not after the backoff.
    throw ApplicationFailure.create({
      message: 'the worker shut down before this finished; handed to another worker',
      type: WORKER_SHUTDOWN_TYPE,
      nextRetryDelay: HANDOVER_RETRY_DELAY_MS,
    });
  }
  if (err instanceof TemporalFailure || !(err instanceof Error) || err.name === 'AbortError') throw err;
  // Infrastructure (database, object store, network): retryable, one-line message, details kept apart.
  throw ApplicationFailure.create({
    message: infrastructureLine(err),
    type: err instanceof WeightlensError ? err.code : err.name,
    details: [err.message],
  });
}

/** Run an activity body, mapping library errors on the way out. */
export async function mappingFailures<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    return toActivityFailure(err);
  }
}
