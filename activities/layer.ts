/**
 * The per-layer activity: read exactly one tensor's bytes (ranged reads through storage/), run the
 * spectral analysis off the event loop (lib/spectral's async analyzeLayer), store the ESD in object
 * storage and upsert the LayerResult. Idempotent: an existing result for (checkpoint, layer,
 * config hash) is returned without computing, which is what makes reruns free.
 */
import { Context } from '@temporalio/activity';
import { findLayerResult, upsertFailedLayer, upsertSucceededLayer } from '../db/results.ts';
import { BadInputError, isBadInput } from '../lib/errors.ts';
import { mapTensors, readLayerWeights } from '../lib/formats/layers.ts';
import { analyzeLayer } from '../lib/spectral/index.ts';
import type { LayerTaskInput, LayerTaskResult, SweepActivities } from '../workflows/types.ts';
import { openCached } from './checkpoint.ts';
import type { ActivityDeps } from './deps.ts';
import { failureText, isReusableLayerRow, mappingFailures } from './failures.ts';

/** Heartbeats are throttled by the SDK; this only bounds how stale the progress detail gets. */
const HEARTBEAT_INTERVAL_MS = 5_000;

export function createLayerActivities(
  deps: ActivityDeps,
): Pick<SweepActivities, 'analyzeLayerActivity' | 'recordLayerFailure'> {
  return {
    analyzeLayerActivity: (input) => mappingFailures(() => analyzeLayerOnce(deps, input)),

    recordLayerFailure: (input) =>
      mappingFailures(() =>
        upsertFailedLayer(deps.prisma, {
          checkpointId: input.checkpointId,
          configHash: input.configHash,
          layerName: input.layer.layerName,
          layerId: input.layer.layerId,
          layerType: input.layer.layerType,
          status: 'failed',
          error: input.reason,
          worker: deps.workerName,
        }),
      ),
  };
}

async function analyzeLayerOnce(deps: ActivityDeps, input: LayerTaskInput): Promise<LayerTaskResult> {
  const { checkpointId, configHash, layer } = input;
  const key = { checkpointId, layerName: layer.layerName, configHash };
  const existing = await findLayerResult(deps.prisma, key);
  if (existing && isReusableLayerRow(existing)) {
    return {
      layerName: layer.layerName,
      status: existing.status === 'failed' ? 'failed' : 'succeeded',
      computed: false,
      alphaWeighted: existing.alphaWeighted,
    };
  }

  const context = Context.current();
  let phase = 'reading';
  const beat = () => context.heartbeat({ layer: layer.layerName, phase });
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  try {
    const checkpoint = await deps.prisma.checkpoint.findUnique({
      where: { id: checkpointId },
      select: { contentHash: true },
    });
    if (!checkpoint) throw new BadInputError('checkpoint row is missing', { file: input.uri });
    const ckpt = await openCached(deps, checkpointId, input.uri);
    const mapped = mapTensors(ckpt).find((m) => m.tensor.name === layer.tensorName);
    if (!mapped?.analyzed) {
      throw new BadInputError('tensor is no longer an analyzable layer of the checkpoint', {
        file: input.uri,
        tensor: layer.tensorName,
      });
    }
    const weights = await readLayerWeights(ckpt, mapped);
    phase = 'analyzing';
    const analysis = await analyzeLayer(weights, input.config, layer.layerId);
    context.cancellationSignal.throwIfAborted();
    phase = 'storing';
    const esdUri = await deps.esd.put(
      { contentHash: checkpoint.contentHash, configHash, layerName: layer.layerName },
      analysis.eigenvalues,
    );
    await upsertSucceededLayer(deps.prisma, {
      ...key,
      layerId: layer.layerId,
      layerType: layer.layerType,
      metrics: analysis.metrics,
      esdUri,
      quantization: weights.quantization?.scheme ?? null,
      durationMs: analysis.durationMs,
      worker: deps.workerName,
    });
    return {
      layerName: layer.layerName,
      status: 'succeeded',
      computed: true,
      alphaWeighted: Number.isFinite(analysis.metrics.alpha_weighted)
        ? analysis.metrics.alpha_weighted
        : null,
    };
  } catch (err) {
    // Bad input is recorded against the layer before it becomes a non-retryable failure.
    if (isBadInput(err)) {
      await upsertFailedLayer(deps.prisma, {
        ...key,
        layerId: layer.layerId,
        layerType: layer.layerType,
        status: 'failed',
        error: failureText(err),
        worker: deps.workerName,
      });
    }
    throw err;
  } finally {
    clearInterval(timer);
  }
}
