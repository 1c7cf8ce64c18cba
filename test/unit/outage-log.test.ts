import { ApplicationFailure, type LogLevel } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { isOutageFailure, OutageReportingLogger } from '../../workers/outage-log.ts';

function setup() {
  const lines: string[] = [];
  const passed: [LogLevel, string][] = [];
  let clock = 1_000;
  const inner = {
    log: (level: LogLevel, message: string) => passed.push([level, message]),
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const logger = new OutageReportingLogger(
    inner,
    (line) => lines.push(line),
    () => clock,
  );
  return { logger, lines, passed, tick: (ms: number) => (clock += ms) };
}

const unreachable = () =>
  ApplicationFailure.create({ message: "Can't reach database server at 127.0.0.1:15662", type: 'Error' });

describe('OutageReportingLogger', () => {
  it('reports an outage once when it starts and once when work succeeds again', () => {
    const { logger, lines, passed, tick } = setup();
    for (let i = 0; i < 12; i++) {
      logger.warn('Activity failed', { error: unreachable() });
      tick(5_000);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^weightlens worker: outage: Can't reach database server/);
    logger.debug('Activity completed', { durationMs: 3 });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      "weightlens worker: outage over after 60.0 s (12 failed attempts retried): Can't reach database server at 127.0.0.1:15662",
    );
    // Attempts are not forwarded; the completion is.
    expect(passed).toEqual([['DEBUG', 'Activity completed']]);
    // A second outage is reported again.
    logger.warn('Activity failed', { error: unreachable() });
    expect(lines).toHaveLength(3);
  });

  it('passes bad input, handed-over work and other messages through unchanged', () => {
    const { logger, lines, passed } = setup();
    const bad = ApplicationFailure.create({ message: 'x', type: 'BadInput', nonRetryable: true });
    const handedOver = ApplicationFailure.create({ message: 'y', type: 'WorkerShutdown' });
    logger.warn('Activity failed', { error: bad });
    logger.warn('Activity failed', { error: handedOver });
    logger.warn('Activity failed', { error: new Error('plain') });
    logger.info('Worker state changed', { state: 'RUNNING' });
    expect(lines).toEqual([]);
    expect(passed.map(([, m]) => m)).toEqual([
      'Activity failed',
      'Activity failed',
      'Activity failed',
      'Worker state changed',
    ]);
    expect(isOutageFailure(unreachable())).toBe(true);
    expect(isOutageFailure(bad)).toBe(false);
  });
});
