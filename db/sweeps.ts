/**
 * Sweeps and their checkpoints in Postgres. Discovery writes the (possibly huge) checkpoint list
 * here once; the sweep workflow then pages through it by cursor, so Temporal payloads stay small.
 */
import { createHash } from 'node:crypto';
import type { SweepItem } from '../contracts/sweep.ts';
import type { DiscoveredCheckpoint } from '../lib/formats/types.ts';
import { Prisma, type PrismaClient } from './client.ts';

/**
 * Stable checkpoint id from its location and content: the same file unchanged maps to the same
 * row (and so to the same layer results and workflow ids); a changed file gets a new one.
 */
export function checkpointIdOf(uri: string, contentHash: string): string {
  return createHash('sha256').update(`${uri}\n${contentHash}`).digest('hex').slice(0, 32);
}

export interface NewSweep {
  id: string;
  name: string;
  workflowId: string;
  sources: string[];
  config: Prisma.InputJsonValue;
  configHash: string;
  /** The schedule whose run this is (`weightlens schedule`). */
  scheduleName?: string;
}

export async function createSweep(prisma: PrismaClient, sweep: NewSweep): Promise<void> {
  await prisma.sweep.create({ data: { ...sweep, sources: sweep.sources, status: 'pending' } });
}

/** A sweep by id, or by name (the newest sweep of that name). */
export async function findSweep(prisma: PrismaClient, idOrName: string) {
  const byId = await prisma.sweep.findUnique({ where: { id: idOrName } });
  if (byId) return byId;
  return prisma.sweep.findFirst({ where: { name: idOrName }, orderBy: { createdAt: 'desc' } });
}

export async function latestSweep(prisma: PrismaClient) {
  return prisma.sweep.findFirst({ orderBy: { createdAt: 'desc' } });
}

const CHUNK = 500;

function checkpointRow(found: DiscoveredCheckpoint): Prisma.CheckpointCreateManyInput {
  const meta = found.metadata;
  return {
    id: checkpointIdOf(found.uri, found.contentHash),
    uri: found.uri,
    contentHash: found.contentHash,
    format: found.format,
    family: meta.family ?? null,
    run: meta.run ?? null,
    step: meta.step ?? null,
    epoch: meta.epoch ?? null,
    sizeBytes: BigInt(found.sizeBytes),
    knownTestAccuracy: meta.knownTestAccuracy ?? null,
    knownMetrics: (meta.knownMetrics ?? Prisma.JsonNull) as Prisma.InputJsonValue,
    metadata: JSON.parse(JSON.stringify(meta)) as Prisma.InputJsonValue,
  };
}

/** Record discovered checkpoints outside any sweep (idempotent), e.g. the checkpoint of a plan. */
export async function recordCheckpoints(prisma: PrismaClient, found: DiscoveredCheckpoint[]): Promise<void> {
  await prisma.checkpoint.createMany({ data: found.map(checkpointRow), skipDuplicates: true });
}

/**
 * Record discovered checkpoints and their membership in the sweep (idempotent: a retried
 * discovery inserts nothing twice). Returns how many checkpoints the sweep now has.
 */
export async function addSweepCheckpoints(
  prisma: PrismaClient,
  sweepId: string,
  found: DiscoveredCheckpoint[],
): Promise<number> {
  for (let i = 0; i < found.length; i += CHUNK) {
    const rows = found.slice(i, i + CHUNK).map(checkpointRow);
    await prisma.$transaction([
      prisma.checkpoint.createMany({ data: rows, skipDuplicates: true }),
      prisma.sweepCheckpoint.createMany({
        data: rows.map((row) => ({ sweepId, checkpointId: row.id, status: 'pending' as const })),
        skipDuplicates: true,
      }),
    ]);
  }
  return prisma.sweepCheckpoint.count({ where: { sweepId } });
}

