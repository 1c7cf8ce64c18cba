/**
 * Analysis options: WeightWatcher's defaults, validation of user input (CLI flags, workflow
 * inputs, JSON), and a stable hash so results computed with the same options are recognized.
 */
import { createHash } from 'node:crypto';
import { BadInputError } from '../errors.ts';
import { HILL_XMIN_RULES } from './hill.ts';
import type { AboveMaxN, AnalysisConfig, Estimator, FitKind, FixFingers, Precision } from './types.ts';

export const defaultAnalysisConfig: AnalysisConfig = Object.freeze({
  minEvals: 8,
  maxEvals: 15000,
  maxN: 50000,
  aboveMaxN: 'skip',
  fit: 'pl',
  fixFingers: null,
  xminMax: null,
  maxFingers: 10,
  fingerThresh: 1.0,
  randomize: false,
  mpFit: false,
  conv2dNorm: true,
  pool: true,
  precision: 'f64',
  layers: null,
  estimators: Object.freeze([]) as unknown as Estimator[],
  hillXmin: 'xmin_mid',
  base: null,
  baseContentHash: null,
}) as AnalysisConfig;

export const ESTIMATORS: readonly Estimator[] = ['detx', 'farms', 'hill', 'traps'];
/** Options added after results were first stored: hashed only when set, so older keys stay valid. */
const HASHED_WHEN_SET: readonly (keyof AnalysisConfig)[] = [
  'estimators',
  'hillXmin',
  'base',
  'baseContentHash',
  'aboveMaxN',
];

const FIT_KINDS: readonly FitKind[] = ['pl', 'tpl', 'e_tpl'];
const FIX_FINGERS: readonly FixFingers[] = ['xmin_peak', 'clip_xmax'];
const PRECISIONS: readonly Precision[] = ['f64', 'f32'];
export const ABOVE_MAX_N: readonly AboveMaxN[] = ['skip', 'gram'];

function fail(message: string): never {
  throw new BadInputError(`invalid analysis option: ${message}`);
}

function integerOption(record: Record<string, unknown>, key: keyof AnalysisConfig, min: number): number {
  const value = record[key] ?? defaultAnalysisConfig[key];
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) fail(`${key} must be an integer ≥ ${min}`);
  return n;
}

function numberOption(record: Record<string, unknown>, key: keyof AnalysisConfig): number | null {
  const value = record[key] ?? defaultAnalysisConfig[key];
  if (value === null) return null;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) fail(`${key} must be a finite number`);
  return n;
}

function booleanOption(record: Record<string, unknown>, key: keyof AnalysisConfig): boolean {
  const value = record[key] ?? defaultAnalysisConfig[key];
  if (typeof value !== 'boolean') fail(`${key} must be true or false`);
  return value;
}

function enumOption<T extends string>(value: unknown, allowed: readonly T[], key: string): T {
  const lowered = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof lowered !== 'string' || !(allowed as readonly string[]).includes(lowered)) {
    fail(`${key} must be one of ${allowed.join(', ')}`);
  }
  return lowered as T;
}

/** An estimator list: an array or a comma-separated string; sorted, duplicates dropped. */
function estimatorsOption(value: unknown): Estimator[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items)) fail('estimators must be a list or a comma-separated string');
  const chosen = new Set<Estimator>();
  for (const item of items) {
    const name = typeof item === 'string' ? item.trim().toLowerCase() : item;
    if (name === '') continue;
    chosen.add(enumOption(name, ESTIMATORS, 'estimators'));
  }
  return [...chosen].sort();
}

