/**
 * What scheduled sweeps store beyond ordinary sweeps: which schedule a sweep ran for, the latest
 * result of every checkpoint a schedule has seen (across its runs), and the alerts its rules raised.
 */
import type { AlertCheckpoint, AlertHit } from '../lib/alerts/rules.ts';
import type { PrismaClient } from './client.ts';
import { decodeMetrics } from './results.ts';

/**
 * The newest checkpoint at each location among the schedule's sweeps (a changed file is a new
 * Checkpoint row; the newest run's wins), with the sweep whose configuration keys its results.
 */
export async function scheduleCheckpoints(prisma: PrismaClient, scheduleName: string) {
  const rows = await prisma.sweepCheckpoint.findMany({
    where: { sweep: { scheduleName } },
    select: {
      checkpointId: true,
      status: true,
      sweep: { select: { id: true, configHash: true, createdAt: true } },
      checkpoint: { select: { id: true, uri: true, step: true, createdAt: true } },
    },
    orderBy: [{ sweep: { createdAt: 'desc' } }],
  });
  const latest = new Map<string, (typeof rows)[number]>();
  for (const row of rows) if (!latest.has(row.checkpoint.uri)) latest.set(row.checkpoint.uri, row);
  return [...latest.values()];
}

function numbers(json: unknown): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(decodeMetrics(json)))
    out[name] = typeof value === 'number' ? value : null;
  return out;
}

/** The schedule's checkpoints as alert rules see them: summary values and per-layer metrics. */
export async function alertCheckpoints(
  prisma: PrismaClient,
  scheduleName: string,
): Promise<AlertCheckpoint[]> {
  const items = await scheduleCheckpoints(prisma, scheduleName);
  const out: AlertCheckpoint[] = [];
  for (const item of items) {
    const { configHash } = item.sweep;
    const [summary, layers] = await Promise.all([
      prisma.checkpointSummary.findUnique({
        where: { checkpointId_configHash: { checkpointId: item.checkpointId, configHash } },
      }),
      prisma.layerResult.findMany({
        where: { checkpointId: item.checkpointId, configHash, status: 'succeeded' },
        select: { metrics: true },
      }),
    ]);
    if (!summary) continue; // not analyzed (failed or still running): nothing to judge yet
    out.push({
      id: item.checkpointId,
      step: item.checkpoint.step ?? undefined,
      name: item.checkpoint.uri,
      checkpoint: {
        ...numbers(summary.metrics),
        layers_analyzed: summary.layersAnalyzed,
        layers_failed: summary.layersFailed,
        over_trained: summary.overTrained,
        under_trained: summary.underTrained,
        correlation_traps: summary.correlationTraps,
      },
      layers: layers.map((layer) => numbers(layer.metrics)),
    });
  }
  return out;
}

/** Record hits; a rule × checkpoint already recorded stays as it is (fires once). */
export async function recordAlerts(
  prisma: PrismaClient,
  scheduleName: string,
  sweepId: string,
  hits: readonly AlertHit[],
): Promise<number> {
  if (hits.length === 0) return 0;
  const { count } = await prisma.alert.createMany({
    data: hits.map((hit) => ({ scheduleName, sweepId, ...hit })),
    skipDuplicates: true,
  });
  return count;
}

export async function undeliveredAlerts(prisma: PrismaClient, scheduleName: string) {
  return prisma.alert.findMany({ where: { scheduleName, deliveredAt: null }, orderBy: { createdAt: 'asc' } });
}

export async function markAlertDelivery(
  prisma: PrismaClient,
  id: string,
  error: string | null,
): Promise<void> {
  await prisma.alert.update({
    where: { id },
    data: error === null ? { deliveredAt: new Date(), deliveryError: null } : { deliveryError: error },
  });
}

export async function listAlerts(prisma: PrismaClient, scheduleName?: string) {
  return prisma.alert.findMany({
    where: scheduleName ? { scheduleName } : {},
    include: { checkpoint: { select: { uri: true, step: true } } },
    orderBy: { createdAt: 'desc' },
    take: 500,
  });
}
