/**
 * The sweep and family filters of every ranked or plotted view (the leaderboard of the CLI and the
 * dashboard, trends, metric vs accuracy), written once. Views query `"CheckpointSummary" s` joined
 * to `"Checkpoint" c`; these conditions use those aliases.
 */
import { Prisma } from './client.ts';

/** A sweep's results: the summaries of the checkpoints it covers, under the sweep's own config. */
export function sweepSummaries(sweepId: string): Prisma.Sql {
  return Prisma.sql`s."configHash" = (SELECT w."configHash" FROM "Sweep" w WHERE w.id = ${sweepId})
    AND EXISTS (SELECT 1 FROM "SweepCheckpoint" sc
      WHERE sc."sweepId" = ${sweepId} AND sc."checkpointId" = s."checkpointId")`;
}

/** Checkpoints of one family (series), or of any of several. */
export function inFamilies(families: string | readonly string[]): Prisma.Sql {
  if (typeof families === 'string') return Prisma.sql`c.family = ${families}`;
  if (families.length === 0) return Prisma.sql`false`;
  return Prisma.sql`c.family IN (${Prisma.join(families)})`;
}

/** The conditions of an optional sweep and family, for `WHERE … AND …`. */
export function sweepFamilyConditions(filter: {
  sweepId?: string | null;
  family?: string | null;
}): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.sweepId) conditions.push(sweepSummaries(filter.sweepId));
  if (filter.family) conditions.push(inFamilies(filter.family));
  return conditions;
}
