/**
 * What `npm run bench:llm` prints: one block per measured sweep (with the issue's targets), the
 * per-shape analysis times, and the projections for the 32-layer 8B model and 70B/405B shapes.
 */
import { defaultAnalysisConfig } from '../lib/spectral/index.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import { LLAMA_SHAPES, type LlamaShape } from './llm-checkpoint.ts';
import {
  fitCostModel,
  formatDuration,
  type ModelProjection,
  projectModel,
  type ShapeTiming,
} from './llm-projection.ts';
import type { SweepMeasurement } from './llm-runs.ts';

export interface MeasuredCase {
  sweep: SweepMeasurement;
  /** Bytes of every object of the checkpoint (shards, index, config). */
  checkpointBytes: number;
  /** Stored bytes of the tensors the configuration analyzes. */
  analyzedBytes: number;
  decoderLayers: number;
  expectedMatrices: number;
}

const TARGETS = { peakRssBytes: 2e9, bytesRatio: 1.05, overhead: 0.1 };

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

function computeSeconds(m: SweepMeasurement): number {
  return m.layers.reduce((sum, l) => sum + l.seconds, 0);
}

/** wall − Σ compute / workers, relative to Σ compute / workers (the wall of perfect parallel compute). */
function overheadOf(m: SweepMeasurement): { seconds: number; fraction: number } {
  const ideal = computeSeconds(m) / m.workers;
  return { seconds: m.wallSeconds - ideal, fraction: (m.wallSeconds - ideal) / ideal };
}

/** Σ analysis per worker, busiest first. */
function perWorkerSeconds(m: SweepMeasurement): number[] {
  const byWorker = new Map<string, number>();
  for (const l of m.layers) byWorker.set(l.worker, (byWorker.get(l.worker) ?? 0) + l.seconds);
  return [...byWorker.values()].sort((a, b) => b - a);
}

export function printSweep(c: MeasuredCase, load: string): void {
  const m = c.sweep;
  const compute = computeSeconds(m);
  const overhead = overheadOf(m);
  const peak = Math.max(...m.memory.map((w) => w.peak));
  const ratio = m.s3GetBytes / c.checkpointBytes;
  console.log(
    `${m.workers} worker process(es), one analysis slot each: wall ${m.wallSeconds.toFixed(1)} s, ` +
      `${(c.decoderLayers / m.wallSeconds).toFixed(4)} decoder layers/s (${(m.layersComputed / m.wallSeconds).toFixed(3)} matrices/s); ` +
      `${m.layersComputed} matrices computed, ${m.layersSkipped} skipped, ${m.layersFailed} failed; load average now ${load}`,
  );
  if (m.layersComputed !== c.expectedMatrices)
    console.log(`  WARNING: expected ${c.expectedMatrices} matrices computed, got ${m.layersComputed}`);
  console.log(
    `  peak RSS per worker: ${m.memory.map((w, i) => `#${i + 1} ${gb(w.peak)} (idle ${gb(w.idle)})`).join(', ')} ` +
      `— target ≤ 2 GB: ${verdict(peak <= TARGETS.peakRssBytes)}`,
  );
  console.log(
    `  S3 bytes read: ${gb(m.s3GetBytes)} in ${m.s3Gets} GETs = ${ratio.toFixed(4)}× checkpoint bytes (${gb(c.checkpointBytes)}) ` +
      `— target ≤ 1.05×: ${verdict(ratio <= TARGETS.bytesRatio)}; ` +
      `${(m.s3GetBytes / c.analyzedBytes).toFixed(4)}× the analyzed tensors' bytes (${gb(c.analyzedBytes)}, ` +
      `${pct(c.analyzedBytes / c.checkpointBytes)} of the checkpoint; the rest is skipped by the configuration)`,
  );
  console.log(
    `  Σ per-layer analysis (stored durations): ${compute.toFixed(1)} s; overhead = wall − Σ/${m.workers} = ` +
      `${overhead.seconds.toFixed(1)} s = ${pct(overhead.fraction)} of compute — target ≤ 10%: ${verdict(overhead.fraction <= TARGETS.overhead)}`,
  );
  if (m.workers > 1) {
    // Split the overhead: uneven shares of the analyses (which worker got which matrix) against
    // everything else (wall − the busiest worker's Σ analysis).
    const shares = perWorkerSeconds(m);
    const busiest = shares[0] ?? 0;
    console.log(
      `  Σ analysis per worker: ${shares.map((s) => `${s.toFixed(1)} s`).join(', ')}; uneven shares ` +
        `${(busiest - compute / m.workers).toFixed(1)} s, the rest (wall − busiest worker's Σ) ` +
        `${(m.wallSeconds - busiest).toFixed(1)} s = ${pct((m.wallSeconds - busiest) / busiest)} of its compute`,
    );
  }
}

