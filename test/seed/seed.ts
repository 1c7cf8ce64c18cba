/**
 * Fill a database with sweeps of synthetic checkpoints shaped like the pipeline's output: one
 * completed sweep (families × training steps, per-layer results, summaries, curvature, ESDs in
 * storage) and one running sweep with failed and running items. Layer rows are shaped by the
 * pipeline's own db/results.ts functions (succeededLayerRow, failedLayerRow) and inserted in JSON
 * batches, so 1,000 checkpoints × 100 layers seed in seconds.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../../db/client.ts';
import { failedLayerRow, succeededLayerRow } from '../../db/results.ts';
import { encodeEsd } from '../../lib/esd-artifact.ts';
import { ALPHA_BAND } from '../../lib/metrics/display.ts';
import { columnOf, LAYER_METRICS } from '../../lib/metrics/registry.ts';
import { seededRandom } from '../../lib/random.ts';
import type { LayerMetrics } from '../../lib/spectral/types.ts';
import { type SyntheticLayer, syntheticLayer } from './synthetic.ts';

/** Where eigenvalue blobs go; returns the URI stored in LayerResult.esdUri. */
export type EsdSink = (key: string, bytes: Uint8Array) => Promise<string>;

export interface SeedOptions {
  /** Prefix of every id and name, so several seeds can share one database. */
  prefix: string;
  checkpoints: number;
  layersPerCheckpoint: number;
  families: string[];
  /** Store ESDs for the first this many checkpoints (each layer one object). */
  esdCheckpoints: number;
  esdSink: EsdSink | null;
  /** Name the first checkpoint and one of its layers with an HTML payload (must render as text). */
  hostileNames: boolean;
  seed: number;
}

export interface SeededCheckpoint {
  id: string;
  name: string;
  family: string;
  step: number;
  layerNames: string[];
}

export interface SeedResult {
  sweepId: string;
  runningSweepId: string;
  configHash: string;
  checkpoints: SeededCheckpoint[];
  /** Checkpoints of the running sweep, with the layers that failed there. */
  failedLayer: { checkpointId: string; layerName: string; error: string };
}

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const BATCH = 5_000;

