/**
 * `npm run zoo:train` — trains the zoo plan (zoo/plan.ts) with TF.js on the wasm backend and
 * writes every checkpoint to the output directory (default /root/.cache/weightlens/zoo/trained).
 * The committed zoo/trained-manifest.json records each checkpoint's hyperparameters and measured
 * test accuracy; a regeneration is compared against it (±0.5 points) unless --write-manifest.
 *
 *   npm run zoo:train                      # train all, compare with the manifest
 *   npm run zoo:train -- --only bs         # runs whose name matches a regex
 *   npm run zoo:train -- --resume          # skip runs whose checkpoints all exist
 *   npm run zoo:train -- --shard 1/2       # every 2nd run from the 2nd (two processes)
 *   npm run zoo:train -- --converged       # the converged runs instead (zoo/plan-converged.ts)
 *   npm run zoo:train -- --write-manifest  # (re)write the selected runs' entries of zoo/trained-manifest.json
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { type DatasetName, type ImageDataset, loadDataset } from '../lib/data/datasets.ts';
import {
  ACCURACY_TOLERANCE,
  compareWithManifest,
  DEFAULT_TRAINED_ZOO_DIR,
  MANIFEST_PATH,
  type ManifestEntry,
  type TrainedZooManifest,
} from './manifest.ts';
import { checkpointId, hyperparametersOf, type RunSpec, zooPlan } from './plan.ts';
import { convergedPlan } from './plan-converged.ts';
import { initTrainingBackend, type TrainingBackend } from './tfjs-wasm.ts';
import { type TrainedCheckpoint, trainRun } from './trainer.ts';

interface SidecarOnDisk {
  epoch: number;
  step: number;
  known_test_accuracy: number;
}

function readSidecar(dir: string): SidecarOnDisk | null {
  const path = join(dir, 'weightlens.json');
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as SidecarOnDisk;
}

function manifestEntry(run: RunSpec, epoch: number, sidecar: SidecarOnDisk): ManifestEntry {
  return {
    id: checkpointId(run, epoch),
    run: run.run,
    set: run.set,
    varies: run.checkpointEpochs.length > 1 && epoch !== run.epochs ? 'epochs' : run.varies,
    // An early-stopped run's checkpoint holds the weights of its best epoch, known only from the sidecar.
    epoch: sidecar.epoch,
    step: sidecar.step,
    dataset: run.dataset,
    hyperparameters: hyperparametersOf(run),
    test_accuracy: sidecar.known_test_accuracy,
  };
}

/** Atomically claim a run for this process (exclusive create of a lock file). */
function claimRun(outDir: string, run: string): boolean {
  const claims = join(outDir, '.claims');
  mkdirSync(claims, { recursive: true });
  try {
    closeSync(openSync(join(claims, run), 'wx'));
    return true;
  } catch {
    return false;
  }
}

/**
 * The manifest after this run: the regenerated entries replace their committed ones, the other
 * committed entries stay (so `--converged --write-manifest` leaves the quick zoo's record alone),
 * in plan order (quick zoo, then converged runs).
 */
function mergedEntries(regenerated: ManifestEntry[]): ManifestEntry[] {
  const committed: ManifestEntry[] = existsSync(MANIFEST_PATH)
    ? (JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as TrainedZooManifest).checkpoints
    : [];
  const byId = new Map([...committed, ...regenerated].map((e) => [e.id, e]));
  const order = [...zooPlan, ...convergedPlan].map((r) => r.run);
  const rank = (e: ManifestEntry) => {
    const i = order.indexOf(e.run);
    return i < 0 ? order.length : i;
  };
  // Stable sort: a run's checkpoints keep their epoch order.
  return [...byId.values()].sort((a, b) => rank(a) - rank(b));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: DEFAULT_TRAINED_ZOO_DIR },
      only: { type: 'string' },
      resume: { type: 'boolean', default: false },
      'write-manifest': { type: 'boolean', default: false },
      backend: { type: 'string', default: 'wasm' },
      // "i/n": train only runs whose plan index ≡ i (mod n), to use n processes.
      shard: { type: 'string', default: '0/1' },
      // Several processes share one queue: each run is claimed (a lock file) by the first to start it.
      claim: { type: 'boolean', default: false },
      converged: { type: 'boolean', default: false },
    },
  });
  const outDir = values.out;
  const backend = values.backend as TrainingBackend;
  await initTrainingBackend(backend);
  const only = values.only === undefined ? null : new RegExp(values.only);
  const [shardIndex, shardCount] = values.shard.split('/').map(Number) as [number, number];
  const plan = values.converged ? convergedPlan : zooPlan;
  const runs = plan.filter(
    (r, index) => (only === null || only.test(r.run)) && index % shardCount === shardIndex,
  );
  const datasets = new Map<DatasetName, ImageDataset>();
  const log = (line: string) => console.log(`[zoo:train ${new Date().toISOString().slice(11, 19)}] ${line}`);
  log(`${runs.length} runs → ${outDir} (tfjs ${tf.version_core}, ${tf.getBackend()})`);
  const trained: TrainedCheckpoint[] = [];
  for (const run of runs) {
    const complete = run.checkpointEpochs.every(
      (e) => readSidecar(join(outDir, checkpointId(run, e))) !== null,
    );
    if (values.resume && complete) {
      log(`${run.run}: all checkpoints exist, skipped`);
      continue;
    }
    if (values.claim && !claimRun(outDir, run.run)) {
      log(`${run.run}: claimed by another process, skipped`);
      continue;
    }
    let dataset = datasets.get(run.dataset);
    if (dataset === undefined) {
      dataset = loadDataset(run.dataset);
      datasets.set(run.dataset, dataset);
    }
    trained.push(...(await trainRun(run, { outDir, dataset, log })));
  }
  const entries: ManifestEntry[] = [];
  for (const run of runs) {
    for (const epoch of run.checkpointEpochs) {
      const sidecar = readSidecar(join(outDir, checkpointId(run, epoch)));
      if (sidecar !== null) entries.push(manifestEntry(run, epoch, sidecar));
    }
  }
  log(
    `trained ${trained.length} checkpoints now; ${entries.length} of the selected runs present in ${outDir}`,
  );
  if (values['write-manifest']) {
    const manifest: TrainedZooManifest = {
      description:
        'Trained zoo: checkpoints written by `npm run zoo:train` (zoo/train.ts, plan in zoo/plan.ts). ' +
        'test_accuracy is measured on the official 10 000-image test split.',
      tfjs: tf.version_core,
      backend: tf.getBackend(),
      checkpoints: mergedEntries(entries),
    };
    writeFileSync(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
    log(
      `wrote ${MANIFEST_PATH} (${entries.length} checkpoints replaced, ${manifest.checkpoints.length} in all)`,
    );
    return;
  }
  if (!existsSync(MANIFEST_PATH)) {
    log('no committed manifest to compare with (use --write-manifest)');
    return;
  }
  const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as TrainedZooManifest;
  const problems = compareWithManifest(manifest, entries);
  if (problems.length > 0) {
    for (const p of problems) log(`MISMATCH ${p}`);
    process.exitCode = 1;
  } else {
    log(`all ${entries.length} accuracies within ±${ACCURACY_TOLERANCE * 100} points of the manifest`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
