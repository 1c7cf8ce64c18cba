/**
 * The layer activities: read exactly each tensor's bytes (ranged reads through storage/), run the
 * spectral analysis off the event loop (lib/spectral's async analyzeLayer), store the ESD in object
 * storage and upsert the LayerResult. A batch runs several small layers of one checkpoint in one
 * activity (workflows/layer-batches.ts) and stores layer i while layer i+1 is analyzed, so the
 * fixed cost of an activity and the Postgres/S3 round trips stop dominating small layers.
 * Idempotent: an existing final result for (checkpoint, layer, config hash) is returned without
 * computing, which is what makes reruns and retried batches free.
 */
import { Context } from '@temporalio/activity';
import type { LayerBatchInput, LayerPlan, LayerTaskResult } from '../contracts/checkpoint.ts';
import type { SweepActivities } from '../contracts/sweep.ts';
import {
  findLayerResults,
  type SucceededLayer,
  upsertFailedLayer,
  upsertFailedLayers,
  upsertSucceededLayers,
} from '../db/results.ts';
import { planLayersAgainstBase, readPlannedWeights } from '../lib/deltas.ts';
import { BadInputError, type FailureKind, failureKindOf, isBadInput } from '../lib/errors.ts';
import type { PlannedLayer } from '../lib/layer-plan.ts';
import { analyzeLayer } from '../lib/spectral/index.ts';
import type { LayerWeights } from '../lib/types.ts';
import { layerAnalysisCost } from '../workflows/layer-batches.ts';
import { openBaseCached, openCached } from './checkpoint.ts';
import { untilAborted } from './compute-slots.ts';
import type { ActivityDeps } from './deps.ts';
import { failureText, isReusableLayerRow, mappingFailures, recordedFailure } from './failures.ts';
import { presolveOnDevice } from './same-shape.ts';

/** Succeeded layer rows per Postgres write (a batch holds at most 64 layers). */
const ROWS_PER_WRITE = 32;
/**
 * Stored rows are what progress counts (status, --wait, the dashboard): rows are written at the
 * latest this long after the previous write (a timer while a slow layer runs), so progress trails
 * the finished layers by about this much while small layers still share round trips.
 */
const ROW_FLUSH_MS = 2_000;

/** Heartbeats are throttled by the SDK; this only bounds how stale the progress detail gets. */
const HEARTBEAT_INTERVAL_MS = 5_000;

export function createLayerActivities(
  deps: ActivityDeps,
): Pick<
  SweepActivities,
  'analyzeLayerActivity' | 'analyzeLayerBatch' | 'recordLayerFailure' | 'recordLayerBatchFailure'
> {
  return {
    analyzeLayerActivity: (input) =>
      mappingFailures(async () => {
        const checkpoint = await deps.prisma.checkpoint.findUnique({
          where: { id: input.checkpointId },
          select: { contentHash: true },
        });
        if (!checkpoint) throw new BadInputError('checkpoint row is missing', { file: input.uri });
        const [result] = await analyzeBatch(
          deps,
          { ...input, contentHash: checkpoint.contentHash, layers: [input.layer] },
          { rethrowBadInput: true },
        );
        return result!;
      }),

    analyzeLayerBatch: (input) =>
      mappingFailures(() => analyzeBatch(deps, input, { rethrowBadInput: false })),

    recordLayerFailure: (input) =>
      mappingFailures(async () => {
        await upsertFailedLayer(deps.prisma, {
          checkpointId: input.checkpointId,
          configHash: input.configHash,
          layerName: input.layer.layerName,
          layerId: input.layer.layerId,
          layerType: input.layer.layerType,
          status: 'failed',
          error: input.reason,
          failure: recordedFailure(input),
          worker: deps.workerName,
        });
      }),

    recordLayerBatchFailure: (input) =>
      mappingFailures(async () => ({
        failed: await upsertFailedLayers(
          deps.prisma,
          input.layers.map((layer) => failedRow(deps, input, layer, input.reason, recordedFailure(input))),
        ),
      })),
  };
}

/**
 * The layers of `input` in order. Bad input in a layer is recorded against it; with
 * `rethrowBadInput` (the single-layer activity) it then fails the activity as before, otherwise it
 * becomes that layer's failed result. Anything else fails the activity after the stores already
 * started have settled, so a retry finds those layers done.
 */
