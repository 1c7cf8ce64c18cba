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

export interface ScheduleRecordInput {
  name: string;
  timing: string;
  sources: string[];
  alerts: string[];
  watch: string | undefined;
  webhook: string | undefined;
  paused: boolean;
  nextRunAt: Date | undefined;
  lastRunAt: Date | undefined;
}

/** Mirror a schedule's state for the dashboard (Temporal holds the schedule itself). */
export async function saveScheduleRecord(prisma: PrismaClient, record: ScheduleRecordInput): Promise<void> {
  const data = {
    timing: record.timing,
    sources: record.sources,
    alerts: record.alerts,
    watch: record.watch ?? null,
    webhook: record.webhook ?? null,
    paused: record.paused,
    nextRunAt: record.nextRunAt ?? null,
    lastRunAt: record.lastRunAt ?? null,
    deletedAt: null,
  };
  await prisma.scheduleRecord.upsert({
    where: { name: record.name },
    create: { name: record.name, ...data },
    update: data,
  });
}

export async function markScheduleDeleted(prisma: PrismaClient, name: string): Promise<void> {
  await prisma.scheduleRecord.updateMany({
    where: { name },
    data: { deletedAt: new Date(), nextRunAt: null },
  });
}

/** Schedules for the dashboard: state, last/next run, runs and alerts so far. */
export async function scheduleOverview(prisma: PrismaClient) {
  const [records, runs, alerts] = await Promise.all([
    prisma.scheduleRecord.findMany({ where: { deletedAt: null }, orderBy: { name: 'asc' } }),
    prisma.sweep.groupBy({
      by: ['scheduleName'],
      where: { scheduleName: { not: null } },
      _count: { _all: true },
    }),
    prisma.alert.groupBy({ by: ['scheduleName'], _count: { _all: true } }),
  ]);
  const runCount = new Map(runs.map((r) => [r.scheduleName, r._count._all]));
  const alertCount = new Map(alerts.map((a) => [a.scheduleName, a._count._all]));
  return records.map((r) => ({ ...r, runs: runCount.get(r.name) ?? 0, alerts: alertCount.get(r.name) ?? 0 }));
}

/** One schedule's record, its runs (newest first) and its alerts. */
export async function scheduleDetail(prisma: PrismaClient, name: string) {
  const record = await prisma.scheduleRecord.findUnique({ where: { name } });
  if (!record) return undefined;
  const [sweeps, alerts] = await Promise.all([
    prisma.sweep.findMany({
      where: { scheduleName: name },
      orderBy: { createdAt: 'desc' },
      take: 200,
      select: {
        id: true,
        status: true,
        createdAt: true,
        finishedAt: true,
        checkpointsTotal: true,
        checkpointsDone: true,
        checkpointsFailed: true,
      },
    }),
    listAlerts(prisma, name),
  ]);
  return { record, sweeps, alerts };
}

export interface ScheduleTrendPoint {
  checkpointId: string;
  uri: string;
  step: number | null;
  value: number | null;
  /** First seen by the schedule's newest run (the point the page marks as new). */
  isNew: boolean;
}

/** A per-checkpoint summary value along the schedule's checkpoints, in step order. */
export async function scheduleTrend(
  prisma: PrismaClient,
  scheduleName: string,
  metric: string,
): Promise<ScheduleTrendPoint[]> {
  const [items, newest, seenBefore] = await Promise.all([
    scheduleCheckpoints(prisma, scheduleName),
    prisma.sweep.findFirst({ where: { scheduleName }, orderBy: { createdAt: 'desc' }, select: { id: true } }),
    prisma.sweepCheckpoint.findMany({
      where: { sweep: { scheduleName } },
      select: { checkpointId: true, sweepId: true },
    }),
  ]);
  const runsSeen = new Map<string, Set<string>>();
  for (const row of seenBefore) {
    const set = runsSeen.get(row.checkpointId) ?? new Set<string>();
    set.add(row.sweepId);
    runsSeen.set(row.checkpointId, set);
  }
  const summaries = await prisma.checkpointSummary.findMany({
    where: { OR: items.map((i) => ({ checkpointId: i.checkpointId, configHash: i.sweep.configHash })) },
    select: { checkpointId: true, metrics: true },
  });
  const values = new Map(summaries.map((s) => [s.checkpointId, decodeMetrics(s.metrics)[metric]]));
  return items
    .map((item) => {
      const value = values.get(item.checkpointId);
      const runs = runsSeen.get(item.checkpointId);
      return {
        checkpointId: item.checkpointId,
        uri: item.checkpoint.uri,
        step: item.checkpoint.step,
        value: typeof value === 'number' && Number.isFinite(value) ? value : null,
        isNew: newest !== null && runs?.size === 1 && runs.has(newest.id),
      };
    })
    .sort((a, b) => (a.step ?? -1) - (b.step ?? -1) || a.uri.localeCompare(b.uri));
}
