/**
 * Layer results and checkpoint summaries. Rows are keyed by (checkpoint, layer name, config hash),
 * so every write is an upsert and a rerun of an unchanged sweep finds its results instead of
 * recomputing them.
 */

import type { FailureKind } from '../lib/errors.ts';
import {
  CHECKPOINT_METRICS,
  type CheckpointMetricColumn,
  columnOf,
  LAYER_METRICS,
  type LayerMetricColumn,
} from '../lib/metrics/registry.ts';
import type { ExpertGroupSummary } from '../lib/spectral/expert-groups.ts';
import { parseWarning } from '../lib/spectral/flags.ts';
import type { LayerMetrics, ModelSummary } from '../lib/spectral/types.ts';
import type { Prisma, PrismaClient } from './client.ts';

export interface LayerKey {
  checkpointId: string;
  layerName: string;
  configHash: string;
}

/** The key fields only (callers pass whole rows; Prisma rejects extra fields in a key). */
function keyOf({ checkpointId, layerName, configHash }: LayerKey): LayerKey {
  return { checkpointId, layerName, configHash };
}

function whereKey(key: LayerKey) {
  return { checkpointId_layerName_configHash: keyOf(key) };
}

export async function findLayerResult(prisma: PrismaClient, key: LayerKey) {
  return prisma.layerResult.findUnique({ where: whereKey(key) });
}

/** The stored rows of some layers of a checkpoint under one configuration (one round trip). */
export async function findLayerResults(
  prisma: PrismaClient,
  checkpointId: string,
  configHash: string,
  layerNames: string[],
) {
  return prisma.layerResult.findMany({ where: { checkpointId, configHash, layerName: { in: layerNames } } });
}

/** JSON cannot hold ±Infinity/NaN (WeightWatcher's sentinels produce them); keep them as strings. */
export function encodeMetrics(metrics: LayerMetrics | ModelSummary): Prisma.InputJsonObject {
  const out: Record<string, string | number | null> = {};
  for (const [name, value] of Object.entries(metrics)) {
    out[name] = typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
  }
  return out;
}

/** Inverse of `encodeMetrics` for one stored object. */
export function decodeMetrics(json: unknown): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  if (!json || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (value === 'Infinity' || value === '-Infinity' || value === 'NaN') out[name] = Number(value);
    else if (typeof value === 'number' || typeof value === 'string' || value === null) out[name] = value;
  }
  return out;
}

const finite = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const integer = (value: unknown): number | null => {
  const v = finite(value);
  return v === null ? null : Math.round(v);
};

/** The registry's per-layer metrics → their typed LayerResult columns. */
function metricColumns(m: LayerMetrics) {
  const columns = {} as Record<LayerMetricColumn, number | null>;
  for (const metric of LAYER_METRICS) {
    columns[columnOf(metric.name)] = metric.kind === 'int' ? integer(m[metric.name]) : finite(m[metric.name]);
  }
  return { ...columns, warning: m.warning || null, flags: parseWarning(m.warning) };
}

/** The registry's checkpoint metrics → their typed CheckpointSummary columns. */
function summaryColumns(s: ModelSummary) {
  const columns = {} as Record<CheckpointMetricColumn, number | null>;
  for (const metric of CHECKPOINT_METRICS) columns[columnOf(metric.name)] = finite(s[metric.name]);
  return columns;
}

export interface SucceededLayer extends LayerKey {
  layerId: number;
  layerType: string;
  metrics: LayerMetrics;
  esdUri: string;
  quantization: string | null;
  durationMs: number;
  worker: string;
  /** The eigen-solver backend that computed the ESD. */
  eigenBackend: string;
}

function succeededRowData(row: SucceededLayer) {
  return {
    layerId: row.layerId,
    layerType: row.layerType,
    status: 'succeeded' as const,
    error: null,
    errorKind: null,
    errorFinal: false,
    ...metricColumns(row.metrics),
    metrics: encodeMetrics(row.metrics),
    esdUri: row.esdUri,
    quantization: row.quantization,
    durationMs: Math.round(row.durationMs),
    worker: row.worker,
    eigenBackend: row.eigenBackend,
  };
}

/** The LayerResult row the pipeline writes for a succeeded layer (the seed writes the same shape). */
export function succeededLayerRow(row: SucceededLayer) {
  return { ...keyOf(row), ...succeededRowData(row) };
}

/**
 * Records a succeeded layer unless it already has a succeeded row: the first result stored is
 * final (a superseded attempt — a worker cut off by a partition that reconnects and finishes — never
 * rewrites it; its values would be the same, its worker and timing not). Replaces a failed or
 * skipped row. Returns whether this call wrote the row.
 */
export async function upsertSucceededLayer(prisma: PrismaClient, row: SucceededLayer): Promise<boolean> {
  return writeUnlessSucceeded(prisma, keyOf(row), succeededRowData(row));
}

/**
 * Replaces the layer's row unless it is succeeded, or creates it; whether this call wrote the row.
 * A succeeded row is never overwritten: by a superseded attempt's success or by its late failure.
 */
async function writeUnlessSucceeded(
  prisma: PrismaClient,
  key: LayerKey,
  data: ReturnType<typeof succeededRowData> | ReturnType<typeof failedRowData>,
): Promise<boolean> {
  const updated = await prisma.layerResult.updateMany({
    where: { ...key, status: { not: 'succeeded' } },
    data,
  });
  if (updated.count > 0) return true;
  const created = await prisma.layerResult.createMany({ data: [{ ...key, ...data }], skipDuplicates: true });
  return created.count > 0;
}

