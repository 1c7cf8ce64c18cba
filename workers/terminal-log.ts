/**
 * The worker's log lines on stderr. Activity failures quote error messages, and those name tensors,
 * layers and files from checkpoints written by strangers: each line is escaped for the terminal
 * (`cli/terminal-text.ts`), its own line breaks (stack traces) kept. No colours: their ESC
 * sequences would be escaped too.
 */
import { formatWithOptions } from 'node:util';
import type { LogEntry } from '@temporalio/worker';
import { terminalLines } from '../cli/terminal-text.ts';

/** One log entry as the SDK's default log function lays it out, escaped. */
export function formatLogEntry(entry: LogEntry): string {
  const format = (value: unknown) => formatWithOptions({ colors: false }, value);
  const date = new Date(Number(entry.timestampNanos / 1_000_000n));
  const meta = entry.meta === undefined ? '' : ` ${format(entry.meta)}`;
  return terminalLines(`${format(date)} [${entry.level}] ${entry.message}${meta}`);
}

/** A `DefaultLogger` log function writing `formatLogEntry` lines to stderr. */
export function terminalLogFunction(entry: LogEntry): void {
  process.stderr.write(`${formatLogEntry(entry)}\n`);
}
