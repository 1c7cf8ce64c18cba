/**
 * `weightlens sweep <uri…> [--name N] [--config file.json] [--wait]`: start a distributed sweep.
 * With nothing configured the local stack is started; with `--wait` and a local Temporal (no
 * TEMPORAL_ADDRESS) an in-process worker joins, so the first run needs no other step. `--wait`
 * shows a live progress bar on stderr and ends with the ranked leaderboard. `--curvature cpu|gpu`
 * adds one curvature activity per checkpoint on the gpu queue (flags in sweep-curvature.ts); the
 * embedded mode then also spawns a `weightlens worker --queue gpu` child process.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { SweepProgress } from '../../contracts/sweep.ts';
import { createPrismaClient } from '../../db/client.ts';
import { formatEta, type LayerProgress, sweepLayerProgress } from '../../db/layer-progress.ts';
import { failedSweepCheckpoints, incompleteSweepCheckpoints } from '../../db/sweeps.ts';
import { resolveServices, type Services } from '../../infra/config.ts';
import { s3StorageOptions } from '../../infra/paths.ts';
import { resolveBaseCheckpoint } from '../../lib/deltas.ts';
import { BadInputError, ConfigError } from '../../lib/errors.ts';
import { defaultAnalysisConfig, parseAnalysisConfig } from '../../lib/spectral/index.ts';
import type { AnalysisConfig } from '../../lib/spectral/types.ts';
import { createStorage } from '../../storage/index.ts';
import { createWorker, type RunningWorker } from '../../workers/create.ts';
import { resolveSweepCurvature } from '../../workers/curvature-request.ts';
import { awaitSweep, connectClient, resumeSweep, startSweep } from '../../workers/sweep-client.ts';
import { startWorkerChild, type WorkerChild } from '../../workers/worker-process.ts';
import { terminalText } from '../terminal-text.ts';
import { dashboardUrl } from './dashboard.ts';
import { ABOVE_MAX_N_HELP, ESTIMATORS_HELP, withEstimatorFlags } from './estimator-options.ts';
import { loadLeaderboard, renderLeaderboard } from './leaderboard.ts';
import {
  addCurvatureOptions,
  type CurvatureFlags,
  curvatureCountsLine,
  curvatureRequestFromFlags,
  renderSweepCurvature,
} from './sweep-curvature.ts';
import { parseConcurrency } from './worker.ts';

interface SweepOptions extends CurvatureFlags {
  name?: string;
  config?: string;
  wait?: boolean;
  localWorker?: boolean;
  concurrency?: string;
  estimators?: string;
  hillXmin?: string;
  aboveMaxN?: string;
  base?: string;
}

export async function loadConfig(file: string | undefined): Promise<AnalysisConfig> {
  if (!file) return defaultAnalysisConfig;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BadInputError(
      `cannot read the config file: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`config is not valid JSON: ${(err as Error).message}`, { file }, { cause: err });
  }
  return parseAnalysisConfig(json);
}

/**
 * One status line; a bar when stderr is a terminal. With `stored` (the layer rows in Postgres)
 * the bar and counts move as each layer is stored, not as whole checkpoints finish.
 */
export function progressLine(p: SweepProgress, width = 30, stored?: LayerProgress): string {
  // Runs started by older clients carry no `incomplete` counter.
  const incomplete = p.incomplete ?? 0;
  const finished = p.succeeded + p.failed + incomplete;
  const byLayers = stored !== undefined && stored.layersTotal > 0;
  const fraction = byLayers ? stored.layersDone / stored.layersTotal : p.total > 0 ? finished / p.total : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  let layers = byLayers
    ? `layers ${stored.layersDone}/${stored.layersTotal} stored` +
      (stored.checkpointsInspected < stored.checkpointsTotal
        ? ` (${stored.checkpointsInspected}/${stored.checkpointsTotal} checkpoints inspected)`
        : '') +
      (stored.etaSeconds !== null && stored.etaSeconds > 0 ? `, ETA ${formatEta(stored.etaSeconds)}` : '')
    : `layers ${p.layersComputed} computed, ${p.layersReused} reused, ${p.layersFailed} failed`;
  const curvatureDone = p.curvatureComputed + p.curvatureReused + p.curvatureSkipped + p.curvatureFailed;
  if (curvatureDone > 0) layers += ` · ${curvatureCountsLine(p)}`;
  const what = p.phase === 'discovering' ? 'discovering checkpoints' : `${finished}/${p.total} checkpoints`;
  const incompleteText = incomplete > 0 ? ` · ${incomplete} incomplete` : '';
  return `${bar} ${what} · ${p.failed} failed${incompleteText} · ${p.running} running · ${layers}`;
}

