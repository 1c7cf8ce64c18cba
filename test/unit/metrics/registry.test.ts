/**
 * The metric registry against prisma/schema.prisma: every registry metric has its typed column with
 * the right type, and every metric-like column of LayerResult / CheckpointSummary is in the
 * registry — so a metric cannot be half-added (column without entry, or entry without column).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALPHA_BAND,
  CHECKPOINT_METRICS,
  columnOf,
  LAYER_METRICS,
  layerMetric,
} from '../../../lib/metrics/registry.ts';

const schema = readFileSync(join(import.meta.dirname, '..', '..', '..', 'prisma', 'schema.prisma'), 'utf8');

/** field → Prisma type of one model's scalar fields. */
function modelFields(model: string): Map<string, string> {
  const body = new RegExp(`model ${model} \\{([^}]*)\\}`).exec(schema)?.[1];
  if (!body) throw new Error(`model ${model} not in schema.prisma`);
  const fields = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = /^\s+(\w+)\s+(\w+\??)/.exec(line);
    if (match) fields.set(match[1]!, match[2]!);
  }
  return fields;
}

/** Columns that are not metrics (keys, bookkeeping, counts, blobs). */
const LAYER_NON_METRIC = new Set([
  'id',
  'checkpointId',
  'configHash',
  'layerName',
  'layerId',
  'layerType',
  'status',
  'error',
  'errorKind',
  'errorFinal',
  'warning',
  'flags',
  'eigenBackend',
  'metrics',
  'esdUri',
  'quantization',
  'durationMs',
  'worker',
  'createdAt',
  'updatedAt',
  'checkpoint',
]);
const SUMMARY_NON_METRIC = new Set([
  'id',
  'checkpointId',
  'configHash',
  'score',
  'scoreMetric',
  'layersAnalyzed',
  'layersFailed',
  'overTrained',
  'underTrained',
  'correlationTraps',
  'metrics',
  'computedAt',
  'checkpoint',
]);

describe('metric registry', () => {
  it('every per-layer metric has a LayerResult column of its kind, and every metric column an entry', () => {
    const fields = modelFields('LayerResult');
    for (const metric of LAYER_METRICS) {
      expect(fields.get(columnOf(metric.name)), metric.name).toBe(metric.kind === 'int' ? 'Int?' : 'Float?');
    }
    const registered = new Set<string>(LAYER_METRICS.map((m) => columnOf(m.name)));
    const unregistered = [...fields.keys()].filter((f) => !LAYER_NON_METRIC.has(f) && !registered.has(f));
    expect(unregistered).toEqual([]);
  });

  it('every checkpoint metric has a CheckpointSummary column and aggregates a registered layer metric', () => {
    const fields = modelFields('CheckpointSummary');
    for (const metric of CHECKPOINT_METRICS) {
      expect(fields.get(columnOf(metric.name)), metric.name).toBe('Float?');
      expect(layerMetric(metric.of).name).toBe(metric.of);
    }
    const registered = new Set<string>(CHECKPOINT_METRICS.map((m) => columnOf(m.name)));
    const unregistered = [...fields.keys()].filter((f) => !SUMMARY_NON_METRIC.has(f) && !registered.has(f));
    expect(unregistered).toEqual([]);
  });

  it('names are unique and snake_case maps to camelCase columns', () => {
    const names = LAYER_METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(columnOf('log_spectral_norm')).toBe('logSpectralNorm');
    expect(columnOf('N')).toBe('N');
    expect(ALPHA_BAND.low).toBeLessThan(ALPHA_BAND.high);
  });
});
