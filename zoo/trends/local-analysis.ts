/**
 * Development fallback: the same per-layer functions the activities call (lib/formats +
 * lib/spectral), run in this process on model.json checkpoints. Used only with --local, and the
 * report then says plainly that its numbers did not come from the pipeline.
 */
import { join } from 'node:path';
import { openCheckpoint } from '../../lib/formats/index.ts';
import { canonicalShape, mapTensors, readLayerWeights } from '../../lib/formats/layers.ts';
import {
  analyzeLayer,
  type LayerMetrics,
  layerFilter,
  parseAnalysisConfig,
  summarizeLayers,
} from '../../lib/spectral/index.ts';
import type { LayerType } from '../../lib/types.ts';
import { createStorage } from '../../storage/index.ts';
import { type MetricValues, SUMMARY_METRIC_NAMES, TRENDS_ANALYSIS_OPTIONS } from './analysis.ts';
import type { LeaderboardEntry } from './pipeline.ts';

const config = parseAnalysisConfig(TRENDS_ANALYSIS_OPTIONS);

export async function analyzeDirectoryLocally(
  zooDir: string,
  ids: string[],
): Promise<Map<string, LeaderboardEntry & { format: string }>> {
  const storage = createStorage();
  const out = new Map<string, LeaderboardEntry & { format: string }>();
  for (const id of ids) {
    const uri = join(zooDir, id, 'model.json');
    const ckpt = await openCheckpoint(uri, storage);
    const rows: LayerMetrics[] = [];
    let failed = 0;
    let layerId = 0;
    for (const mapped of mapTensors(ckpt)) {
      if (!mapped.analyzed || mapped.layerType === 'skipped') continue;
      const layerType = mapped.layerType as LayerType;
      const decision = layerFilter(
        mapped.tensor.name,
        layerType,
        canonicalShape(mapped, ckpt.format),
        config,
      );
      if (!decision.analyze) continue;
      try {
        const weights = await readLayerWeights(ckpt, mapped);
        rows.push((await analyzeLayer(weights, config, layerId++)).metrics);
      } catch {
        failed++;
      }
    }
    const summary = summarizeLayers(rows);
    const metrics: MetricValues = {};
    for (const name of SUMMARY_METRIC_NAMES) {
      const v = summary[name];
      metrics[name] = typeof v === 'number' ? v : null;
    }
    out.set(id, {
      uri,
      format: 'tfjs',
      known_test_accuracy: null,
      layers_analyzed: rows.length,
      layers_failed: failed,
      correlation_traps: 0,
      metrics,
    });
  }
  return out;
}