/** Validate a partial config (unknown keys rejected); missing keys take WeightWatcher's defaults. */
export function parseAnalysisConfig(partial: unknown): AnalysisConfig {
  if (partial === undefined || partial === null) return { ...defaultAnalysisConfig };
  if (typeof partial !== 'object' || Array.isArray(partial)) fail('expected an object');
  const record = partial as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in defaultAnalysisConfig)) fail(`unknown option "${key}"`);
  }
  const fixFingersRaw = record.fixFingers ?? null;
  const layersRaw = record.layers ?? null;
  const config: AnalysisConfig = {
    minEvals: integerOption(record, 'minEvals', 1),
    maxEvals: integerOption(record, 'maxEvals', 1),
    maxN: integerOption(record, 'maxN', 1),
    aboveMaxN: enumOption(record.aboveMaxN ?? defaultAnalysisConfig.aboveMaxN, ABOVE_MAX_N, 'aboveMaxN'),
    fit: enumOption(record.fit ?? defaultAnalysisConfig.fit, FIT_KINDS, 'fit'),
    fixFingers:
      fixFingersRaw === null || fixFingersRaw === false
        ? null
        : enumOption(fixFingersRaw, FIX_FINGERS, 'fixFingers'),
    xminMax: numberOption(record, 'xminMax'),
    maxFingers: integerOption(record, 'maxFingers', 1),
    fingerThresh: numberOption(record, 'fingerThresh') ?? fail('fingerThresh must be a number'),
    randomize: booleanOption(record, 'randomize'),
    mpFit: booleanOption(record, 'mpFit'),
    conv2dNorm: booleanOption(record, 'conv2dNorm'),
    pool: booleanOption(record, 'pool'),
    precision: enumOption(record.precision ?? defaultAnalysisConfig.precision, PRECISIONS, 'precision'),
    layers:
      layersRaw === null
        ? null
        : typeof layersRaw === 'string'
          ? layersRaw
          : fail('layers must be a regex string'),
    estimators: estimatorsOption(record.estimators),
    hillXmin: enumOption(record.hillXmin ?? defaultAnalysisConfig.hillXmin, HILL_XMIN_RULES, 'hillXmin'),
    base:
      record.base === undefined || record.base === null
        ? null
        : typeof record.base === 'string' && record.base.trim() !== ''
          ? record.base
          : fail('base must be a checkpoint URI'),
    baseContentHash:
      record.baseContentHash === undefined || record.baseContentHash === null
        ? null
        : typeof record.baseContentHash === 'string' && /^[0-9a-f]{16,128}$/.test(record.baseContentHash)
          ? record.baseContentHash
          : fail('baseContentHash must be a hex digest'),
  };
  // WeightWatcher's own parameter checks.
  if (config.minEvals >= config.maxEvals)
    fail(`minEvals (${config.minEvals}) must be < maxEvals (${config.maxEvals})`);
  if (config.maxN < config.maxEvals) fail(`maxN (${config.maxN}) must be ≥ maxEvals (${config.maxEvals})`);
  if (config.fit === 'e_tpl' && config.fixFingers === 'clip_xmax')
    fail('fit e_tpl cannot be combined with clip_xmax');
  if (config.estimators.includes('traps') && !config.randomize)
    fail('estimator traps scores the randomized ESD: it needs randomize');
  if (config.baseContentHash !== null && config.base === null) fail('baseContentHash needs a base');
  if (!config.pool) fail('pool=false (one row per conv2d kernel position) is not supported');
  if (config.layers !== null) {
    try {
      new RegExp(config.layers);
    } catch (err) {
      fail(`layers is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return config;
}

/** Stable hex digest of the options that change results (key order does not matter). */
export function hashAnalysisConfig(config: AnalysisConfig): string {
  const isDefault = (key: keyof AnalysisConfig) =>
    JSON.stringify(config[key] ?? null) === JSON.stringify(defaultAnalysisConfig[key]);
  const keys = (Object.keys(defaultAnalysisConfig).sort() as (keyof AnalysisConfig)[]).filter(
    (key) => !(HASHED_WHEN_SET.includes(key) && isDefault(key)),
  );
  const canonical = JSON.stringify(keys.map((key) => [key, config[key] ?? null]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