function progressPrinter() {
  const tty = process.stderr.isTTY === true;
  let last = '';
  let lastPrintedAt = 0;
  return {
    update(p: SweepProgress, stored?: LayerProgress) {
      const line = terminalText(progressLine(p, 30, stored));
      if (line === last) return;
      last = line;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (Date.now() - lastPrintedAt > 5_000) {
        // Logs and CI: an occasional full line instead of carriage-return redraws.
        process.stderr.write(`${line}\n`);
        lastPrintedAt = Date.now();
      }
    },
    done() {
      if (tty && last) process.stderr.write('\n');
    },
  };
}

async function gpuWorkerDied(child: WorkerChild): Promise<never> {
  const how = await child.exited;
  throw new ConfigError(`the curvature (gpu queue) worker exited (${how}):\n${child.output().trim()}`);
}

/**
 * `--base`: the one checkpoint it names and its content hash join the config (and so its hash:
 * another base, or the same one changed, recomputes). A base given in --config is resolved too.
 */
async function withBase(
  config: AnalysisConfig,
  base: string | undefined,
  services: Services,
): Promise<AnalysisConfig> {
  const uri = base ?? config.base;
  if (!uri) return config;
  const resolved = await resolveBaseCheckpoint(uri, createStorage({ s3: s3StorageOptions(services.s3) }));
  return parseAnalysisConfig({ ...config, base: resolved.uri, baseContentHash: resolved.contentHash });
}