async function analyzeBatch(
  deps: ActivityDeps,
  input: LayerBatchInput,
  options: { rethrowBadInput: boolean },
): Promise<LayerTaskResult[]> {
  const { checkpointId, configHash, contentHash } = input;
  const existing = new Map(
    (
      await findLayerResults(
        deps.prisma,
        checkpointId,
        configHash,
        input.layers.map((l) => l.layerName),
      )
    ).map((row) => [row.layerName, row]),
  );

  const context = Context.current();
  let progress = { layer: '', index: 0, phase: 'reading' };
  const beat = () => context.heartbeat({ ...progress, of: input.layers.length });
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  // Stores run one at a time, behind the next layer's analysis; the first failure is kept.
  let storing: Promise<void> = Promise.resolve();
  let storeError: { error: unknown } | undefined;
  // Succeeded rows are written together (one round trip per ROWS_PER_WRITE layers), after their ESDs.
  const pendingRows: SucceededLayer[] = [];
  let lastWrite = Date.now();
  const writeRows = () => {
    lastWrite = Date.now();
    return upsertSucceededLayers(deps.prisma, pendingRows.splice(0));
  };
  const results: LayerTaskResult[] = [];
  const flushTimer = setInterval(() => {
    if (pendingRows.length === 0 || Date.now() - lastWrite < ROW_FLUSH_MS) return;
    storing = storing.then(writeRows).catch((error: unknown) => {
      storeError ??= { error };
    });
  }, ROW_FLUSH_MS / 2);
  try {
    let plannedByName: Map<string, PlannedLayer> | undefined;
    const readWeights = async (layer: LayerPlan): Promise<LayerWeights> => {
      const [ckpt, base] = await Promise.all([
        openCached(deps, checkpointId, input.uri),
        openBaseCached(deps, input.config),
      ]);
      plannedByName ??= new Map(
        planLayersAgainstBase(ckpt, base, input.config).layers.map((p) => [p.name, p]),
      );
      const planned = plannedByName.get(layer.layerName);
      if (!planned) {
        throw new BadInputError('tensor is no longer an analyzable layer of the checkpoint', {
          file: input.uri,
          tensor: layer.tensorName,
        });
      }
      return readPlannedWeights(ckpt, base, planned);
    };
    const toCompute = input.layers.filter((layer) => {
      const row = existing.get(layer.layerName);
      return !(row && isReusableLayerRow(row));
    });
    const presolved = await presolveOnDevice(toCompute, readWeights, input.config, (work) =>
      untilAborted(deps.compute.run(work, context.cancellationSignal), context.cancellationSignal),
    );
    for (const [index, layer] of input.layers.entries()) {
      if (storeError) throw storeError.error;
      context.cancellationSignal.throwIfAborted();
      const row = existing.get(layer.layerName);
      if (row && isReusableLayerRow(row)) {
        results.push({
          layerName: layer.layerName,
          status: row.status === 'failed' ? 'failed' : 'succeeded',
          computed: false,
          alphaWeighted: row.alphaWeighted,
        });
        continue;
      }
      const key = { checkpointId, layerName: layer.layerName, configHash };
      progress = { layer: layer.layerName, index, phase: 'reading' };
      try {
        const pre = presolved.get(layer.layerName);
        presolved.delete(layer.layerName);
        const readStarted = performance.now();
        const weights = pre?.weights ?? (await readWeights(layer));
        if (!pre) deps.readAhead.noteRead(performance.now() - readStarted);
        progress = { ...progress, phase: 'waiting for a compute slot' };
        const analysis = await untilAborted(
          deps.compute.run(
            () => {
              progress = { ...progress, phase: 'analyzing' };
              return analyzeLayer(weights, input.config, layer.layerId, { solved: pre?.solved });
            },
            context.cancellationSignal,
            pre?.solved
              ? undefined
              : { key: `${layer.layerType} ${layer.shape.join('×')}`, cost: layerAnalysisCost(layer) },
          ),
          context.cancellationSignal,
        );
        context.cancellationSignal.throwIfAborted();
        // Only what the row needs is kept for the store, not the layer's weights.
        const quantization = weights.quantization?.scheme ?? null;
        const store = async () => {
          const esdUri = await deps.esd.put(
            { contentHash, configHash, layerName: layer.layerName },
            analysis.eigenvalues,
          );
          pendingRows.push({
            ...key,
            layerId: layer.layerId,
            layerType: layer.layerType,
            metrics: analysis.metrics,
            esdUri,
            quantization,
            durationMs: analysis.durationMs,
            worker: deps.workerName,
            eigenBackend: analysis.eigenBackend,
          });
          if (pendingRows.length >= ROWS_PER_WRITE || Date.now() - lastWrite >= ROW_FLUSH_MS)
            await writeRows();
        };
        storing = storing.then(store).catch((error: unknown) => {
          storeError ??= { error };
        });
        results.push({
          layerName: layer.layerName,
          status: 'succeeded',
          computed: true,
          alphaWeighted: Number.isFinite(analysis.metrics.alpha_weighted)
            ? analysis.metrics.alpha_weighted
            : null,
        });
      } catch (err) {
        if (!isBadInput(err)) throw err;
        // Bad input is recorded against the layer: final, a rerun returns it without computing.
        await upsertFailedLayer(
          deps.prisma,
          failedRow(deps, input, layer, failureText(err), failureKindOf(err)),
        );
        if (options.rethrowBadInput) throw err;
        results.push({ layerName: layer.layerName, status: 'failed', computed: true, alphaWeighted: null });
      }
    }
    progress = { ...progress, phase: 'storing' };
    await storing;
    if (storeError) throw storeError.error;
    await writeRows();
    return results;
  } finally {
    // Never leave a store running past the activity (a retry would race it); layers whose ESD is
    // stored are recorded even when the activity fails, so its retry does not recompute them.
    clearInterval(flushTimer);
    await storing;
    if (pendingRows.length > 0) await writeRows().catch(() => undefined);
    clearInterval(timer);
  }
}

function failedRow(
  deps: ActivityDeps,
  input: Pick<LayerBatchInput, 'checkpointId' | 'configHash'>,
  layer: Pick<LayerPlan, 'layerName' | 'layerId' | 'layerType'>,
  error: string,
  failure: FailureKind,
) {
  return {
    checkpointId: input.checkpointId,
    configHash: input.configHash,
    layerName: layer.layerName,
    layerId: layer.layerId,
    layerType: layer.layerType,
    status: 'failed' as const,
    error,
    failure,
    worker: deps.workerName,
  };
}
