/**
 * Retry policies by error class, shared by every workflow. Bad input (FINAL_ERROR_CODES) fails at
 * once; everything else is treated as infrastructure (database, object store, network, timeouts)
 * and retried with capped exponential backoff, without an attempt limit, for as long as the
 * sweep's outage budget: a Postgres or S3 outage of minutes or hours delays a layer, it never
 * fails it. Pure and deterministic (workflow code).
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { DEFAULT_OUTAGE_BUDGET_MS } from '../contracts/sweep.ts';
import { FINAL_ERROR_CODES } from '../lib/errors.ts';

/** Failure types activities throw as non-retryable (bad input is data, not an outage). */
export const NON_RETRYABLE_TYPES = FINAL_ERROR_CODES;

/** Backoff between attempts: 1 s doubling, at most 30 s, so a restored service is used within 30 s. */
export const INFRASTRUCTURE_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
};

/** Retries of a gpu-queue activity (a long computation): three attempts, 5 s doubling to a minute. */
export const GPU_RETRY: RetryPolicy = {
  initialInterval: '5s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 3,
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
};

/**
 * Options of an activity that retries infrastructure errors through an outage of up to
 * `outageBudgetMs` (on top of the longest single attempt, `startToCloseTimeoutMs`).
 */
export function outageTolerantOptions(
  startToCloseTimeoutMs: number,
  outageBudgetMs: number = DEFAULT_OUTAGE_BUDGET_MS,
  extra: Omit<ActivityOptions, 'retry' | 'startToCloseTimeout' | 'scheduleToCloseTimeout'> = {},
): ActivityOptions {
  return {
    ...extra,
    startToCloseTimeout: startToCloseTimeoutMs,
    scheduleToCloseTimeout: startToCloseTimeoutMs + Math.max(0, outageBudgetMs),
    retry: INFRASTRUCTURE_RETRY,
  };
}
