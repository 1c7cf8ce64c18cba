/**
 * Per-checkpoint isolation in the CLI's local mode (`analyze`, `inspect`, `plan` over a directory
 * or prefix): a checkpoint that cannot be read is one stderr line naming it and an entry in its
 * place in JSON output; the others go on, and the exit status says whether any failed.
 */
import { errorLine } from '../lib/errors.ts';
import type { DiscoveredCheckpoint } from '../lib/formats/types.ts';
import { terminalText } from './terminal-text.ts';

/** A checkpoint that could not be processed at all (JSON: in place of its report). */
export interface CheckpointFailure {
  checkpoint: { uri: string; format: string };
  error: string;
}

export function isCheckpointFailure(entry: unknown): entry is CheckpointFailure {
  return typeof entry === 'object' && entry !== null && 'error' in entry && 'checkpoint' in entry;
}

/** One line naming the checkpoint, whatever the error says. */
export function failureLine(uri: string, err: unknown): string {
  const line = errorLine(err);
  return line.includes(uri) ? line : `${uri}: ${line}`;
}

/** Report a failed checkpoint: its line on stderr, exit status 1, the entry that takes its place. */
export function reportCheckpointFailure(
  checkpoint: Pick<DiscoveredCheckpoint, 'uri' | 'format'>,
  err: unknown,
): CheckpointFailure {
  if (process.env.WEIGHTLENS_DEBUG) console.error(err);
  const error = failureLine(checkpoint.uri, err);
  process.stderr.write(`weightlens: ${terminalText(error)}\n`);
  process.exitCode = 1;
  return { checkpoint: { uri: checkpoint.uri, format: checkpoint.format }, error };
}
