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
  isReusableLayerRow,
  toActivityFailure,
} from '../../activities/failures.ts';
import { DEFAULT_OUTAGE_BUDGET_MS } from '../../contracts/sweep.ts';
import {
  BadInputError,
  ConfigError,
  FINAL_ERROR_CODES,
  failureKindOf,
  TransientError,
  UnsupportedError,
} from '../../lib/errors.ts';
import { failureKind, failureReason } from '../../workflows/failure-reason.ts';
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

  it('a failure is final by its type, whatever its text says', () => {
    expect(failureKindOf(new BadInputError('bad shape', { tensor: 'w' }))).toEqual({
      kind: 'BadInput',
      final: true,
    });
    expect(failureKindOf(new UnsupportedError('int4 dtype'))).toEqual({ kind: 'Unsupported', final: true });
    // Retryable errors whose text reads like bad input: a prefix or regex test of the text called these final.
    expect(failureKindOf(new TransientError('BadInput: the gateway rejected the request'))).toEqual({
      kind: 'Transient',
      final: false,
    });
    expect(failureKindOf(new Error('Unsupported: protocol'))).toEqual({ kind: 'Error', final: false });
    expect(failureKindOf(new ConfigError('TLS: unknown CA'))).toEqual({ kind: 'Config', final: false });
    expect(failureKindOf('BadInput: a thrown string')).toEqual({ kind: 'Error', final: false });
    expect(infrastructureLine(new Error(PRISMA_MESSAGE))).toBe(
      "Can't reach database server at `127.0.0.1:15532`",
    );
  });

  it('the workflow side takes the kind from the root failure type, never from the message', () => {
    const typed = (type: string | undefined, message: string) =>
      new ActivityFailure(
        'activity failed',
        'analyzeLayerBatch',
        '1',
        RetryState.MAXIMUM_ATTEMPTS_REACHED,
        '',
        ApplicationFailure.create({ message, type }),
      );
    expect(failureKind(typed('BadInput', 'w: NaN in weights'))).toEqual({ kind: 'BadInput', final: true });
    expect(failureKind(typed('Unsupported', 'int4'))).toEqual({ kind: 'Unsupported', final: true });
    // No type: failureReason stores the bare message, "BadInput: …", which a text test took as final.
    const untyped = typed(undefined, 'BadInput: proxy said so');
    expect(failureReason(untyped)).toBe('BadInput: proxy said so');
    expect(failureKind(untyped)).toEqual({ kind: 'ApplicationFailure', final: false });
    expect(failureKind(typed('Transient', 'BadInput: upstream'))).toEqual({
      kind: 'Transient',
      final: false,
    });
    expect(failureKind(new Error('Unsupported: x'))).toEqual({ kind: 'Error', final: false });
  });

  it('readers use the stored finality, not the text', () => {
    expect(isReusableLayerRow({ status: 'failed', errorFinal: true })).toBe(true);
    expect(isReusableLayerRow({ status: 'failed', errorFinal: false })).toBe(false);
    // A skipped or succeeded row never carries finality; they are reusable by status.
    expect(isReusableLayerRow({ status: 'skipped', errorFinal: false })).toBe(true);
    expect(failureText(new TransientError('BadInput: x'))).toBe('Transient: BadInput: x');
  });
});

describe('honest checkpoint status', () => {
  it('a layer lost to infrastructure makes the checkpoint incomplete; bad input and skips do not', () => {
    const complete = checkpointCompleteness([
      { status: 'succeeded', errorFinal: false },
      { status: 'failed', errorFinal: true },
      { status: 'skipped', errorFinal: false },
    ]);
    expect(complete).toEqual({ complete: true, layersDone: 1, layersTotal: 2, unfinished: 0 });
    const partial = checkpointCompleteness([
      { status: 'succeeded', errorFinal: false },
      { status: 'succeeded', errorFinal: false },
      { status: 'failed', errorFinal: false },
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
