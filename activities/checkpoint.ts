/**
 * Checkpoint-level activities: inspect (headers only → the analyzable layers, skipped ones recorded
 * with their reason), summarize (WeightWatcher summary + predicted-quality score), and failure
 * recording. Headers are cached per worker so the per-layer activities do not re-parse them.
 */

import type { CheckpointSummaryOutcome, LayerPlan } from '../contracts/checkpoint.ts';
import type { SweepActivities } from '../contracts/sweep.ts';
import {
  checkpointLayerRows,
  decodeMetrics,
  deleteCheckpointSummary,
  recordSkippedLayers,
  upsertCheckpointSummary,
} from '../db/results.ts';
import { updateSweepCheckpoint } from '../db/sweeps.ts';
import { checkBaseContent, planLayersAgainstBase } from '../lib/deltas.ts';
import { openCheckpoint } from '../lib/formats/index.ts';
import type { OpenedCheckpoint } from '../lib/formats/types.ts';
import { summarizeExpertGroups } from '../lib/spectral/expert-groups.ts';
import { countFlags, storedFlags } from '../lib/spectral/flags.ts';
import { summarizeLayers } from '../lib/spectral/index.ts';
import type { AnalysisConfig, LayerMetrics } from '../lib/spectral/types.ts';
import type { ActivityDeps } from './deps.ts';
import { checkpointCompleteness, isReusableLayerRow, mappingFailures } from './failures.ts';

/** The checkpoint's parsed headers, shared by the activities of one worker (bounded LRU by checkpoint id). */
export function openCached(deps: ActivityDeps, checkpointId: string, uri: string): Promise<OpenedCheckpoint> {
  return deps.openedCheckpoints.get(checkpointId, () => openCheckpoint(uri, deps.storage));
}

/**
 * The base checkpoint of a delta analysis (config.base), cached like the checkpoints under its
 * uri and configured content hash; undefined without a base.
 */
export async function openBaseCached(
  deps: ActivityDeps,
  config: AnalysisConfig,
): Promise<OpenedCheckpoint | undefined> {
  const uri = config.base;
  if (!uri) return undefined;
  return deps.openedCheckpoints.get(`base\0${uri}\0${config.baseContentHash ?? ''}`, () =>
    openCheckpoint(uri, deps.storage),
  );
}

export function createCheckpointActivities(
  deps: ActivityDeps,
): Pick<SweepActivities, 'inspectCheckpoint' | 'summarizeCheckpoint' | 'recordCheckpointFailure'> {
  return {
    inspectCheckpoint: (input) =>
      mappingFailures(async () => {
        const { sweepId, checkpointId, configHash, config } = input;
        // A base overwritten since the sweep started must not be compared under the old key.
        await checkBaseContent(config, deps.storage);
        const [ckpt, base] = await Promise.all([
          openCached(deps, checkpointId, input.uri),
          openBaseCached(deps, config),
        ]);
        const stored = new Map(
          (await checkpointLayerRows(deps.prisma, checkpointId, configHash)).map((row) => [
            row.layerName,
            row,
          ]),
        );
        let reused = 0;
        let reusedFailed = 0;
        const layers: LayerPlan[] = [];
        const plan = planLayersAgainstBase(ckpt, base, config);
        const skipped = plan.skipped.map((s) => ({
          layerName: s.name,
          layerId: s.layerId,
          layerType: s.layerType,
          error: s.reason,
        }));
        for (const layer of plan.layers) {
          const existing = stored.get(layer.name);
          if (existing && existing.status !== 'skipped' && isReusableLayerRow(existing)) {
            reused += 1;
            if (existing.status === 'failed') reusedFailed += 1;
            continue;
          }
          layers.push({
            layerId: layer.layerId,
            layerName: layer.name,
            tensorName: layer.mapped.tensor.name,
            layerType: layer.layerType,
            shape: layer.shape,
            byteLength: layer.byteLength,
          });
        }
        // Independent writes: concurrently, on the pool's connections.
        const [, , { contentHash }] = await Promise.all([
          recordSkippedLayers(
            deps.prisma,
            skipped.map((s) => ({ ...s, checkpointId, configHash })),
          ),
          updateSweepCheckpoint(deps.prisma, sweepId, checkpointId, {
            status: 'running',
            layersTotal: layers.length + reused,
            error: null,
          }),
          deps.prisma.checkpoint.update({
            where: { id: checkpointId },
            data: { tensorCount: ckpt.tensors.length, parameters: BigInt(countParameters(ckpt)) },
            select: { contentHash: true },
          }),
        ]);
        return { layers, skipped: skipped.length, reused, reusedFailed, contentHash };
      }),

    summarizeCheckpoint: (input) =>
      mappingFailures(async (): Promise<CheckpointSummaryOutcome> => {
        const { sweepId, checkpointId, configHash } = input;
        const rows = await checkpointLayerRows(deps.prisma, checkpointId, configHash);
        const analyzed = rows.filter((r) => r.status === 'succeeded');
        const failed = rows.filter((r) => r.status === 'failed');
        const completeness = checkpointCompleteness(rows);
        if (!completeness.complete) {
          const first = rows.find((r) => r.status === 'failed' && !isReusableLayerRow(r));
          const reason =
            `incomplete: ${completeness.layersDone} of ${completeness.layersTotal} layers` +
            (first ? ` (first missing: ${first.layerName}: ${first.error})` : '');
          // A summary of an earlier, partial run must not stay ranked either.
          await Promise.all([
            deleteCheckpointSummary(deps.prisma, checkpointId, configHash),
            updateSweepCheckpoint(deps.prisma, sweepId, checkpointId, {
              status: 'incomplete',
              error: reason,
              layersDone: completeness.layersDone,
              layersFailed: failed.length,
            }),
          ]);
          return { status: 'incomplete', reason, score: null };
        }
        const metrics = analyzed.map((r) => decodeMetrics(r.metrics) as LayerMetrics);
        if (analyzed.length === 0) {
          const reason =
            failed.length > 0
              ? `no layer could be analyzed (${failed.length} failed; first: ${failed[0]!.layerName}: ${failed[0]!.error})`
              : `no analyzable layer (${rows.length} tensors skipped by the layer filters)`;
          await updateSweepCheckpoint(deps.prisma, sweepId, checkpointId, {
            status: 'failed',
            error: reason,
            layersDone: 0,
            layersFailed: failed.length,
          });
          return { status: 'failed', reason, score: null };
        }
        const summary = summarizeLayers(metrics);
        const score = typeof summary.alpha_weighted === 'number' ? summary.alpha_weighted : null;
        await upsertCheckpointSummary(deps.prisma, {
          checkpointId,
          configHash,
          summary,
          score,
          scoreMetric: 'alpha_weighted',
          layersAnalyzed: analyzed.length,
          layersFailed: failed.length,
          expertGroups: summarizeExpertGroups(metrics),
          ...countFlags(analyzed.map(storedFlags)),
        });
        await updateSweepCheckpoint(deps.prisma, sweepId, checkpointId, {
          status: 'succeeded',
          error: null,
          layersDone: analyzed.length,
          layersFailed: failed.length,
        });
        return { status: 'succeeded', score };
      }),

    recordCheckpointFailure: (input) =>
      mappingFailures(() =>
        updateSweepCheckpoint(deps.prisma, input.sweepId, input.checkpointId, {
          status: 'failed',
          error: input.reason,
        }),
      ),
  };
}

function countParameters(ckpt: OpenedCheckpoint): number {
  let total = 0;
  for (const tensor of ckpt.tensors) total += tensor.shape.reduce((a, b) => a * b, 1);
  return total;
}
