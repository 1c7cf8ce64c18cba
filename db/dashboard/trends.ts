/**
 * Metric trajectories over training: summary metrics against step/epoch per family or run, and a
 * layer × step heatmap of one layer metric for one family. When a checkpoint has summaries under
 * several configs, the newest one (or the chosen sweep's config) is used, so each point is unique.
 */

import { SUMMARY_METRICS, type SummaryMetric } from '../../lib/metrics/display.ts';
import { Prisma } from '../client.ts';
import { inFamilies, sweepSummaries } from '../result-filters.ts';
import type { Db } from './client.ts';

/** Layer metrics the heatmap offers: WeightWatcher name → LayerResult column (whitelist for SQL). */
export const HEATMAP_METRICS = {
  alpha: 'alpha',
  alpha_weighted: 'alphaWeighted',
  log_norm: 'logNorm',
  log_spectral_norm: 'logSpectralNorm',
  log_alpha_norm: 'logAlphaNorm',
  stable_rank: 'stableRank',
  entropy: 'entropy',
  mp_softrank: 'mpSoftrank',
} as const;
export type HeatmapMetric = keyof typeof HEATMAP_METRICS;

/** The heatmap draws at most this many steps (evenly spaced) to keep the SVG light. */
export const HEATMAP_MAX_STEPS = 120;

export interface TrendPoint {
  checkpointId: string;
  family: string;
  run: string | null;
  step: number | null;
  epoch: number | null;
  value: number;
}

export interface HeatmapCell {
  step: number;
  layerId: number;
  layerName: string;
  value: number;
}

/** Per checkpoint, the summary to plot: the sweep's config, else the newest summary. */
function chosenSummaries(sweepId: string | null): Prisma.Sql {
  const sweepFilter = sweepId === null ? Prisma.empty : Prisma.sql`WHERE ${sweepSummaries(sweepId)}`;
  return Prisma.sql`(SELECT DISTINCT ON (s."checkpointId") s.* FROM "CheckpointSummary" s ${sweepFilter}
    ORDER BY s."checkpointId", s."computedAt" DESC)`;
}

export async function fetchTrend(
  db: Db,
  options: { metric: SummaryMetric; families: string[]; sweepId: string | null },
): Promise<TrendPoint[]> {
  if (options.families.length === 0) return [];
  const column = Prisma.raw(`s."${SUMMARY_METRICS[options.metric].column}"`);
  const rows = await db.$queryRaw<TrendPoint[]>`
    SELECT c.id AS "checkpointId", c.family, c.run, c.step, c.epoch, ${column} AS value
    FROM ${chosenSummaries(options.sweepId)} s JOIN "Checkpoint" c ON c.id = s."checkpointId"
    WHERE ${inFamilies(options.families)} AND ${column} IS NOT NULL
      AND (c.step IS NOT NULL OR c.epoch IS NOT NULL)
    ORDER BY c.family, c.run, c.step NULLS LAST, c.epoch NULLS LAST`;
  return rows;
}

export async function fetchHeatmap(
  db: Db,
  options: { metric: HeatmapMetric; family: string; sweepId: string | null },
): Promise<{ cells: HeatmapCell[]; stepsShown: number; stepsTotal: number }> {
  const column = Prisma.raw(`l."${HEATMAP_METRICS[options.metric]}"`);
  // Pick evenly spaced steps in SQL (ntile over the ordered steps) when a family has very many.
  const rows = await db.$queryRaw<(HeatmapCell & { stepsTotal: bigint })[]>`
    WITH chosen AS (
      SELECT c.id, c.step, s."configHash",
        row_number() OVER (ORDER BY c.step) AS position, count(*) OVER () AS "stepsTotal"
      FROM ${chosenSummaries(options.sweepId)} s JOIN "Checkpoint" c ON c.id = s."checkpointId"
      WHERE ${inFamilies(options.family)} AND c.step IS NOT NULL
    ), sampled AS (
      SELECT * FROM chosen
      WHERE "stepsTotal" <= ${HEATMAP_MAX_STEPS}
         OR (position - 1) % CEIL("stepsTotal"::float / ${HEATMAP_MAX_STEPS})::int = 0
    )
    SELECT sampled.step, l."layerId", l."layerName", ${column} AS value, sampled."stepsTotal"
    FROM sampled JOIN "LayerResult" l
      ON l."checkpointId" = sampled.id AND l."configHash" = sampled."configHash"
    WHERE l.status = 'succeeded' AND ${column} IS NOT NULL
    ORDER BY sampled.step, l."layerId"`;
  const steps = new Set(rows.map((row) => row.step));
  return {
    cells: rows.map(({ step, layerId, layerName, value }) => ({ step, layerId, layerName, value })),
    stepsShown: steps.size,
    stepsTotal: Number(rows[0]?.stepsTotal ?? 0n),
  };
}
