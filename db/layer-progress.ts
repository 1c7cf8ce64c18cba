/**
 * A sweep's progress in layers, read from the record as layer rows are stored (not when a whole
 * checkpoint or batch finishes), with an ETA from the pace this sweep's computed layers were
 * measured at. Shared by `weightlens status`, `sweep --wait` and the dashboard's sweep page.
 */
import type { PrismaClient } from './client.ts';

export interface LayerProgress {
  /** Analyzable layers of the checkpoints inspected so far (0 for a checkpoint not yet inspected). */
  layersTotal: number;
  /** Layers with a stored final result (succeeded, or failed on bad input), reused ones included. */
  layersDone: number;
  /** Of those, computed by this sweep (stored since it started). */
  layersComputed: number;
  checkpointsInspected: number;
  checkpointsTotal: number;
  /** Seconds until the inspected layers are done at the measured pace; null before a layer is computed. */
  etaSeconds: number | null;
}

/**
 * Seconds left for `remaining` layers when `computed` layers took `elapsedMs` of wall time (the
 * measured cost per layer, divided by the parallelism the workers actually reached).
 */
export function layerEtaSeconds(remaining: number, computed: number, elapsedMs: number): number | null {
  if (remaining <= 0) return 0;
  if (computed <= 0 || elapsedMs <= 0) return null;
  return Math.round(((elapsedMs / computed) * remaining) / 1000);
}

/** "1 h 05 min", "3 min 20 s", "12 s". */
export function formatEta(seconds: number): string {
  if (seconds >= 3600) {
    return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
  }
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${seconds} s`;
}

export async function sweepLayerProgress(
  prisma: PrismaClient,
  sweepId: string,
  now: Date = new Date(),
): Promise<LayerProgress> {
  const sweep = await prisma.sweep.findUniqueOrThrow({
    where: { id: sweepId },
    select: { configHash: true, createdAt: true },
  });
  const members = await prisma.sweepCheckpoint.findMany({
    where: { sweepId },
    select: { checkpointId: true, layersTotal: true },
  });
  const inspected = members.filter((m) => m.layersTotal > 0);
  const rows = {
    configHash: sweep.configHash,
    checkpointId: { in: inspected.map((m) => m.checkpointId) },
  };
  // Failed rows count as done only when final (bad input); an outage's leftovers are still to do.
  const [succeeded, finalFailed, computed] = await Promise.all([
    prisma.layerResult.count({ where: { ...rows, status: 'succeeded' } }),
    prisma.layerResult.count({
      where: {
        ...rows,
        status: 'failed',
        errorFinal: true,
      },
    }),
    prisma.layerResult.aggregate({
      where: { ...rows, status: 'succeeded', updatedAt: { gte: sweep.createdAt } },
      _count: { _all: true },
      _min: { updatedAt: true },
    }),
  ]);
  const layersTotal = inspected.reduce((n, m) => n + m.layersTotal, 0);
  const layersDone = Math.min(layersTotal, succeeded + finalFailed);
  const layersComputed = computed._count._all;
  // The pace since the sweep started (its first layer includes the time to reach it).
  const elapsedMs = computed._min.updatedAt ? now.getTime() - sweep.createdAt.getTime() : 0;
  return {
    layersTotal,
    layersDone,
    layersComputed,
    checkpointsInspected: inspected.length,
    checkpointsTotal: members.length,
    etaSeconds: layerEtaSeconds(layersTotal - layersDone, layersComputed, elapsedMs),
  };
}
