/** Two or more checkpoints side by side: their newest summaries and layers matched by name. */

import { checkpointDisplayName } from '../checkpoint-name.ts';
import { type LayerRow, toLayerRow } from './checkpoint.ts';
import type { Db } from './client.ts';

export const COMPARE_MAX = 8;

export interface ComparedCheckpoint {
  id: string;
  name: string;
  family: string | null;
  step: number | null;
  knownTestAccuracy: number | null;
  configHash: string | null;
  summary: Record<string, number | null> | null;
  layers: Map<string, LayerRow>;
}

export async function fetchComparison(db: Db, ids: string[]): Promise<ComparedCheckpoint[]> {
  const unique = [...new Set(ids)].slice(0, COMPARE_MAX);
  const checkpoints = await db.checkpoint.findMany({
    where: { id: { in: unique } },
    include: { summaries: { orderBy: { computedAt: 'desc' }, take: 1 } },
  });
  const byId = new Map(checkpoints.map((checkpoint) => [checkpoint.id, checkpoint]));
  const ordered = unique.map((id) => byId.get(id)).filter((checkpoint) => checkpoint !== undefined);
  return Promise.all(
    ordered.map(async (checkpoint): Promise<ComparedCheckpoint> => {
      const summary = checkpoint.summaries[0] ?? null;
      const layers = summary
        ? await db.layerResult.findMany({
            where: { checkpointId: checkpoint.id, configHash: summary.configHash },
            orderBy: { layerId: 'asc' },
          })
        : [];
      const metadata = checkpoint.metadata as { name?: unknown } | null;
      return {
        id: checkpoint.id,
        name: checkpointDisplayName(
          checkpoint.uri,
          typeof metadata?.name === 'string' ? metadata.name : null,
        ),
        family: checkpoint.family,
        step: checkpoint.step,
        knownTestAccuracy: checkpoint.knownTestAccuracy,
        configHash: summary?.configHash ?? null,
        summary: summary
          ? {
              alpha_weighted: summary.alphaWeighted,
              alpha: summary.alpha,
              log_norm: summary.logNorm,
              log_alpha_norm: summary.logAlphaNorm,
              log_spectral_norm: summary.logSpectralNorm,
              stable_rank: summary.stableRank,
              mp_softrank: summary.mpSoftrank,
            }
          : null,
        layers: new Map(
          layers.map((layer) => [layer.layerName, toLayerRow(layer as unknown as Record<string, unknown>)]),
        ),
      };
    }),
  );
}