/**
 * Several succeeded layers in one round trip when none has a row yet (the usual first sweep);
 * when some already have one (a retried or superseded attempt, an earlier outage's failure), each
 * row of the call goes through upsertSucceededLayer (a succeeded row is kept as it is).
 */
export async function upsertSucceededLayers(prisma: PrismaClient, rows: SucceededLayer[]): Promise<void> {
  if (rows.length === 0) return;
  const created = await prisma.layerResult.createMany({
    data: rows.map(succeededLayerRow),
    skipDuplicates: true,
  });
  if (created.count === rows.length) return;
  for (const row of rows) await upsertSucceededLayer(prisma, row);
}

export interface FailedLayer extends LayerKey {
  layerId: number;
  layerType: string;
  status: 'failed' | 'skipped';
  /** "<ErrorCode>: <one line>" (a failure) or why the tensor is skipped: for people only. */
  error: string;
  /** A failure's kind and whether it is final (reruns keep it) or an outage's (retried); null for a skip. */
  failure: FailureKind | null;
  worker?: string;
}

/** The stored kind columns of a row: a failure's own, none for a skip. */
function failureColumns(row: Pick<FailedLayer, 'status' | 'failure'>) {
  const failure = row.status === 'failed' ? row.failure : null;
  return { errorKind: failure?.kind ?? null, errorFinal: failure?.final ?? false };
}

/** Records each row unless its layer already succeeded; returns how many were recorded. */
export async function upsertFailedLayers(prisma: PrismaClient, rows: FailedLayer[]): Promise<number> {
  let recorded = 0;
  for (const row of rows) if (await upsertFailedLayer(prisma, row)) recorded += 1;
  return recorded;
}

function failedRowData(row: FailedLayer) {
  return {
    layerId: row.layerId,
    layerType: row.layerType,
    status: row.status,
    error: row.error,
    ...failureColumns(row),
    worker: row.worker ?? null,
  };
}

/** The LayerResult row the pipeline writes for a failed or skipped layer. */
export function failedLayerRow(row: FailedLayer) {
  return { ...keyOf(row), ...failedRowData(row) };
}

/** False when the layer already has a succeeded row (kept). */
export async function upsertFailedLayer(prisma: PrismaClient, row: FailedLayer): Promise<boolean> {
  const key = keyOf(row);
  if (await writeUnlessSucceeded(prisma, key, failedRowData(row))) return true;
  // Lost a race: a row appeared between the two statements; it is final unless it is not succeeded.
  const now = await prisma.layerResult.findUnique({ where: whereKey(key), select: { status: true } });
  return now?.status !== 'succeeded';
}

/** Skipped tensors of a checkpoint, recorded once (a retried inspect inserts nothing twice). */
export async function recordSkippedLayers(
  prisma: PrismaClient,
  rows: Omit<FailedLayer, 'status' | 'failure'>[],
): Promise<void> {
  if (rows.length === 0) return;
  await prisma.layerResult.createMany({
    data: rows.map((row) => ({ ...row, status: 'skipped' as const, worker: row.worker ?? null })),
    skipDuplicates: true,
  });
}

/** Every layer row of a checkpoint under one configuration, in layer order. */
export async function checkpointLayerRows(prisma: PrismaClient, checkpointId: string, configHash: string) {
  return prisma.layerResult.findMany({
    where: { checkpointId, configHash },
    orderBy: [{ layerId: 'asc' }, { layerName: 'asc' }],
  });
}

export interface SummaryRow {
  checkpointId: string;
  configHash: string;
  summary: ModelSummary;
  score: number | null;
  scoreMetric: string;
  layersAnalyzed: number;
  layersFailed: number;
  overTrained: number;
  underTrained: number;
  correlationTraps: number;
  /** α over the experts of each fused expert tensor (lib/spectral/expert-groups.ts); stored in `metrics`. */
  expertGroups?: ExpertGroupSummary[];
}

/** Key of the expert-group summaries in CheckpointSummary.metrics (a list; decodeMetrics skips it). */
export const EXPERT_GROUPS_KEY = 'expert_groups';

export async function upsertCheckpointSummary(prisma: PrismaClient, row: SummaryRow): Promise<void> {
  const s = row.summary;
  const data = {
    ...summaryColumns(s),
    score: finite(row.score),
    scoreMetric: row.scoreMetric,
    layersAnalyzed: row.layersAnalyzed,
    layersFailed: row.layersFailed,
    overTrained: row.overTrained,
    underTrained: row.underTrained,
    correlationTraps: row.correlationTraps,
    metrics:
      row.expertGroups && row.expertGroups.length > 0
        ? { ...encodeMetrics(s), [EXPERT_GROUPS_KEY]: row.expertGroups.map((group) => ({ ...group })) }
        : encodeMetrics(s),
    computedAt: new Date(),
  };
  await prisma.checkpointSummary.upsert({
    where: { checkpointId_configHash: { checkpointId: row.checkpointId, configHash: row.configHash } },
    create: { checkpointId: row.checkpointId, configHash: row.configHash, ...data },
    update: data,
  });
}

/** Drop a checkpoint's summary under a config (its layers are no longer all present). */
export async function deleteCheckpointSummary(
  prisma: PrismaClient,
  checkpointId: string,
  configHash: string,
): Promise<void> {
  await prisma.checkpointSummary.deleteMany({ where: { checkpointId, configHash } });
}
