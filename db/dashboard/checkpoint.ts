/**
 * One checkpoint: its metadata, its summaries (one per analysis config), the per-layer results of
 * the chosen config (indexed by checkpointId+configHash), curvature rows and sweep memberships.
 */

import { parseExpertRowName } from '../../lib/formats/experts.ts';
import { LAYER_METRICS, type LayerMetric } from '../../lib/metrics/display.ts';
import type { ExpertGroupSummary } from '../../lib/spectral/expert-groups.ts';
import { checkpointDisplayName } from '../checkpoint-name.ts';
import { EXPERT_GROUPS_KEY } from '../results.ts';
import type { Db } from './client.ts';

export interface LayerRow {
  layerId: number;
  layerName: string;
  layerType: string;
  status: string;
  error: string | null;
  warning: string | null;
  esdUri: string | null;
  values: Record<LayerMetric, number | null>;
  /** bulk_max and any other WeightWatcher columns stored in `metrics`. */
  extra: Record<string, number | string | null>;
}

export interface CurvatureRow {
  configHash: string;
  status: string;
  error: string | null;
  dataSource: string;
  topEigenvalues: number[];
  trace: number | null;
  backend: string | null;
  durationMs: number | null;
  /** Per-layer curvature numbers by layer name, when the curvature run stored them. */
  perLayer: Map<string, Record<string, number>>;
}

const LAYER_SELECT = {
  layerId: true,
  layerName: true,
  layerType: true,
  status: true,
  error: true,
  warning: true,
  esdUri: true,
  metrics: true,
  ...Object.fromEntries(Object.values(LAYER_METRICS).map((column) => [column, true])),
} as const;

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numericFields(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isRecord(value)) return out;
  for (const [key, field] of Object.entries(value)) if (typeof field === 'number') out[key] = field;
  return out;
}

/**
 * The curvature numbers of a spectral layer row: curvature is per model layer ("conv2d_1"), spectral
 * rows are per weight tensor ("conv2d_1/kernel"), so an exact name wins, then the tensor's layer.
 */
export function curvatureForLayer(
  perLayer: Map<string, Record<string, number>>,
  layerName: string,
): Record<string, number> | undefined {
  const exact = perLayer.get(layerName);
  if (exact) return exact;
  const slash = layerName.lastIndexOf('/');
  return slash > 0 ? perLayer.get(layerName.slice(0, slash)) : undefined;
}

/** Curvature `layers` JSON: either [{ name|layer|layerName, ...numbers }] or { [layerName]: numbers }. */
export function curvaturePerLayer(layers: unknown): Map<string, Record<string, number>> {
  const result = new Map<string, Record<string, number>>();
  if (Array.isArray(layers)) {
    for (const entry of layers) {
      if (!isRecord(entry)) continue;
      const name = entry.name ?? entry.layer ?? entry.layerName;
      if (typeof name === 'string') result.set(name, numericFields(entry));
    }
  } else if (isRecord(layers)) {
    for (const [name, entry] of Object.entries(layers)) result.set(name, numericFields(entry));
  }
  return result;
}

function extraColumns(metrics: unknown): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  if (!isRecord(metrics)) return out;
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value === 'number' || typeof value === 'string' || value === null) out[key] = value;
  }
  return out;
}

export function toLayerRow(row: Record<string, unknown>): LayerRow {
  const values = Object.fromEntries(
    Object.entries(LAYER_METRICS).map(([metric, column]) => {
      const value = row[column];
      return [metric, typeof value === 'number' ? value : null];
    }),
  ) as Record<LayerMetric, number | null>;
  return {
    layerId: row.layerId as number,
    layerName: row.layerName as string,
    layerType: row.layerType as string,
    status: row.status as string,
    error: (row.error as string | null) ?? null,
    warning: (row.warning as string | null) ?? null,
    esdUri: (row.esdUri as string | null) ?? null,
    values,
    extra: extraColumns(row.metrics as JsonValue),
  };
}

/**
 * The base checkpoint results of `configHash` are relative to (fine-tune deltas: ΔW = W − W_base),
 * from the analysis config of a sweep that used it; null for plain results.
 */
