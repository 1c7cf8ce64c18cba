/** Sweep status: progress counters, item states, and the layers that are running or failed. */

import { checkpointDisplayName } from '../checkpoint-name.ts';
import type { Db } from './client.ts';

export const SWEEP_ITEMS_SHOWN = 500;
export const SWEEP_LAYERS_SHOWN = 500;

export async function fetchSweepList(db: Db) {
  return db.sweep.findMany({
    orderBy: { createdAt: 'desc' },
    take: 200,
    select: {
      id: true,
      name: true,
      status: true,
      workflowId: true,
      checkpointsTotal: true,
      checkpointsDone: true,
      checkpointsFailed: true,
      createdAt: true,
      finishedAt: true,
      error: true,
    },
  });
}

/** Temporal Web UI link of a workflow (TEMPORAL_UI_URL, default the dev server's UI port). */
export function temporalWorkflowUrl(workflowId: string): string {
  const base = (process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/+$/, '');
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function nameOf(checkpoint: { uri: string; metadata: unknown }): string {
  const metadata = checkpoint.metadata as { name?: unknown } | null;
  return checkpointDisplayName(checkpoint.uri, typeof metadata?.name === 'string' ? metadata.name : null);
}

export async function fetchSweepStatus(db: Db, sweepId: string) {
  const sweep = await db.sweep.findUnique({ where: { id: sweepId } });
  if (!sweep) return null;
  const [statusCounts, items, layers, layerCounts] = await Promise.all([
    db.sweepCheckpoint.groupBy({ by: ['status'], where: { sweepId }, _count: { _all: true } }),
    // Unfinished and failed items first: they are what a user opens this page for.
    db.$queryRaw<
      {
        checkpointId: string;
        status: string;
        error: string | null;
        layersTotal: number;
        layersDone: number;
        layersFailed: number;
        workflowId: string | null;
        uri: string;
        metadata: unknown;
      }[]
    >`SELECT sc."checkpointId", sc.status::text AS status, sc.error, sc."layersTotal", sc."layersDone",
        sc."layersFailed", sc."workflowId", c.uri, c.metadata
      FROM "SweepCheckpoint" sc JOIN "Checkpoint" c ON c.id = sc."checkpointId"
      WHERE sc."sweepId" = ${sweepId}
      ORDER BY CASE sc.status WHEN 'failed' THEN 0 WHEN 'running' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
        c.uri
      LIMIT ${SWEEP_ITEMS_SHOWN}`,
    db.layerResult.findMany({
      where: {
        configHash: sweep.configHash,
        status: { in: ['failed', 'running'] },
        checkpoint: { sweeps: { some: { sweepId } } },
      },
      select: {
        checkpointId: true,
        layerName: true,
        layerId: true,
        status: true,
        error: true,
        worker: true,
        updatedAt: true,
        checkpoint: { select: { uri: true, metadata: true } },
      },
      orderBy: [{ status: 'asc' }, { checkpointId: 'asc' }, { layerId: 'asc' }],
      take: SWEEP_LAYERS_SHOWN,
    }),
    db.layerResult.groupBy({
      by: ['status'],
      where: { configHash: sweep.configHash, checkpoint: { sweeps: { some: { sweepId } } } },
      _count: { _all: true },
    }),
  ]);
  return {
    sweep,
    itemCounts: Object.fromEntries(statusCounts.map((row) => [row.status, row._count._all])) as Record<
      string,
      number
    >,
    layerCounts: Object.fromEntries(layerCounts.map((row) => [row.status, row._count._all])) as Record<
      string,
      number
    >,
    items: items.map((item) => ({ ...item, name: nameOf(item) })),
    layers: layers.map((layer) => ({ ...layer, checkpointName: nameOf(layer.checkpoint) })),
    temporalUrl: temporalWorkflowUrl(sweep.workflowId),
  };
}

export type SweepStatusView = NonNullable<Awaited<ReturnType<typeof fetchSweepStatus>>>;
