/** One line for a failure coming back from an activity or child workflow. Deterministic, no I/O. */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The root cause's message, prefixed by its failure type ("BadInput: …") when it has one. */
export function failureReason(err: unknown): string {
  let cause: unknown = err;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure)
    return cause.type ? `${cause.type}: ${cause.message}` : cause.message;
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