/** Mean analysis seconds per (M, N) shape. */
function shapeTimings(m: SweepMeasurement): ShapeTiming[] {
  const byShape = new Map<string, ShapeTiming>();
  for (const l of m.layers) {
    const key = `${l.M}x${l.N}`;
    const t = byShape.get(key) ?? { M: l.M, N: l.N, count: 0, meanSeconds: 0 };
    t.meanSeconds = (t.meanSeconds * t.count + l.seconds) / (t.count + 1);
    t.count += 1;
    byShape.set(key, t);
  }
  return [...byShape.values()].sort((a, b) => a.M * a.M * a.N - b.M * b.M * b.N);
}

const ALL_DECODER_MATRICES: AnalysisConfig = { ...defaultAnalysisConfig, maxEvals: 1e9, maxN: 1e9 };

export function printProjections(cases: MeasuredCase[], measuredShape: LlamaShape): void {
  const reference = cases.find((c) => c.sweep.workers === 1) ?? cases[0];
  if (!reference) return;
  const timings = shapeTimings(reference.sweep);
  console.log(`per-shape analysis time (${reference.sweep.workers} worker; M = min side, N = max side):`);
  for (const t of timings) {
    const others = cases
      .filter((c) => c !== reference)
      .map((c) => {
        const o = shapeTimings(c.sweep).find((x) => x.M === t.M && x.N === t.N);
        return o ? `; ${c.sweep.workers} workers ${o.meanSeconds.toFixed(2)} s` : '';
      })
      .join('');
    console.log(`  ${t.M}×${t.N}: ${t.count} matrices, mean ${t.meanSeconds.toFixed(2)} s${others}`);
  }
  const model = fitCostModel(timings);
  console.log(
    `cost model t = a·M²·N + b·M³ fitted to those means: a = ${model.a.toExponential(3)} s, b = ${model.b.toExponential(3)} s; ` +
      `on the measured shapes: ${timings.map((t) => `${t.M}×${t.N} ${((model.seconds(t.M, t.N) / t.meanSeconds - 1) * 100).toFixed(0)}%`).join(', ')}`,
  );
  const idle = Math.max(...reference.sweep.memory.map((w) => w.idle));
  const peak = Math.max(...reference.sweep.memory.map((w) => w.peak));
  const measured = projectModel(
    { ...measuredShape, layers: reference.decoderLayers },
    defaultAnalysisConfig,
    model,
  );
  const bytesPerElement = (peak - idle) / measured.largestElements;
  console.log(
    `memory: peak − idle RSS = ${gb(peak - idle)} over a largest matrix of ${(measured.largestElements / 1e6).toFixed(1)} M elements ` +
      `= ${bytesPerElement.toFixed(1)} bytes per element (projected peaks below = idle ${gb(idle)} + that × largest matrix)`,
  );

  // The 8B model at full depth from the measured per-shape means directly (the same shapes).
  const perLayer = timings.reduce((sum, t) => sum + t.meanSeconds * t.count, 0) / reference.decoderLayers;
  console.log(
    `projection for ${measuredShape.label} at N = ${measuredShape.layers} layers (measured N = ${reference.decoderLayers}; ` +
      `from the measured per-shape times, ${formatDuration(perLayer)} of analysis per layer):`,
  );
  for (const c of cases) {
    const overhead = overheadOf(c.sweep).fraction;
    const wall = (perLayer * measuredShape.layers * (1 + overhead)) / c.sweep.workers;
    const scaled = (c.sweep.wallSeconds / c.decoderLayers) * measuredShape.layers;
    console.log(
      `  ${c.sweep.workers} worker(s): ≈ ${formatDuration(wall)} (Σ compute / workers × (1 + measured overhead ${pct(overhead)})); ` +
        `measured wall per layer × ${measuredShape.layers}: ${formatDuration(scaled)}`,
    );
  }

  const rows: [string, ModelProjection][] = [];
  for (const shape of [measuredShape, LLAMA_SHAPES['70B'], LLAMA_SHAPES['405B']]) {
    rows.push(['default (WeightWatcher) filters', projectModel(shape, defaultAnalysisConfig, model)]);
    rows.push(['max_evals, max_N lifted', projectModel(shape, ALL_DECODER_MATRICES, model)]);
  }
  console.log(
    'projection table (cost model; 1 core = one single-slot worker; shapes from the published config.json: ' +
      '8B hidden 4096 / intermediate 14336 / 32 layers, 70B 8192 / 28672 / 80, 405B 16384 / 53248 / 126; ' +
      'all 8 KV heads × 128, vocabulary 128 256):',
  );
  console.log(
    '| model | filters | matrices / layer | skipped per layer | analysis / layer | whole model, 1 core | largest matrix | projected peak RSS |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [filters, p] of rows) {
    console.log(
      `| ${p.label} (${p.layers} layers) | ${filters} | ${p.matricesPerLayer} | ${p.skippedPerLayer.join('; ') || '—'} | ` +
        `${formatDuration(p.secondsPerLayer)} | ${formatDuration(p.computeSeconds)} | ${(p.largestElements / 1e6).toFixed(0)} M | ` +
        `${gb(idle + bytesPerElement * p.largestElements)} |`,
    );
  }
  const outside = rows[0]![1].skippedOutside;
  console.log(`  embedding and head (every shape, default filters): ${outside.join('; ') || 'analyzed'}`);
}
