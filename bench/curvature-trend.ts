/**
 * `npm run bench:curvature-trend [-- --zoo DIR --family bs --samples N --probes P]`: the known
 * sharpness trend on the trained zoo — models trained with larger batches have a larger top Hessian
 * eigenvalue and trace. For every `<set>-bs<B>-ep<E>` checkpoint (plus the base run, whose batch size
 * is in its weightlens.json) it computes λmax (Lanczos, 20 steps) and the Hutchinson trace (fixed
 * probes, ± s.e.) on the same Fashion-MNIST test images, then Kendall τ of each against batch size.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initCurvatureBackend } from '../lib/curvature/backend.ts';
import { datasetTestBatch } from '../lib/curvature/data.ts';
import { analyzeCurvature } from '../lib/curvature/index.ts';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../lib/curvature/network.ts';
import { kendallTauB } from '../lib/stats/rank-correlation.ts';
import { createStorage } from '../storage/index.ts';

const { values: args } = parseArgs({
  options: {
    zoo: { type: 'string', default: '/root/.cache/weightlens/zoo/trained' },
    set: { type: 'string', default: 'fmnist-mlp' },
    epoch: { type: 'string', default: '03' },
    samples: { type: 'string', default: '1024' },
    probes: { type: 'string', default: '30' },
  },
});

interface Row {
  name: string;
  batchSize: number;
  accuracy: number | null;
  topEigenvalue: number;
  trace: number;
  traceSe: number;
  seconds: number;
}

const backend = await initCurvatureBackend();
const storage = createStorage();
const pattern = new RegExp(`^${args.set}-(bs\\d+|base)-ep${args.epoch}$`);
const dirs = readdirSync(args.zoo!)
  .filter((d) => pattern.test(d))
  .sort();
const rows: Row[] = [];
for (const dir of dirs) {
  const meta = JSON.parse(readFileSync(join(args.zoo!, dir, 'weightlens.json'), 'utf8')) as {
    known_test_accuracy?: number;
    hyperparameters?: { batch_size?: number };
  };
  const batchSize = meta.hyperparameters?.batch_size;
  if (!batchSize) continue;
  const model = await loadLayersModelFromStorage(join(args.zoo!, dir), storage);
  const network = buildCurvatureNetwork(model);
  const batch = datasetTestBatch('fashion-mnist', network, Number(args.samples));
  network.dispose();
  const report = await analyzeCurvature(model, batch, {
    topK: 1,
    lanczosSteps: 20,
    trace: true,
    traceRule: 'fixed',
    traceMaxProbes: Number(args.probes),
  });
  batch.x.dispose();
  const row: Row = {
    name: dir,
    batchSize,
    accuracy: meta.known_test_accuracy ?? null,
    topEigenvalue: report.topEigenvalues[0]!,
    trace: report.trace!,
    traceSe: report.traceStandardError!,
    seconds: report.durationMs / 1000,
  };
  rows.push(row);
  process.stderr.write(
    `${dir}: λmax ${row.topEigenvalue.toFixed(3)}, trace ${row.trace.toFixed(1)} ± ${row.traceSe.toFixed(1)} (${row.seconds.toFixed(0)} s)\n`,
  );
}
rows.sort((a, b) => a.batchSize - b.batchSize);
console.log(
  `backend ${backend.note}; ${args.samples} Fashion-MNIST test images; ${args.probes} Hutchinson probes`,
);
console.log('batch  test acc  λmax      trace (± s.e.)    checkpoint');
for (const r of rows) {
  console.log(
    `${String(r.batchSize).padStart(5)}  ${r.accuracy === null ? '   -   ' : (100 * r.accuracy).toFixed(2).padStart(7)}  ${r.topEigenvalue.toFixed(3).padStart(8)}  ${r.trace.toFixed(1).padStart(7)} ± ${r.traceSe.toFixed(1).padEnd(6)}  ${r.name}`,
  );
}
const sizes = rows.map((r) => r.batchSize);
const tauTop = kendallTauB(
  sizes,
  rows.map((r) => r.topEigenvalue),
).value;
const tauTrace = kendallTauB(
  sizes,
  rows.map((r) => r.trace),
).value;
console.log(
  `Kendall τ vs batch size: λmax ${tauTop?.toFixed(3)}, trace ${tauTrace?.toFixed(3)} (n = ${rows.length})`,
);
