/**
 * Issue 18.6: every printer that shows a name from a checkpoint (schedule, curvature and worker
 * output, the sweep's curvature table, the shared fixed-width table) writes no raw control
 * character: a crafted tensor or file name reaches the terminal as visible escapes.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { formatCurvatureTable } from '../../../cli/commands/curvature.ts';
import { formatTable } from '../../../cli/commands/leaderboard.ts';
import { formatScheduleDescription } from '../../../cli/commands/schedule.ts';
import { formatSweepCurvature } from '../../../cli/commands/sweep-curvature.ts';
import type { CurvatureReport } from '../../../lib/curvature/index.ts';
import { OutageReportingLogger } from '../../../workers/outage-log.ts';
import { formatLogEntry } from '../../../workers/terminal-log.ts';

/** A tensor name that retitles the window, clears the screen, hides text behind a CR and reverses. */
const HOSTILE = 'fc\u001b]0;pwned\u0007\u001b[2J\rhidden\u009b31m\u202e.weight';
const ESCAPED = 'fc\\x1b]0;pwned\\x07\\x1b[2J\\x0dhidden\\x9b31m\\u202e.weight';

/** Characters a terminal acts on, other than the printer's own line breaks. */
function rawControls(text: string): string[] {
  return [...text].filter(
    (ch) =>
      ch !== '\n' &&
      (ch < ' ' || (ch >= '\u007f' && ch <= '\u009f') || /[\u202a-\u202e\u2066-\u2069]/.test(ch)),
  );
}

function expectEscaped(text: string): void {
  expect(rawControls(text)).toEqual([]);
  expect(text).toContain(ESCAPED);
}

describe('printers escape names from checkpoints', () => {
  it('the shared table (schedule list and alerts, status)', () => {
    expectEscaped(formatTable(['checkpoint', 'value'], [[`/zoo/${HOSTILE}`, 1.5]]));
  });

  it('schedule describe', () => {
    const text = formatScheduleDescription(
      {
        name: 'nightly',
        paused: false,
        timing: 'every 1h',
        sources: [`/zoo/${HOSTILE}`],
        alerts: [`alpha > 6 on ${HOSTILE}`],
        webhook: undefined,
        completeness: undefined,
        nextRuns: [],
        recentRuns: [],
        runsTaken: 0,
        runsSkipped: 0,
        note: undefined,
      },
      [{ id: HOSTILE, status: 'completed', createdAt: new Date(0), checkpointsTotal: 1, checkpointsDone: 1 }],
    );
    expectEscaped(text);
    expect(text.split('\n')[1]).toBe(`sources: /zoo/${ESCAPED}`);
  });

  it('curvature (layer names and the model URI)', () => {
    const report: CurvatureReport = {
      topEigenvalues: [2],
      eigenResiduals: [0],
      trace: null,
      traceStandardError: null,
      traceProbes: 0,
      density: null,
      layers: [{ name: HOSTILE, parameters: 4, trace: 1, traceStandardError: 0, topEigenvalue: 2 }],
      engine: 'exact',
      parameters: 4,
      samples: 1,
      loss: 0.5,
      hessianVectorProducts: 1,
      durationMs: 1,
    };
    const text = formatCurvatureTable(report, `/zoo/${HOSTILE}/model.json on random`);
    expectEscaped(text);
    // Columns stay aligned: the escaped name is what is padded.
    const [header, row] = text
      .split('\n')
      .filter((l) => l.includes('params') || l.includes(ESCAPED))
      .slice(-2);
    expect(row!.indexOf('4')).toBeGreaterThanOrEqual(header!.indexOf('params'));
  });

  it("the sweep's curvature table (checkpoint URI and error)", () => {
    expectEscaped(
      formatSweepCurvature([
        {
          status: 'failed',
          error: `layer ${HOSTILE}: not a TF.js model`,
          topEigenvalues: [],
          trace: null,
          checkpoint: { uri: `/zoo/${HOSTILE}` },
        },
      ]),
    );
  });

  it('worker log lines (an activity failure quoting a tensor name), stack line breaks kept', () => {
    const error = ApplicationFailure.nonRetryable(`tensor "${HOSTILE}": shape mismatch`, 'BadInput');
    const line = formatLogEntry({
      level: 'WARN',
      message: `Activity failed for ${HOSTILE}`,
      meta: { error, activityType: 'analyzeLayerBatch' },
      timestampNanos: 1_700_000_000_000_000_000n,
    });
    expectEscaped(line);
    expect(line.split('\n').length).toBeGreaterThan(1);
  });

  it('worker outage lines', () => {
    const lines: string[] = [];
    let now = 0;
    const logger = new OutageReportingLogger(
      { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
      (line) => lines.push(line),
      () => now,
    );
    logger.log('WARN', 'Activity failed', {
      error: ApplicationFailure.retryable(`s3 object ${HOSTILE} unreachable`),
    });
    now = 1000;
    logger.log('INFO', 'Activity completed');
    expect(lines).toHaveLength(2);
    for (const line of lines) expectEscaped(line);
  });
});
