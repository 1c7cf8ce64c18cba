/**
 * Checkpoint metadata from sidecars: `weightlens.json` (ours) and Hugging Face Trainer's
 * `trainer_state.json`. weightlens.json files of parent directories (up to the discovery root)
 * apply too, so a zoo can say its family once; nearer files win, and weightlens.json wins over
 * trainer_state.json.
 *
 * weightlens.json: {"family", "run", "step", "epoch", "known_test_accuracy" (in [0, 1]),
 * "known_metrics": {name: number}, "known_<name>": number, anything else (hyperparameters...)}.
 */
import { BadInputError } from '../errors.ts';
import { decodeUtf8, isRecord, parseJson } from './checks.ts';
import type { CheckpointMetadata, ObjectOpener } from './types.ts';
import { basename, dirname, joinUri } from './uri.ts';

export const SIDECAR_NAME = 'weightlens.json';
export const TRAINER_STATE_NAME = 'trainer_state.json';
/** Sidecars are small; a larger one is a mistake, not metadata. */
const MAX_SIDECAR_BYTES = 16 * 1024 * 1024;
/** Trainer eval fields that measure speed, not quality. */
const NOT_QUALITY = /_(runtime|samples_per_second|steps_per_second)$/;

async function readJsonObject(uri: string, opener: ObjectOpener): Promise<Record<string, unknown>> {
  const reader = await opener.open(uri);
  if (reader.size > MAX_SIDECAR_BYTES) {
    throw new BadInputError(`sidecar is ${reader.size} bytes, over the ${MAX_SIDECAR_BYTES}-byte limit`, {
      file: uri,
    });
  }
  const json = parseJson(decodeUtf8(await reader.read(0, reader.size), { file: uri }), { file: uri });
  if (!isRecord(json)) throw new BadInputError('sidecar JSON is not an object', { file: uri });
  return json;
}

function finiteNumber(value: unknown, field: string, file: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new BadInputError(`"${field}" must be a finite number`, { file });
  }
  return value;
}

function nonNegativeInteger(value: unknown, field: string, file: string): number {
  const n = finiteNumber(value, field, file);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new BadInputError(`"${field}" must be an integer ≥ 0`, { file });
  return n;
}

/** Parse one weightlens.json object into metadata. Throws BadInputError naming the file and field. */
export function parseSidecar(json: Record<string, unknown>, file: string): CheckpointMetadata {
  const meta: CheckpointMetadata = {};
  const knownMetrics: Record<string, number> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    switch (key) {
      case 'family':
      case 'run':
        if (typeof value !== 'string') throw new BadInputError(`"${key}" must be a string`, { file });
        meta[key] = value;
        break;
      case 'step':
        meta.step = nonNegativeInteger(value, key, file);
        break;
      case 'epoch':
        meta.epoch = finiteNumber(value, key, file);
        if (meta.epoch < 0) throw new BadInputError('"epoch" must be ≥ 0', { file });
        break;
      case 'known_test_accuracy': {
        const accuracy = finiteNumber(value, key, file);
        if (accuracy < 0 || accuracy > 1) {
          throw new BadInputError(`"known_test_accuracy" must be in [0, 1] (got ${accuracy})`, { file });
        }
        meta.knownTestAccuracy = accuracy;
        break;
      }
      case 'known_metrics':
        if (!isRecord(value)) throw new BadInputError('"known_metrics" must be an object', { file });
        for (const [name, metric] of Object.entries(value)) {
          knownMetrics[name] = finiteNumber(metric, `known_metrics.${name}`, file);
        }
        break;
      default:
        if (key.startsWith('known_'))
          knownMetrics[key.slice('known_'.length)] = finiteNumber(value, key, file);
        else extra[key] = value;
    }
  }
  if (Object.keys(knownMetrics).length > 0) meta.knownMetrics = knownMetrics;
  if (Object.keys(extra).length > 0) meta.extra = extra;
  return meta;
}

/** Step, epoch and the latest eval metrics of a Hugging Face trainer_state.json. */
export function parseTrainerState(json: Record<string, unknown>, file: string): CheckpointMetadata {
  const meta: CheckpointMetadata = {};
  if (json.global_step !== undefined) meta.step = nonNegativeInteger(json.global_step, 'global_step', file);
  if (typeof json.epoch === 'number' && Number.isFinite(json.epoch)) meta.epoch = json.epoch;
  const history = Array.isArray(json.log_history) ? json.log_history : [];
  let latestEval: Record<string, unknown> | undefined;
  for (const record of history) {
    if (isRecord(record) && Object.keys(record).some((k) => k.startsWith('eval_'))) latestEval = record;
  }
  if (latestEval) {
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(latestEval)) {
      if (k.startsWith('eval_') && !NOT_QUALITY.test(k) && typeof v === 'number' && Number.isFinite(v)) {
        metrics[k] = v;
      }
    }
    if (Object.keys(metrics).length > 0) meta.knownMetrics = metrics;
  }
  return meta;
}

/** Later sources win field by field; knownMetrics and extra are merged key by key. */
export function mergeMetadata(...sources: CheckpointMetadata[]): CheckpointMetadata {
  const out: CheckpointMetadata = {};
  for (const source of sources) {
    const { knownMetrics, extra, ...fields } = source;
    Object.assign(out, fields);
    if (knownMetrics) out.knownMetrics = { ...out.knownMetrics, ...knownMetrics };
    if (extra) out.extra = { ...out.extra, ...extra };
  }
  return out;
}

/** Directories from `root` down to `dir` (inclusive), outermost first; just `dir` if outside root. */
function directoriesFrom(root: string, dir: string): string[] {
  const chain: string[] = [];
  let current = dir;
  for (let depth = 0; depth < 64; depth++) {
    chain.unshift(current);
    if (current === root || !current.startsWith(`${root}/`)) break;
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return chain;
}

/** Metadata for a checkpoint in `checkpointDir`, discovered under `root`. */
export async function readSidecarMetadata(
  checkpointDir: string,
  root: string,
  opener: ObjectOpener,
): Promise<CheckpointMetadata> {
  const sources: CheckpointMetadata[] = [];
  // Hugging Face Trainer folders: checkpoint-<step>; any sidecar's step wins over the name.
  const folderStep = /^checkpoint-(\d{1,15})$/.exec(basename(checkpointDir))?.[1];
  if (folderStep !== undefined) sources.push({ step: Number(folderStep) });
  const trainerState = joinUri(checkpointDir, TRAINER_STATE_NAME);
  if (await opener.exists(trainerState)) {
    sources.push(parseTrainerState(await readJsonObject(trainerState, opener), trainerState));
  }
  for (const dir of directoriesFrom(root, checkpointDir)) {
    const sidecar = joinUri(dir, SIDECAR_NAME);
    if (await opener.exists(sidecar))
      sources.push(parseSidecar(await readJsonObject(sidecar, opener), sidecar));
  }
  return mergeMetadata(...sources);
}
