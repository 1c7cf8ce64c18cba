/**
 * One plan for the dashboard's plan page: the stored plan (db/plans.ts), each layer's Hessian trace
 * when the plan or the checkpoint's latest succeeded curvature run stored one, and the name the
 * other pages give the checkpoint. Nothing is recomputed here.
 */

import { checkpointDisplayName } from '../checkpoint-name.ts';
import { readPlan, type StoredPlan, type StoredPlanLayer } from '../plans.ts';
import { curvatureForLayer, curvaturePerLayer } from './checkpoint.ts';
import type { Db } from './client.ts';

export interface PlanPageLayer extends StoredPlanLayer {
  /** Where `trace` came from: the plan's own input, a stored curvature run, or nowhere. */
  traceSource: 'plan' | 'curvature' | null;
}

export interface PlanPage extends Omit<StoredPlan, 'layers'> {
  name: string;
  layers: PlanPageLayer[];
  /** The curvature run the traces were read from, when any. */
  curvature: { configHash: string; dataSource: string } | null;
}

export async function fetchPlanPage(db: Db, planId: string): Promise<PlanPage | null> {
  const stored = await readPlan(db, planId);
  if (!stored) return null;
  const curvatureRows = await db.curvatureResult.findMany({
    where: { checkpointId: stored.checkpoint.id, status: 'succeeded' },
    orderBy: { createdAt: 'desc' },
    select: { configHash: true, dataSource: true, layers: true },
  });
  const withLayers = curvatureRows
    .map((row) => ({ row, perLayer: curvaturePerLayer(row.layers) }))
    .find((entry) => entry.perLayer.size > 0);
  let fromCurvature = false;
  const layers = stored.layers.map((layer): PlanPageLayer => {
    if (layer.trace !== null) return { ...layer, traceSource: 'plan' };
    const trace = withLayers ? curvatureForLayer(withLayers.perLayer, layer.name)?.trace : undefined;
    if (typeof trace !== 'number') return { ...layer, traceSource: null };
    fromCurvature = true;
    return { ...layer, trace, traceSource: 'curvature' };
  });
  const checkpoint = await db.checkpoint.findUnique({
    where: { id: stored.checkpoint.id },
    select: { metadata: true },
  });
  const metadata = checkpoint?.metadata;
  const metadataName =
    metadata && typeof metadata === 'object' && !Array.isArray(metadata) && typeof metadata.name === 'string'
      ? metadata.name
      : null;
  return {
    ...stored,
    name: checkpointDisplayName(stored.checkpoint.uri, metadataName),
    layers,
    curvature:
      fromCurvature && withLayers
        ? { configHash: withLayers.row.configHash, dataSource: withLayers.row.dataSource }
        : null,
  };
}
