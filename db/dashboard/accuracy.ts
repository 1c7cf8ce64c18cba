/**
 * Metric vs known test accuracy: for checkpoints that carry an accuracy, every summary metric with
 * its Kendall τ-b and Spearman ρ against accuracy (presentation statistics over stored values).
 * HT-SR predicts negative correlations for α-like metrics (lower metric, higher accuracy).
 */

import { SUMMARY_METRICS, type SummaryMetric } from '../../lib/metrics/display.ts';
import type { CheckpointMetricColumn } from '../../lib/metrics/registry.ts';
import { kendallTauB, spearmanRho } from '../../lib/stats/rank-correlation.ts';
import { checkpointDisplayName } from '../checkpoint-name.ts';
import { Prisma } from '../client.ts';
import type { Db } from './client.ts';

/** Enough for any realistic zoo; τ is O(n²) and the scatter is SVG. */
export const ACCURACY_MAX_POINTS = 5_000;

export interface AccuracyPoint {
  checkpointId: string;
  name: string;
  family: string | null;
  accuracy: number;
  values: Record<SummaryMetric, number | null>;
}

export interface MetricCorrelation {
  metric: SummaryMetric;
  n: number;
  kendallTau: number | null;
  spearmanRho: number | null;
}

type RawAccuracyRow = Record<CheckpointMetricColumn, number | null> & {
  checkpointId: string;
  uri: string;
  metadataName: string | null;
  family: string | null;
  accuracy: number;
};

/** The registry's summary columns, quoted for SQL (no user input). */
const METRIC_SELECT = Prisma.raw(
  Object.values(SUMMARY_METRICS)
    .map(({ column }) => `s."${column}"`)
    .join(', '),
);

export async function fetchAccuracyPoints(
  db: Db,
  options: { sweepId: string | null; family: string | null },
): Promise<AccuracyPoint[]> {
  const conditions = [Prisma.sql`c."knownTestAccuracy" IS NOT NULL`];
  if (options.sweepId !== null) {
    conditions.push(
      Prisma.sql`s."configHash" = (SELECT w."configHash" FROM "Sweep" w WHERE w.id = ${options.sweepId})`,
    );
    conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "SweepCheckpoint" sc
      WHERE sc."sweepId" = ${options.sweepId} AND sc."checkpointId" = c.id)`);
  }
  if (options.family !== null) conditions.push(Prisma.sql`c.family = ${options.family}`);
  const rows = await db.$queryRaw<RawAccuracyRow[]>`
    SELECT DISTINCT ON (c.id) c.id AS "checkpointId", c.uri, c.metadata->>'name' AS "metadataName", c.family,
      c."knownTestAccuracy" AS accuracy, ${METRIC_SELECT}
    FROM "CheckpointSummary" s JOIN "Checkpoint" c ON c.id = s."checkpointId"
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY c.id, s."computedAt" DESC
    LIMIT ${ACCURACY_MAX_POINTS}`;
  return rows.map((row) => ({
    checkpointId: row.checkpointId,
    name: checkpointDisplayName(row.uri, row.metadataName),
    family: row.family,
    accuracy: row.accuracy,
    values: Object.fromEntries(
      Object.entries(SUMMARY_METRICS).map(([metric, { column }]) => [metric, row[column]]),
    ) as Record<SummaryMetric, number | null>,
  }));
}

export function correlations(points: AccuracyPoint[]): MetricCorrelation[] {
  return (Object.keys(SUMMARY_METRICS) as SummaryMetric[]).map((metric) => {
    const paired = points.filter((point) => point.values[metric] !== null);
    const x = paired.map((point) => point.values[metric]!);
    const y = paired.map((point) => point.accuracy);
    const tau = kendallTauB(x, y);
    const rho = spearmanRho(x, y);
    return { metric, n: tau.n, kendallTau: tau.value, spearmanRho: rho.value };
  });
}
