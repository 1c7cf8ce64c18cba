/** One line for a failure coming back from an activity or child workflow. Deterministic, no I/O. */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import { type FailureKind, isFinalErrorKind } from '../lib/errors.ts';

function rootCause(err: unknown): unknown {
  let cause: unknown = err;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause)
    cause = cause.cause;
  return cause;
}

/**
 * The root cause's kind, from its type: an application failure's type (the typed error's code,
 * BadInput/Unsupported final), a timeout's or other Temporal failure's class name (never final).
 */
export function failureKind(err: unknown): FailureKind {
  const cause = rootCause(err);
  const kind =
    cause instanceof ApplicationFailure && cause.type
      ? cause.type
      : cause instanceof Error
        ? cause.name
        : 'Error';
  return { kind, final: isFinalErrorKind(kind) };
}

/**
 * The root cause's first line, prefixed by its failure type ("BadInput: …") when it has one: a
 * failed child workflow or activity is recorded by what made it fail, never as "Child Workflow
 * execution failed", and multi-line messages (Prisma's code frames) keep only their first line.
 */
export function failureReason(err: unknown): string {
  const cause = rootCause(err);
  if (cause instanceof ApplicationFailure)
    return cause.type ? `${cause.type}: ${firstLine(cause.message)}` : firstLine(cause.message);
  if (cause instanceof Error) return firstLine(cause.message);
  return firstLine(String(cause));
}

function firstLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ?? text.trim();
}