async function configBase(
  db: Db,
  configHash: string,
): Promise<{ uri: string; contentHash: string | null } | null> {
  const sweep = await db.sweep.findFirst({ where: { configHash }, select: { config: true } });
  const config = sweep?.config;
  if (!isRecord(config) || typeof config.base !== 'string') return null;
  return {
    uri: config.base,
    contentHash: typeof config.baseContentHash === 'string' ? config.baseContentHash : null,
  };
}

/** One cell of the layer × expert α heatmap: a stored expert row. */
export interface ExpertCell {
  group: string;
  expert: number;
  layerId: number;
  alpha: number | null;
}

const GROUP_NUMBERS = ['experts', 'alpha_mean', 'alpha_std', 'alpha_min', 'alpha_max'] as const;

/** The stored expert-group summaries of a checkpoint summary's `metrics` (malformed entries left out). */
export function storedExpertGroups(metrics: unknown): ExpertGroupSummary[] {
  const list = isRecord(metrics) ? metrics[EXPERT_GROUPS_KEY] : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (entry): entry is ExpertGroupSummary =>
      isRecord(entry) &&
      typeof entry.group === 'string' &&
      GROUP_NUMBERS.every((key) => typeof entry[key] === 'number'),
  );
}

/** The expert rows of a layer table as heatmap cells (layer = fused tensor, column = expert index). */
export function expertCells(layers: readonly LayerRow[]): ExpertCell[] {
  const cells: ExpertCell[] = [];
  for (const layer of layers) {
    if (layer.layerType !== 'expert') continue;
    const parsed = parseExpertRowName(layer.layerName);
    if (!parsed) continue;
    cells.push({
      group: parsed.group,
      expert: parsed.index,
      layerId: layer.layerId,
      alpha: layer.status === 'succeeded' ? layer.values.alpha : null,
    });
  }
  return cells;
}

export async function fetchCheckpointDetail(db: Db, checkpointId: string, requestedConfig: string | null) {
  const checkpoint = await db.checkpoint.findUnique({
    where: { id: checkpointId },
    include: {
      summaries: { orderBy: { computedAt: 'desc' } },
      sweeps: { include: { sweep: { select: { id: true, name: true, configHash: true, status: true } } } },
      curvatures: { orderBy: { createdAt: 'desc' } },
    },
  });
  if (!checkpoint) return null;
  const configs = [...new Set(checkpoint.summaries.map((summary) => summary.configHash))];
  let configHash: string | null = requestedConfig ?? configs[0] ?? null;
  if (configHash === null) {
    // Layers analyzed but no summary yet (a sweep still running): use the newest layers' config.
    const newest = await db.layerResult.findFirst({
      where: { checkpointId },
      orderBy: { updatedAt: 'desc' },
      select: { configHash: true },
    });
    configHash = newest?.configHash ?? null;
  }
  const layers =
    configHash === null
      ? []
      : await db.layerResult.findMany({
          where: { checkpointId, configHash },
          orderBy: [{ layerId: 'asc' }, { layerName: 'asc' }],
          select: LAYER_SELECT,
        });
  const base = configHash === null ? null : await configBase(db, configHash);
  const layerRows = layers.map((row) => toLayerRow(row as Record<string, unknown>));
  const summary = checkpoint.summaries.find((row) => row.configHash === configHash) ?? null;
  const metadata = isRecord(checkpoint.metadata) ? checkpoint.metadata : {};
  const metadataName = typeof metadata.name === 'string' ? metadata.name : null;
  return {
    checkpoint,
    name: checkpointDisplayName(checkpoint.uri, metadataName),
    configHash,
    configs,
    base,
    summary,
    layers: layerRows,
    expertGroups: storedExpertGroups(summary?.metrics),
    expertCells: expertCells(layerRows),
    curvatures: checkpoint.curvatures.map(
      (row): CurvatureRow => ({
        configHash: row.configHash,
        status: row.status,
        error: row.error,
        dataSource: row.dataSource,
        topEigenvalues: row.topEigenvalues,
        trace: row.trace,
        backend: row.backend,
        durationMs: row.durationMs,
        perLayer: curvaturePerLayer(row.layers),
      }),
    ),
    sweeps: checkpoint.sweeps.map((membership) => ({
      ...membership.sweep,
      itemStatus: membership.status,
      error: membership.error,
    })),
  };
}

export type CheckpointDetail = NonNullable<Awaited<ReturnType<typeof fetchCheckpointDetail>>>;
