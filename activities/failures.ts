/**
 * How library errors cross into Temporal: bad input and unsupported formats are data, not outages,
 * so they become non-retryable application failures (typed 'BadInput'/'Unsupported'); transient
 * ones stay retryable. The one-line message keeps its file/tensor/layer context.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ConfigError, errorLine, isBadInput, WeightlensError } from '../lib/errors.ts';

/** "<Code>: <one line>", the form stored in `error` columns (reruns read the code back). */
export function failureText(err: unknown): string {
  const code = err instanceof WeightlensError ? err.code : 'Error';
  return `${code}: ${errorLine(err)}`;
}

/** Stored failures with these codes are final: a rerun returns them instead of retrying. */
export function isFinalFailureText(text: string | null): boolean {
  return text !== null && /^(BadInput|Unsupported):/.test(text);
}

/** Whether a stored layer row is final (reused on reruns) rather than a leftover of an outage. */
export function isReusableLayerRow(row: { status: string; error: string | null }): boolean {
  return row.status === 'succeeded' || row.status === 'skipped' || isFinalFailureText(row.error);
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
  throw err;
}

/** Run an activity body, mapping library errors on the way out. */
export async function mappingFailures<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    return toActivityFailure(err);
  }
}
