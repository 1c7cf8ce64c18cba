/**
 * Retry by error class and honest checkpoint status, as pure functions: bad input is final at
 * once, infrastructure retries without an attempt limit for the outage budget, a checkpoint with
 * a layer lost to infrastructure is incomplete, failure reasons are one line.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  checkpointCompleteness,
  failureText,
  infrastructureLine,
  isFinalFailureText,
  toActivityFailure,
} from '../../activities/failures.ts';
import { DEFAULT_OUTAGE_BUDGET_MS } from '../../contracts/sweep.ts';
import { BadInputError, FINAL_ERROR_CODES, TransientError } from '../../lib/errors.ts';
import { failureReason } from '../../workflows/failure-reason.ts';
import {
  INFRASTRUCTURE_RETRY,
  NON_RETRYABLE_TYPES,
  outageTolerantOptions,
} from '../../workflows/retry-policy.ts';

const PRISMA_MESSAGE = [
  '',
  'Invalid `prisma.layerResult.upsert()` invocation in',
  '/work/db/results.ts:120:5',
  '',
  '  117 export async function upsertSucceededLayer(',
  '→ 120   await prisma.layerResult.upsert(',
  "Can't reach database server at `127.0.0.1:15532`",
].join('\n');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('retry policy by error class', () => {
  it('the non-retryable list is the final error codes, defined once', () => {
    expect(NON_RETRYABLE_TYPES).toBe(FINAL_ERROR_CODES);
    expect(INFRASTRUCTURE_RETRY.nonRetryableErrorTypes).toEqual(['BadInput', 'Unsupported']);
  });

  it('infrastructure errors retry without an attempt limit, backoff capped, for the outage budget', () => {
    expect(INFRASTRUCTURE_RETRY.maximumAttempts).toBeUndefined();
    expect(INFRASTRUCTURE_RETRY.maximumInterval).toBe('30s');
    expect(DEFAULT_OUTAGE_BUDGET_MS).toBeGreaterThanOrEqual(3600_000);
    const options = outageTolerantOptions(120_000, 600_000, { heartbeatTimeout: '30 seconds' });
    expect(options.startToCloseTimeout).toBe(120_000);
    expect(options.scheduleToCloseTimeout).toBe(720_000);
    expect(options.heartbeatTimeout).toBe('30 seconds');
    expect(outageTolerantOptions(60_000).scheduleToCloseTimeout).toBe(60_000 + DEFAULT_OUTAGE_BUDGET_MS);
  });

  it('activities throw bad input non-retryable by type, infrastructure retryable with one line', () => {
    const bad = thrown(() => toActivityFailure(new BadInputError('NaN in weights', { layer: 'fc1' })));
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect((bad as ApplicationFailure).nonRetryable).toBe(true);
    expect((bad as ApplicationFailure).type).toBe('BadInput');

    const down = new Error(PRISMA_MESSAGE);
    down.name = 'PrismaClientKnownRequestError';
    const infra = thrown(() => toActivityFailure(down)) as ApplicationFailure;
    expect(infra).toBeInstanceOf(ApplicationFailure);
    expect(infra.nonRetryable).toBe(false);
    expect(infra.type).toBe('PrismaClientKnownRequestError');
    expect(infra.message).toBe("Can't reach database server at `127.0.0.1:15532`");
    expect(infra.details).toEqual([PRISMA_MESSAGE]);

    const transient = thrown(() => toActivityFailure(new TransientError('throttled'))) as ApplicationFailure;
    expect(transient.nonRetryable).toBe(false);
    expect(transient.type).toBe('Transient');
  });

  it('stored failure texts are final only for the final codes', () => {
    expect(isFinalFailureText(failureText(new BadInputError('bad shape', { tensor: 'w' })))).toBe(true);
    expect(isFinalFailureText('Unsupported: int4 dtype')).toBe(true);
    expect(isFinalFailureText('Error: connection reset')).toBe(false);
    expect(isFinalFailureText('BadInputish: no')).toBe(false);
    expect(infrastructureLine(new Error(PRISMA_MESSAGE))).toBe(
      "Can't reach database server at `127.0.0.1:15532`",
    );
  });
});

describe('honest checkpoint status', () => {
  it('a layer lost to infrastructure makes the checkpoint incomplete; bad input and skips do not', () => {
    const complete = checkpointCompleteness([
      { status: 'succeeded', error: null },
      { status: 'failed', error: 'BadInput: fc2: NaN in weights' },
      { status: 'skipped', error: 'bias' },
    ]);
    expect(complete).toEqual({ complete: true, layersDone: 1, layersTotal: 2, unfinished: 0 });
    const partial = checkpointCompleteness([
      { status: 'succeeded', error: null },
      { status: 'succeeded', error: null },
      { status: 'failed', error: "PrismaClientKnownRequestError: Can't reach database server" },
    ]);
    expect(partial).toEqual({ complete: false, layersDone: 2, layersTotal: 3, unfinished: 1 });
  });
});

describe('failure reasons are one line with their cause', () => {
  it('a failed child workflow is recorded by its root cause', () => {
    const root = ApplicationFailure.create({
      message: 'S3 unreachable\n  at frame',
      type: 'S3ServiceException',
    });
    const activity = new ActivityFailure(
      'activity failed',
      'analyzeLayerBatch',
      '1',
      RetryState.TIMEOUT,
      '',
      root,
    );
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'c', runId: 'r' },
      'checkpointWorkflow',
      RetryState.NON_RETRYABLE_FAILURE,
      activity,
    );
    expect(failureReason(child)).toBe('S3ServiceException: S3 unreachable');
    expect(failureReason(new Error('\nfirst\nsecond'))).toBe('first');
  });
});

describe('worker drain grace', () => {
  it('--grace takes seconds; an unknown value is an error', async () => {
    const { parseGraceSeconds } = await import('../../cli/commands/worker.ts');
    expect(parseGraceSeconds(undefined)).toBeUndefined();
    expect(parseGraceSeconds('2.5')).toBe(2500);
    expect(parseGraceSeconds('0')).toBe(0);
    for (const bad of ['', 'soon', '-1', '1e9']) expect(() => parseGraceSeconds(bad), bad).toThrow(/--grace/);
  });
});
