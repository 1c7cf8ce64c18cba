/**
 * The worker's log during an outage: one line when activities start failing for an
 * infrastructure reason (database, object store, network) and one when work succeeds again,
 * instead of the SDK's warning with a stack for every retried attempt. A 60 s Postgres outage
 * retries each pending activity six or more times; the operator needs to know that it happened,
 * why, and when it ended. Everything else goes to the wrapped logger unchanged.
 */
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { terminalText } from '../cli/terminal-text.ts';
import { FINAL_ERROR_CODES } from '../lib/errors.ts';

/** Failure types that are not outages: bad input (final) and work handed over by a draining worker. */
const NOT_AN_OUTAGE = new Set<string>([...FINAL_ERROR_CODES, 'WorkerShutdown']);

/** Whether a failed attempt is a retried infrastructure error (the kind an outage produces). */
export function isOutageFailure(error: unknown): boolean {
  if (!(error instanceof ApplicationFailure)) return false;
  return !error.nonRetryable && !NOT_AN_OUTAGE.has(error.type ?? '');
}

export class OutageReportingLogger implements Logger {
  private outage: { since: number; reason: string; attempts: number } | undefined;

  constructor(
    private readonly inner: Logger,
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly now: () => number = Date.now,
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === 'Activity failed' && isOutageFailure(meta?.error)) {
      this.failedAttempt((meta!.error as ApplicationFailure).message);
      return;
    }
    if (message === 'Activity completed' && this.outage) this.recovered();
    this.inner.log(level, message, meta);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  private failedAttempt(reason: string): void {
    if (this.outage) {
      this.outage.attempts += 1;
      return;
    }
    this.outage = { since: this.now(), reason, attempts: 1 };
    this.write(
      terminalText(`weightlens worker: outage: ${reason}; retrying until it is back (reported once)`),
    );
  }

  private recovered(): void {
    const { since, reason, attempts } = this.outage!;
    this.outage = undefined;
    const seconds = ((this.now() - since) / 1000).toFixed(1);
    this.write(
      terminalText(
        `weightlens worker: outage over after ${seconds} s (${attempts} failed attempt${attempts === 1 ? '' : 's'} retried): ${reason}`,
      ),
    );
  }
}
