/**
 * "Identical to a clean sweep": the fault tests compare every stored layer of a sweep (status,
 * every metric to 1e-9 relative) and every checkpoint score with a reference sweep of the same
 * checkpoints, and find each layer exactly once.
 */
import { expect } from 'vitest';
import type { PrismaClient } from '../../db/client.ts';
import { decodeMetrics } from '../../db/results.ts';
import type { StartedSweep } from '../../workers/sweep-client.ts';

type Metrics = Record<string, number | string | null>;

export interface SweepSnapshot {
  /** Every layer row (all statuses), with the checkpoint's directory name. */
  rows: {
    dir: string;
    layerName: string;
    status: string;
    error: string | null;
    worker: string | null;
    metrics: Metrics;
  }[];
  /** Summary score by checkpoint directory. */
  scores: Map<string, number | null>;
}

/** Checkpoint dir → layer name → metrics, and scores by dir, of a clean sweep. */
export interface SweepReference {
  layers: Map<string, Map<string, Metrics>>;
  scores: Map<string, number | null>;
}

const dirOf = (uri: string) => uri.split('/').at(-2)!;

export async function sweepSnapshot(prisma: PrismaClient, started: StartedSweep): Promise<SweepSnapshot> {
  const inSweep = {
    configHash: started.configHash,
    checkpoint: { sweeps: { some: { sweepId: started.sweepId } } },
  };
  const rows = await prisma.layerResult.findMany({
    where: inSweep,
    select: {
      layerName: true,
      status: true,
      metrics: true,
      error: true,
      worker: true,
      checkpoint: { select: { uri: true } },
    },
  });
  const summaries = await prisma.checkpointSummary.findMany({
    where: inSweep,
    select: { score: true, checkpoint: { select: { uri: true } } },
  });
  return {
    rows: rows.map((r) => ({
      dir: dirOf(r.checkpoint.uri),
      layerName: r.layerName,
      status: r.status,
      error: r.error,
      worker: r.worker,
      metrics: decodeMetrics(r.metrics),
    })),
    scores: new Map(summaries.map((s) => [dirOf(s.checkpoint.uri), s.score])),
  };
}

export function referenceOf(snapshot: SweepSnapshot): SweepReference {
  const layers = new Map<string, Map<string, Metrics>>();
  for (const row of snapshot.rows) {
    const byLayer = layers.get(row.dir) ?? new Map<string, Metrics>();
    byLayer.set(row.layerName, row.metrics);
    layers.set(row.dir, byLayer);
  }
  return { layers, scores: snapshot.scores };
}

/** Every layer exactly once, succeeded, equal to the reference; every score too. */
export async function expectSameAsReference(
  prisma: PrismaClient,
  started: StartedSweep,
  reference: SweepReference,
): Promise<SweepSnapshot> {
  const snapshot = await sweepSnapshot(prisma, started);
  const layerCount = [...reference.layers.values()].reduce((n, m) => n + m.size, 0);
  expect(snapshot.rows).toHaveLength(layerCount);
  const seen = new Set<string>();
  for (const row of snapshot.rows) {
    const key = `${row.dir}/${row.layerName}`;
    expect(seen.has(key), `duplicate ${key}`).toBe(false);
    seen.add(key);
    expect(row.status, `${key}: ${row.error}`).toBe('succeeded');
    const want = reference.layers.get(row.dir)?.get(row.layerName);
    expect(want, `${key} is not in the reference`).toBeDefined();
    expect(Object.keys(row.metrics).sort(), key).toEqual(Object.keys(want!).sort());
    for (const [name, value] of Object.entries(want!)) {
      if (typeof value === 'number') {
        expect(Math.abs((row.metrics[name] as number) - value), `${key} ${name}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(value)),
        );
      } else expect(row.metrics[name], `${key} ${name}`).toEqual(value);
    }
  }
  expect(snapshot.scores.size).toBe(reference.scores.size);
  for (const [dir, score] of reference.scores) expect(snapshot.scores.get(dir), dir).toBeCloseTo(score!, 9);
  return snapshot;
}