function layerName(index: number): string {
  const block = Math.floor(index / 4);
  const part = ['attn.q_proj', 'attn.k_proj', 'mlp.up_proj', 'mlp.down_proj'][index % 4];
  return `model.layers.${block}.${part}.weight`;
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The pipeline's metrics row of a synthetic layer: every registry column by its WeightWatcher name. */
function seededMetrics(
  synthetic: SyntheticLayer,
  layerId: number,
  name: string,
  warning: string,
): LayerMetrics {
  const columns = synthetic.metrics as Record<string, number>;
  const values: Record<string, number | string | null> = {
    layer_id: layerId,
    name,
    layer_type: 'dense',
    rf: 1,
    warning,
    bulk_max: synthetic.bulkMax,
  };
  for (const metric of LAYER_METRICS) values[metric.name] ??= columns[columnOf(metric.name)] ?? null;
  return values as LayerMetrics;
}

/** Bulk tables written by JSON batches; the whitelist keeps table names out of user input. */
type BulkTable = 'Checkpoint' | 'SweepCheckpoint' | 'LayerResult' | 'CheckpointSummary' | 'CurvatureResult';

/** Prisma fields whose column name differs (schema.prisma @map: xmin/xmax are Postgres system columns). */
const MAPPED_COLUMNS: Record<string, string> = { xmin: 'pl_xmin', xmax: 'pl_xmax' };

function toColumns(row: object, now: string): Record<string, unknown> {
  const out: Record<string, unknown> = { createdAt: now, updatedAt: now, computedAt: now };
  for (const [key, value] of Object.entries(row)) {
    out[MAPPED_COLUMNS[key] ?? key] = typeof value === 'bigint' ? Number(value) : value;
  }
  out.id ??= randomUUID();
  return out;
}

/** Column defaults json_populate_recordset does not apply (an absent field is NULL). */
const TABLE_DEFAULTS: Partial<Record<BulkTable, object>> = {
  LayerResult: { errorFinal: false, flags: [] },
  CurvatureResult: { errorFinal: false },
};

/**
 * Insert rows as one JSON parameter per batch (json_populate_recordset). Prisma's createMany binds
 * one parameter per cell and took ~4 ms per row on the shared 2-core machine; this is ~100× faster,
 * which matters for the 100,000-row bench database. Column defaults are filled in explicitly.
 */
async function insertRows(db: PrismaClient, table: BulkTable, rows: object[]): Promise<void> {
  const now = new Date().toISOString();
  const defaults = TABLE_DEFAULTS[table] ?? {};
  for (let start = 0; start < rows.length; start += BATCH) {
    const json = JSON.stringify(
      rows.slice(start, start + BATCH).map((row) => toColumns({ ...defaults, ...row }, now)),
    );
    const name = Prisma.raw(`"${table}"`);
    await db.$executeRaw`INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, ${json}::json)`;
  }
}

export async function seedDashboardData(db: PrismaClient, options: SeedOptions): Promise<SeedResult> {
  const random = seededRandom(options.seed);
  const { prefix } = options;
  const configHash = createHash('sha256').update(`${prefix}/config`).digest('hex').slice(0, 16);
  const sweepId = `${prefix}-sweep`;
  const runningSweepId = `${prefix}-running`;
  const stepsPerFamily = Math.ceil(options.checkpoints / options.families.length);
  const checkpointRows: Prisma.CheckpointCreateManyInput[] = [];
  const layerRows: Prisma.LayerResultCreateManyInput[] = [];
  const summaryRows: Prisma.CheckpointSummaryCreateManyInput[] = [];
  const curvatureRows: Prisma.CurvatureResultCreateManyInput[] = [];
  const seeded: SeededCheckpoint[] = [];
  const esdWrites: { key: string; layer: SyntheticLayer; row: Prisma.LayerResultCreateManyInput }[] = [];

  for (let index = 0; index < options.checkpoints; index++) {
    const familyIndex = index % options.families.length;
    const family = options.families[familyIndex]!;
    const stepIndex = Math.floor(index / options.families.length);
    const step = (stepIndex + 1) * 100;
    const progress = stepsPerFamily > 1 ? stepIndex / (stepsPerFamily - 1) : 1;
    const hostile = options.hostileNames && index === 0;
    const name = hostile ? HOSTILE_NAME : `${family}-step${step}`;
    const id = `${prefix}-ckpt-${String(index).padStart(5, '0')}`;
    const layers: SyntheticLayer['metrics'][] = [];
    const names: string[] = [];
    // Training drives α down from MP-like (≈6) towards the heavy-tailed 2–4 range; families differ.
    const familyOffset = 0.4 * familyIndex;
    let failed = 0;
    for (let layer = 0; layer < options.layersPerCheckpoint; layer++) {
      const nameOfLayer = hostile && layer === 1 ? HOSTILE_NAME : layerName(layer);
      names.push(nameOfLayer);
      const depthEffect = 0.8 * Math.sin((layer / options.layersPerCheckpoint) * Math.PI);
      const alpha = Math.max(1.3, 6.2 - 3.6 * progress + familyOffset - depthEffect + 0.5 * (random() - 0.5));
      const M = 64 * (2 + (layer % 3));
      const N = M * (1 + (layer % 4));
      const layerFails = !hostile && index % 97 === 5 && layer === options.layersPerCheckpoint - 1;
      if (layerFails) {
        failed++;
        layerRows.push(
          failedLayerRow({
            checkpointId: id,
            configHash,
            layerName: nameOfLayer,
            layerId: layer,
            layerType: 'dense',
            status: 'failed',
            error: `BadInput: ${nameOfLayer}: weights contain NaN`,
            failure: { kind: 'BadInput', final: true },
            worker: 'seed',
          }),
        );
        continue;
      }
      const synthetic = syntheticLayer(random, N, M, alpha);
      layers.push(synthetic.metrics);
      const warning =
        synthetic.metrics.alpha < ALPHA_BAND.low
          ? 'over-trained'
          : synthetic.metrics.alpha > ALPHA_BAND.high
            ? 'under-trained'
            : '';
      const row: Prisma.LayerResultCreateManyInput = succeededLayerRow({
        checkpointId: id,
        configHash,
        layerName: nameOfLayer,
        layerId: layer,
        layerType: 'dense',
        metrics: seededMetrics(synthetic, layer, nameOfLayer, warning),
        esdUri: '',
        quantization: null,
        durationMs: 20 + Math.round(random() * 200),
        worker: 'seed',
        eigenBackend: 'seed',
      });
      // Set once its ESD is stored; layers past esdCheckpoints have none.
      row.esdUri = null;
      layerRows.push(row);
      if (options.esdSink && index < options.esdCheckpoints) {
        esdWrites.push({ key: `${prefix}/esd/${id}/${layer}.f64`, layer: synthetic, row });
      }
    }
    const alphas = layers.map((layer) => layer.alpha);
    const summaryAlphaWeighted = mean(layers.map((layer) => layer.alphaWeighted));
    summaryRows.push({
      checkpointId: id,
      configHash,
      alpha: mean(alphas),
      alphaWeighted: summaryAlphaWeighted,
      logNorm: mean(layers.map((layer) => layer.logNorm)),
      logAlphaNorm: mean(layers.map((layer) => layer.logAlphaNorm)),
      logSpectralNorm: mean(layers.map((layer) => layer.logSpectralNorm)),
      stableRank: mean(layers.map((layer) => layer.stableRank)),
      mpSoftrank: mean(layers.map((layer) => layer.mpSoftrank)),
      score: summaryAlphaWeighted,
      scoreMetric: 'alpha_weighted',
      layersAnalyzed: layers.length,
      layersFailed: failed,
      overTrained: alphas.filter((alpha) => alpha < ALPHA_BAND.low).length,
      underTrained: alphas.filter((alpha) => alpha > ALPHA_BAND.high).length,
      correlationTraps: index % 7 === 3 ? 1 + (index % 3) : 0,
    });
    // Accuracy improves with training and anti-correlates with α̂ (what HT-SR predicts), plus noise.
    const accuracy = Math.min(0.99, 0.55 + 0.35 * progress - 0.03 * familyIndex + 0.04 * (random() - 0.5));
    checkpointRows.push({
      id,
      uri: `s3://seed-models/${prefix}/${family}/${hostile ? HOSTILE_NAME : `step-${step}`}/model.safetensors`,
      contentHash: createHash('sha256').update(id).digest('hex'),
      format: 'safetensors',
      family,
      run: `${family}-run1`,
      step,
      epoch: step / 1000,
      parameters: BigInt(options.layersPerCheckpoint * 65_536),
      sizeBytes: BigInt(options.layersPerCheckpoint * 262_144),
      tensorCount: options.layersPerCheckpoint,
      knownTestAccuracy: accuracy,
      metadata: { name },
    });
    if (index % 5 === 0) {
      const top = 50 * (1 - 0.6 * progress) + 5 * random();
      curvatureRows.push({
        checkpointId: id,
        configHash,
        status: 'succeeded',
        dataSource: 'mnist-test[0:512]',
        topEigenvalues: [top, top * 0.7, top * 0.45],
        trace: top * 12,
        backend: 'tfjs-wasm',
        durationMs: 1_500,
      });
    }
    seeded.push({ id, name, family, step, layerNames: names });
  }

  if (options.esdSink) {
    const sink = options.esdSink;
    for (const write of esdWrites)
      write.row.esdUri = await sink(write.key, encodeEsd(write.layer.eigenvalues));
  }

  const total = options.checkpoints;
  await db.sweep.create({
    data: {
      id: sweepId,
      name: `${prefix} sweep`,
      status: 'completed',
      workflowId: `sweep-${sweepId}`,
      sources: [`s3://seed-models/${prefix}/`],
      config: { minEvals: 10, maxEvals: 15000 },
      configHash,
      checkpointsTotal: total,
      checkpointsDone: total,
      finishedAt: new Date(),
    },
  });
  await insertRows(db, 'Checkpoint', checkpointRows);
  await insertRows(
    db,
    'SweepCheckpoint',
    seeded.map((checkpoint) => ({
      sweepId,
      checkpointId: checkpoint.id,
      status: 'succeeded',
      layersTotal: options.layersPerCheckpoint,
      layersDone: options.layersPerCheckpoint,
      layersFailed: 0,
    })),
  );
  await insertRows(db, 'LayerResult', layerRows);
  await insertRows(db, 'CheckpointSummary', summaryRows);
  await insertRows(db, 'CurvatureResult', curvatureRows);

  const failedLayer = await seedRunningSweep(db, prefix, runningSweepId, seeded.slice(0, 3));
  return { sweepId, runningSweepId, configHash, checkpoints: seeded, failedLayer };
}

/** A second, still-running sweep over three of the checkpoints: one done, one running, one failed. */
async function seedRunningSweep(
  db: PrismaClient,
  prefix: string,
  sweepId: string,
  checkpoints: SeededCheckpoint[],
): Promise<SeedResult['failedLayer']> {
  const configHash = createHash('sha256').update(`${prefix}/config-running`).digest('hex').slice(0, 16);
  const [done, running, failed] = checkpoints;
  if (!done || !running || !failed) throw new Error('the running sweep needs three checkpoints');
  const error = 'BadInput: tensor has NaN values (layer weights corrupt)';
  await db.sweep.create({
    data: {
      id: sweepId,
      name: `${prefix} running sweep`,
      status: 'running',
      workflowId: `sweep-${sweepId}`,
      sources: [`s3://seed-models/${prefix}/`],
      config: { minEvals: 10, maxEvals: 15000, fit: 'pl' },
      configHash,
      checkpointsTotal: 3,
      checkpointsDone: 1,
      checkpointsFailed: 1,
    },
  });
  await db.sweepCheckpoint.createMany({
    data: [
      { sweepId, checkpointId: done.id, status: 'succeeded', layersTotal: 2, layersDone: 2 },
      {
        sweepId,
        checkpointId: running.id,
        status: 'running',
        layersTotal: 2,
        layersDone: 1,
        workflowId: `ckpt-${running.id}`,
      },
      {
        sweepId,
        checkpointId: failed.id,
        status: 'failed',
        layersTotal: 2,
        layersDone: 1,
        layersFailed: 1,
        error,
      },
    ],
  });
  const layer = (
    checkpointId: string,
    name: string,
    status: 'succeeded' | 'running' | 'failed',
    id: number,
  ) => ({
    checkpointId,
    configHash,
    layerName: name,
    layerId: id,
    layerType: 'dense',
    status,
    error: status === 'failed' ? error : null,
    errorKind: status === 'failed' ? 'BadInput' : null,
    errorFinal: status === 'failed',
    alpha: status === 'succeeded' ? 3.1 : null,
  });
  await db.layerResult.createMany({
    data: [
      layer(done.id, done.layerNames[0]!, 'succeeded', 0),
      layer(done.id, done.layerNames[2]!, 'succeeded', 2),
      layer(running.id, running.layerNames[0]!, 'succeeded', 0),
      layer(running.id, running.layerNames[2]!, 'running', 2),
      layer(failed.id, failed.layerNames[0]!, 'succeeded', 0),
      layer(failed.id, failed.layerNames[2]!, 'failed', 2),
    ],
  });
  return { checkpointId: failed.id, layerName: failed.layerNames[2]!, error };
}
