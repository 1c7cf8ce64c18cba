/**
 * When a checkpoint that is still being written counts as complete (watched training runs): a
 * trainer writes shards one by one, so a listing can hold an index whose shards are not all there
 * yet, or a shard whose bytes are not all there. Rules:
 *
 * - `readable` (default): the checkpoint opens (every file its index or manifest references is
 *   present and its header parses) and every tensor's byte range lies inside its stored object.
 * - `marker:<file>`: `readable`, and `<file>` exists beside the checkpoint (e.g. `trainer_state.json`,
 *   which Hugging Face's Trainer writes after the weights, or a `COMPLETE` file a script writes last).
 */
import { BadInputError, WeightlensError } from '../errors.ts';
import { openCheckpoint } from './index.ts';
import type { ObjectOpener } from './types.ts';
import { dirname, joinUri } from './uri.ts';

export type CompletenessRule = { kind: 'readable' } | { kind: 'marker'; file: string };

export function parseCompletenessRule(text: string): CompletenessRule {
  if (text === 'readable') return { kind: 'readable' };
  const marker = /^marker:([^/\\]+)$/.exec(text);
  if (marker && marker[1] !== '.' && marker[1] !== '..') return { kind: 'marker', file: marker[1]! };
  throw new BadInputError(
    `--complete-when '${text}': expected 'readable' or 'marker:<file name>' (e.g. marker:trainer_state.json)`,
  );
}

export function completenessText(rule: CompletenessRule): string {
  return rule.kind === 'readable' ? 'readable' : `marker:${rule.file}`;
}

/** Why the checkpoint at `uri` is not complete yet under `rule`, or undefined when it is. */
export async function incompleteReason(
  uri: string,
  opener: ObjectOpener,
  rule: CompletenessRule,
): Promise<string | undefined> {
  if (rule.kind === 'marker') {
    const marker = joinUri(dirname(uri), rule.file);
    if (!(await opener.exists(marker))) return `no ${rule.file} yet`;
  }
  let tensors: { name: string; uri: string; member?: string; byteOffset: number; byteLength: number }[];
  try {
    tensors = (await openCheckpoint(uri, opener)).tensors;
  } catch (err) {
    if (err instanceof WeightlensError) return `not readable yet: ${err.message}`;
    throw err;
  }
  const sizes = new Map<string, number>();
  for (const t of tensors) {
    const object = t.uri;
    let size = sizes.get(object);
    if (size === undefined) {
      try {
        size = (await opener.open(object)).size;
      } catch (err) {
        if (err instanceof WeightlensError) return `${object} is not there yet`;
        throw err;
      }
      sizes.set(object, size);
    }
    // A member's range is inside its uncompressed bytes, not the archive's: the archive opened.
    if (t.member === undefined && t.byteOffset + t.byteLength > size)
      return `${object} holds ${size} bytes, tensor ${t.name} ends at ${t.byteOffset + t.byteLength}`;
  }
  return undefined;
}