export async function markSweepRunning(prisma: PrismaClient, sweepId: string, total: number): Promise<void> {
  await prisma.sweep.update({ where: { id: sweepId }, data: { status: 'running', checkpointsTotal: total } });
}

/** One page of the sweep's checkpoints after `after` (checkpoint id order), as the workflow needs them. */
export async function listSweepItems(
  prisma: PrismaClient,
  sweepId: string,
  after: string | null,
  limit: number,
): Promise<SweepItem[]> {
  const rows = await prisma.sweepCheckpoint.findMany({
    where: { sweepId, ...(after ? { checkpointId: { gt: after } } : {}) },
    orderBy: { checkpointId: 'asc' },
    take: limit,
    select: { checkpointId: true, checkpoint: { select: { uri: true, sizeBytes: true } } },
  });
  return rows.map((row) => ({
    checkpointId: row.checkpointId,
    uri: row.checkpoint.uri,
    sizeBytes: Number(row.checkpoint.sizeBytes ?? 0),
  }));
}

export async function updateSweepCheckpoint(
  prisma: PrismaClient,
  sweepId: string,
  checkpointId: string,
  data: Prisma.SweepCheckpointUpdateInput,
): Promise<void> {
  await prisma.sweepCheckpoint.update({ where: { sweepId_checkpointId: { sweepId, checkpointId } }, data });
}

/** Checkpoint counts of a sweep by status, from the membership rows (the source of truth). */
export async function sweepCheckpointCounts(prisma: PrismaClient, sweepId: string) {
  const groups = await prisma.sweepCheckpoint.groupBy({ by: ['status'], where: { sweepId }, _count: true });
  const counts = { total: 0, pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, incomplete: 0 };
  for (const group of groups) {
    counts[group.status] = group._count;
    counts.total += group._count;
  }
  return counts;
}

/** Final state of a sweep, with its counters refreshed from the membership rows. */
export async function finishSweepRecord(
  prisma: PrismaClient,
  sweepId: string,
  status: 'completed' | 'completed_with_failures' | 'cancelled' | 'failed',
  error?: string,
): Promise<void> {
  if (status === 'cancelled' || status === 'failed') {
    // Members a cancelled or failed sweep never finished go back to pending (a rerun picks them up).
    await prisma.sweepCheckpoint.updateMany({
      where: { sweepId, status: 'running' },
      data: { status: 'pending', error: `sweep ${status}` },
    });
  }
  const counts = await sweepCheckpointCounts(prisma, sweepId);
  await prisma.sweep.update({
    where: { id: sweepId },
    data: {
      status,
      // Keep discovery's source errors unless the sweep itself failed.
      ...(error !== undefined ? { error } : {}),
      checkpointsTotal: counts.total,
      checkpointsDone: counts.succeeded,
      checkpointsFailed: counts.failed,
      finishedAt: new Date(),
    },
  });
}

/** The failed checkpoints of a sweep with their reasons (for `status` and tests). */
export async function failedSweepCheckpoints(prisma: PrismaClient, sweepId: string) {
  const rows = await prisma.sweepCheckpoint.findMany({
    where: { sweepId, status: 'failed' },
    select: { error: true, checkpoint: { select: { uri: true } } },
    orderBy: { checkpointId: 'asc' },
  });
  return rows.map((row) => ({ uri: row.checkpoint.uri, error: row.error ?? '' }));
}

/** The incomplete checkpoints of a sweep: how many of their layers finished, and the first missing one. */
export async function incompleteSweepCheckpoints(prisma: PrismaClient, sweepId: string) {
  const rows = await prisma.sweepCheckpoint.findMany({
    where: { sweepId, status: 'incomplete' },
    select: { error: true, layersDone: true, layersTotal: true, checkpoint: { select: { uri: true } } },
    orderBy: { checkpointId: 'asc' },
  });
  return rows.map((row) => ({
    uri: row.checkpoint.uri,
    layersDone: row.layersDone,
    layersTotal: row.layersTotal,
    error: row.error ?? '',
  }));
}