export function register(program: Command): void {
  const command = program
    .command('sweep')
    .description(
      'analyze every checkpoint under files, directories or s3:// prefixes, distributed over workers',
    )
    .argument('<uri...>', 'checkpoint files, directories or s3:// prefixes; or `resume <sweep>`')
    .option('--name <name>', 'a name for the sweep (default: from the sources)')
    .option('--config <file>', 'analysis options as JSON (WeightWatcher names, e.g. {"minEvals": 50})')
    .option('--wait', 'follow the sweep with a progress bar and print the leaderboard at the end')
    .option('--estimators <list>', ESTIMATORS_HELP)
    .option('--hill-xmin <rule>', 'x_min rule of alpha_hill: xmin_mid (default) or xmin_peak')
    .option('--above-max-n <mode>', ABOVE_MAX_N_HELP)
    .option(
      '--base <uri>',
      'analyze W − W_base against this base checkpoint (fine-tune deltas; LoRA adapters also W_base + ΔW)',
    );
  addCurvatureOptions(command)
    .option('--local-worker', 'run a worker in this process while waiting (default with a local Temporal)')
    .option('--no-local-worker', 'never run a worker in this process')
    .option('--concurrency <n>', 'layer analyses at once in the in-process worker (default: cores)')
    .action(async (uris: string[], options: SweepOptions) => {
      // Checked before any service starts.
      const curvature = resolveSweepCurvature(curvatureRequestFromFlags(options));
      const configured = withEstimatorFlags(await loadConfig(options.config), options);
      const concurrency = parseConcurrency(options.concurrency);
      const services = await resolveServices({ start: true });
      const config = await withBase(configured, options.base, services);
      // Embedded default: a local Temporal has no other workers unless the user started some.
      const inProcessWorker = options.wait === true && (options.localWorker ?? !process.env.TEMPORAL_ADDRESS);
      const prisma = createPrismaClient(services.databaseUrl);
      const temporal = await connectClient(services);
      let worker: RunningWorker | undefined;
      let gpuWorker: WorkerChild | undefined;
      try {
        if (inProcessWorker) {
          worker = await createWorker({ queue: 'cpu', concurrency, services, quiet: true });
          void worker.run();
          // Curvature gets its own process (tfjs state is global, its kernels block the event loop).
          if (curvature) gpuWorker = await startWorkerChild('gpu', services);
        }
        // `sweep resume <sweep>` (a local path named "resume" is ./resume).
        const resumeRef = uris[0] === 'resume' && uris.length === 2 ? uris[1]! : undefined;
        const started = resumeRef
          ? await resumeSweep(temporal.client, prisma, resumeRef)
          : await startSweep(temporal.client, prisma, {
              sources: uris,
              config,
              name: options.name,
              curvature,
            });
        process.stderr.write(
          `${terminalText(`sweep ${started.name} (id ${started.sweepId}, workflow ${started.workflowId})`)}\n`,
        );
        if (!options.wait) {
          process.stdout.write(`${started.sweepId}\n`);
          process.stderr.write(
            `follow it with: npx weightlens status ${started.sweepId}` +
              (process.env.TEMPORAL_ADDRESS ? '\n' : '\n(workers: npx weightlens worker)\n') +
              (curvature ? '(curvature runs on gpu-queue workers: npx weightlens worker --queue gpu)\n' : ''),
          );
          return;
        }
        if (curvature && !gpuWorker) {
          process.stderr.write('curvature waits for gpu-queue workers: npx weightlens worker --queue gpu\n');
        }
        const printer = progressPrinter();
        // Layer rows are read from Postgres beside the workflow's query, at most one read at a time.
        let stored: LayerProgress | undefined;
        let reading = false;
        const following = awaitSweep(started.handle, (p) => {
          printer.update(p, stored);
          if (reading) return;
          reading = true;
          void sweepLayerProgress(prisma, started.sweepId)
            .then((next) => {
              stored = next;
            })
            .catch(() => undefined)
            .finally(() => {
              reading = false;
            });
        });
        // A gpu worker that dies would leave curvature activities waiting forever: stop waiting too.
        const result = gpuWorker
          ? await Promise.race([following, gpuWorkerDied(gpuWorker)])
          : await following;
        printer.update(
          { ...result, phase: 'completed', running: 0, runs: 0 },
          await sweepLayerProgress(prisma, started.sweepId).catch(() => undefined),
        );
        printer.done();
        for (const e of result.sourceErrors)
          process.stderr.write(`${terminalText(`source ${e.source}: ${e.error}`)}\n`);
        const failures = await failedSweepCheckpoints(prisma, started.sweepId);
        for (const f of failures) process.stderr.write(`${terminalText(`failed: ${f.uri}: ${f.error}`)}\n`);
        for (const c of await incompleteSweepCheckpoints(prisma, started.sweepId)) {
          process.stderr.write(
            `${terminalText(`incomplete (${c.layersDone} of ${c.layersTotal} layers): ${c.uri}: ${c.error}`)}\n`,
          );
        }
        const { rows } = await loadLeaderboard(prisma, started.sweepId);
        process.stdout.write(renderLeaderboard(rows, 'alpha_weighted', 'table'));
        if (curvature) {
          process.stdout.write(
            `\n${await renderSweepCurvature(prisma, started.sweepId, curvature.configHash)}`,
          );
          process.stderr.write(`\n${curvatureCountsLine(result)}`);
        }
        process.stderr.write(
          `\nsweep ${result.status.replaceAll('_', ' ')}: ${result.succeeded} analyzed, ${result.failed} failed` +
            `${result.incomplete > 0 ? `, ${result.incomplete} incomplete` : ''}; ${result.layersComputed} layers computed, ` +
            `${result.layersReused} reused.\n` +
            `Dashboard: ${dashboardUrl(started.sweepId)}   (serve it with: npx weightlens dashboard)\n` +
            `JSON: npx weightlens leaderboard --sweep ${started.sweepId} --format json\n`,
        );
        if (result.failed > 0 && result.succeeded === 0) process.exitCode = 1;
        if (result.status === 'completed_with_failures') {
          process.stderr.write(
            `finish the incomplete checkpoints with: npx weightlens sweep resume ${started.sweepId}\n`,
          );
          process.exitCode = 1;
        }
      } finally {
        await gpuWorker?.stop();
        await worker?.close();
        await temporal.close();
        await prisma.$disconnect();
      }
    });
}
