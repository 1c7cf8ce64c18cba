/**
 * `npm run experiment:trends` — do the data-free metrics predict measured test accuracy on the
 * trained zoo, and the published or measured quality order of pretrained series? Sweeps the zoo,
 * its shuffled-entries control and the pretrained series (zoo/trends/pretrained-series.ts; the
 * ESRGAN PSNR comes from `npm run experiment:esrgan-psnr`, run first when its report is missing)
 * through the real pipeline (`weightlens sweep … --wait`, then `weightlens leaderboard --format
 * json`), correlates, and writes docs/experiments/trends.md, trends.json and SVG plots.
 *
 *   npm run experiment:trends                         # sweep all three, write the report
 *   npm run experiment:trends -- --reuse-sweeps A,B,C # read existing sweeps: trained, control, pretrained
 *   npm run experiment:trends -- --pretrained-only    # sweep only the pretrained series, merged into trends.json
 *   npm run experiment:trends -- --pretrained-only --reuse-sweeps P  # the same from an existing sweep
 *   npm run experiment:trends -- --keep-pretrained    # sweep the zoo; the pretrained half stays from trends.json
 *   npm run experiment:trends -- --local              # development only: no pipeline, no pretrained
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/errors.ts';
import { DEFAULT_TRAINED_ZOO_DIR, MANIFEST_PATH, type TrainedZooManifest } from './manifest.ts';
import type { EsrganPsnrReport } from './sr/esrgan-models.ts';
import {
  ALL_METRICS,
  groupCorrelations,
  type MetricName,
  TRENDS_ANALYSIS_OPTIONS,
  withDerivedMetrics,
  type ZooPoint,
} from './trends/analysis.ts';
import { analyzeDirectoryLocally } from './trends/local-analysis.ts';
import {
  type LeaderboardEntry,
  parseLeaderboard,
  rowsByCheckpointDir,
  runWeightlens,
  sweepAndRead,
} from './trends/pipeline.ts';
import { pretrainedSeries, seriesCorrelations, seriesPaths } from './trends/pretrained-series.ts';
import { keptPretrained, pretrainedNotes, previousSweepSeconds, rowsByPath } from './trends/previous-run.ts';
import { type ReportContext, renderReport } from './trends/report.ts';
import { isConverged } from './trends/report-converged.ts';
import { writeShuffledCheckpoint } from './trends/shuffled-control.ts';
import { scatterSvg } from './trends/svg.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT_DIR = join(REPO_ROOT, 'docs', 'experiments');
const DEFAULT_CONTROL_DIR = '/root/.cache/weightlens/zoo/trained-shuffled';
const PLOTTED: MetricName[] = [
  'alpha',
  'alpha_weighted',
  'log_spectral_norm',
  'log_alpha_norm',
  'stable_rank',
  'delta_alpha',
];

type Rows = Map<string, LeaderboardEntry & { format: string }>;

/** The report's JSON is committed and `npm run lint` checks its format (biome leaves Markdown alone). */
function formatWithBiome(files: string[]): void {
  const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');
  const result = spawnSync(biome, ['format', '--write', ...files], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) log(`WARNING: biome format failed: ${result.stderr || result.error?.message}`);
}

function log(line: string): void {
  console.log(`[experiment:trends ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function readSweep(name: string): Promise<Rows> {
  return rowsByCheckpointDir(await readLeaderboard(name));
}

async function readLeaderboard(name: string): Promise<LeaderboardEntry[]> {
  return parseLeaderboard(await runWeightlens(['leaderboard', '--sweep', name, '--format', 'json']));
}

/** The measured ESRGAN PSNR; the measurement runs first when its report is missing. */
function esrganPsnr(outDir: string): EsrganPsnrReport {
  const file = join(outDir, 'esrgan-psnr.json');
  if (!existsSync(file)) {
    log(`no ${file}: running npm run experiment:esrgan-psnr first`);
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const run = spawnSync(tsx, [join(REPO_ROOT, 'zoo', 'esrgan-psnr.ts'), '--out', outDir], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    if (run.status !== 0) throw new ConfigError(`experiment:esrgan-psnr failed (exit ${run.status})`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as EsrganPsnrReport;
}

/** An early-stopped run's training record, from its sidecar's known_metrics. */
function trainingRecord(zooDir: string, id: string): ZooPoint['training'] {
  const file = join(zooDir, id, 'weightlens.json');
  if (!existsSync(file)) return undefined;
  const known = (JSON.parse(readFileSync(file, 'utf8')) as { known_metrics?: Record<string, number> })
    .known_metrics;
  const { epochs_trained, train_seconds, validation_accuracy } = known ?? {};
  if (epochs_trained === undefined || train_seconds === undefined || validation_accuracy === undefined)
    return undefined;
  return { epochsTrained: epochs_trained, seconds: train_seconds, validationAccuracy: validation_accuracy };
}

function buildPoints(
  manifest: TrainedZooManifest,
  zooDir: string,
  ids: string[],
  trained: Rows,
  control: Rows,
): ZooPoint[] {
  const points: ZooPoint[] = [];
  for (const entry of manifest.checkpoints) {
    if (!ids.includes(entry.id)) continue;
    const row = trained.get(entry.id);
    if (row === undefined) {
      log(`WARNING: ${entry.id} has no pipeline result; left out`);
      continue;
    }
    const converged = isConverged(entry);
    points.push(
      withDerivedMetrics({
        id: entry.id,
        set: entry.set,
        varies: entry.varies,
        run: entry.run,
        epoch: entry.epoch,
        // An early-stopped run's one checkpoint is its result, whatever epoch it stopped at.
        finalEpoch: converged ? entry.epoch : Number(entry.hyperparameters.epochs),
        // The accuracy the pipeline read from the checkpoint's weightlens.json (the manifest's otherwise).
        accuracy: row.known_test_accuracy ?? entry.test_accuracy,
        hyperparameters: entry.hyperparameters,
        trained: row.metrics,
        shuffled: control.get(entry.id)?.metrics ?? null,
        ...(converged ? { training: trainingRecord(zooDir, entry.id) } : {}),
      }),
    );
  }
  return points;
}

/** Sweep sources through the pipeline under `name`, recording the sweep's wall seconds. */
async function timedSweep(
  sources: string[],
  name: string,
  configFile: string,
  seconds: Record<string, number>,
) {
  const started = performance.now();
  const result = await sweepAndRead(sources, name, configFile);
  seconds[result.name] = Math.round((performance.now() - started) / 1000);
  log(`sweep ${result.name}: ${seconds[result.name]} s`);
  return result;
}

function writeAnalysisConfig(controlDir: string): string {
  mkdirSync(controlDir, { recursive: true });
  const file = join(controlDir, 'trends-analysis-config.json');
  writeFileSync(file, `${JSON.stringify(TRENDS_ANALYSIS_OPTIONS)}\n`);
  return file;
}

function writeReport(outDir: string, context: ReportContext): void {
  writeFileSync(join(outDir, 'trends.md'), renderReport(context, ALL_METRICS));
  writeFileSync(join(outDir, 'trends.json'), `${JSON.stringify(context, null, 2)}\n`);
  formatWithBiome([join(outDir, 'trends.json')]);
  log(`wrote ${join(outDir, 'trends.md')}`);
}

/**
 * `--pretrained-only`: sweep (or, with `--reuse-sweeps`, read) only the pretrained series and
 * merge them into the trends.json of an earlier full or `--skip-pretrained` run, whose trained
 * and control results are kept as they are; the report is re-rendered from the merged data.
 */
async function pretrainedOnly(outDir: string, controlDir: string, reuse: string | undefined): Promise<void> {
  const file = join(outDir, 'trends.json');
  if (!existsSync(file))
    throw new ConfigError(
      `--pretrained-only merges into ${file}, which does not exist: run the whole experiment first`,
    );
  const previous = JSON.parse(readFileSync(file, 'utf8')) as ReportContext;
  if (previous.source !== 'pipeline')
    throw new ConfigError(`${file} holds a --local run: --pretrained-only merges only into pipeline results`);
  if (reuse?.includes(','))
    throw new ConfigError('with --pretrained-only, --reuse-sweeps takes one name: the pretrained sweep');
  const series = pretrainedSeries(esrganPsnr(outDir));
  const sweepSeconds = Object.fromEntries(
    Object.entries(previous.sweepSeconds ?? {}).filter(([name]) => name !== previous.sweeps.pretrained),
  );
  let name: string;
  let rows: LeaderboardEntry[];
  if (reuse) {
    name = reuse;
    rows = await readLeaderboard(reuse);
  } else {
    const paths = seriesPaths(series);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
    log(`sweeping ${paths.length} pretrained checkpoints of ${series.length} series`);
    const sweep = await timedSweep(
      paths,
      `trends-pretrained-${stamp}`,
      writeAnalysisConfig(controlDir),
      sweepSeconds,
    );
    name = sweep.name;
    rows = sweep.rows;
  }
  if (rows.length === 0) throw new ConfigError(`sweep ${name} has no results`);
  const pretrained = seriesCorrelations(series, rowsByPath(rows));
  const merged =
    `Merged on ${new Date().toISOString()} by \`npm run experiment:trends -- --pretrained-only` +
    `${reuse ? ` --reuse-sweeps ${reuse}` : ''}\` into the trained-zoo results generated on ${previous.generatedAt}.`;
  writeReport(outDir, {
    ...previous,
    sweeps: { ...previous.sweeps, pretrained: name },
    pretrained,
    pretrainedNotes: [...pretrainedNotes(series, pretrained), merged],
    sweepSeconds,
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      zoo: { type: 'string', default: DEFAULT_TRAINED_ZOO_DIR },
      'control-dir': { type: 'string', default: DEFAULT_CONTROL_DIR },
      out: { type: 'string', default: REPORT_DIR },
      'reuse-sweeps': { type: 'string' },
      'skip-pretrained': { type: 'boolean', default: false },
      'pretrained-only': { type: 'boolean', default: false },
      'keep-pretrained': { type: 'boolean', default: false },
      local: { type: 'boolean', default: false },
    },
  });
  if (values['pretrained-only']) {
    if (values.local || values['skip-pretrained'] || values['keep-pretrained'])
      throw new ConfigError(
        '--pretrained-only cannot be combined with --local, --skip-pretrained or --keep-pretrained',
      );
    await pretrainedOnly(values.out, values['control-dir'], values['reuse-sweeps']);
    return;
  }
  const zooDir = values.zoo;
  const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as TrainedZooManifest;
  const ids = manifest.checkpoints
    .map((c) => c.id)
    .filter((id) => existsSync(join(zooDir, id, 'weightlens.json')));
  if (ids.length === 0) throw new ConfigError(`no trained zoo in ${zooDir}: run \`npm run zoo:train\` first`);
  if (ids.length < manifest.checkpoints.length) {
    log(`WARNING: ${manifest.checkpoints.length - ids.length} manifest checkpoints missing in ${zooDir}`);
  }
  log(`writing the shuffled control of ${ids.length} checkpoints to ${values['control-dir']}`);
  for (const id of ids) writeShuffledCheckpoint(zooDir, values['control-dir'], id);

  let trained: Rows;
  let control: Rows;
  const sweeps: { trained: string | null; control: string | null; pretrained: string | null } = {
    trained: null,
    control: null,
    pretrained: null,
  };
  const kept = values['keep-pretrained'] ? keptPretrained(values.out) : null;
  const withPretrained = !values.local && !values['skip-pretrained'] && kept === null;
  const series = withPretrained ? pretrainedSeries(esrganPsnr(values.out)) : [];
  let pretrainedRows: LeaderboardEntry[] = [];
  const sweepSeconds: Record<string, number> = {};
  if (values.local) {
    log('LOCAL mode: analyzing in this process (not the pipeline)');
    trained = await analyzeDirectoryLocally(zooDir, ids);
    control = await analyzeDirectoryLocally(values['control-dir'], ids);
  } else if (values['reuse-sweeps']) {
    const [a, b, c] = values['reuse-sweeps'].split(',');
    if (!a || !b || (withPretrained && !c))
      throw new ConfigError(
        '--reuse-sweeps needs "trainedSweep,controlSweep,pretrainedSweep" (the third only without --skip-pretrained)',
      );
    sweeps.trained = a;
    sweeps.control = b;
    trained = await readSweep(a);
    control = await readSweep(b);
    if (withPretrained && c) {
      sweeps.pretrained = c;
      pretrainedRows = await readLeaderboard(c);
    }
  } else {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
    sweeps.trained = `trends-trained-${stamp}`;
    sweeps.control = `trends-shuffled-${stamp}`;
    const configFile = writeAnalysisConfig(values['control-dir']);
    log(`sweeping ${ids.length} checkpoints of ${zooDir} as ${sweeps.trained}`);
    const trainedSweep = await timedSweep(
      ids.map((id) => join(zooDir, id)),
      sweeps.trained,
      configFile,
      sweepSeconds,
    );
    sweeps.trained = trainedSweep.name;
    trained = rowsByCheckpointDir(trainedSweep.rows);
    log(`sweeping their shuffled copies in ${values['control-dir']} as ${sweeps.control}`);
    const controlSweep = await timedSweep(
      ids.map((id) => join(values['control-dir'], id)),
      sweeps.control,
      configFile,
      sweepSeconds,
    );
    sweeps.control = controlSweep.name;
    control = rowsByCheckpointDir(controlSweep.rows);
    if (withPretrained) {
      const paths = seriesPaths(series);
      log(`sweeping ${paths.length} pretrained checkpoints of ${series.length} series`);
      const pretrainedSweep = await timedSweep(paths, `trends-pretrained-${stamp}`, configFile, sweepSeconds);
      sweeps.pretrained = pretrainedSweep.name;
      pretrainedRows = pretrainedSweep.rows;
    }
  }
  const pretrained = kept?.pretrained ?? seriesCorrelations(series, rowsByPath(pretrainedRows));
  if (kept) {
    sweeps.pretrained = kept.sweep;
    Object.assign(sweepSeconds, kept.seconds);
  }

  const points = buildPoints(manifest, zooDir, ids, trained, control);
  const groups = groupCorrelations(points);
  mkdirSync(values.out, { recursive: true });
  const plots: { metric: string; file: string }[] = [];
  const sets = [...new Set(points.map((p) => p.set))].sort();
  for (const metric of PLOTTED) {
    const file = `trends-${metric}.svg`;
    const series = sets.map((set) => ({
      label: set,
      points: points
        .filter((p) => p.set === set)
        .map((p) => ({
          x: p.trained[metric] ?? Number.NaN,
          y: p.accuracy * 100,
          title: `${p.id}: ${(p.accuracy * 100).toFixed(2)}%`,
        })),
    }));
    if (metric !== 'delta_alpha') {
      series.push({
        label: 'shuffled control',
        points: points.map((p) => ({
          x: p.shuffled?.[metric] ?? Number.NaN,
          y: p.accuracy * 100,
          title: `${p.id} (shuffled)`,
        })),
        hollow: true,
      } as (typeof series)[number] & { hollow: boolean });
    }
    writeFileSync(
      join(values.out, file),
      scatterSvg(`${metric} vs measured test accuracy`, metric, 'test accuracy (%)', series),
    );
    plots.push({ metric, file });
  }
  const rows = [...trained.values()];
  const context = {
    source: values.local ? ('local' as const) : ('pipeline' as const),
    sweeps,
    generatedAt: new Date().toISOString(),
    zooDir,
    points,
    groups,
    plots,
    correlationTraps: rows.reduce((s, r) => s + r.correlation_traps, 0),
    trapsByCheckpoint: [...trained.entries()]
      .filter(([id]) => ids.includes(id))
      .map(([id, r]) => ({ id, count: r.correlation_traps }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    layersAnalyzed: rows.reduce((s, r) => s + r.layers_analyzed, 0),
    layersFailed: rows.reduce((s, r) => s + r.layers_failed, 0),
    pretrained,
    pretrainedNotes: kept?.pretrainedNotes ?? (withPretrained ? pretrainedNotes(series, pretrained) : []),
    sweepSeconds: Object.keys(sweepSeconds).length ? sweepSeconds : previousSweepSeconds(values.out, sweeps),
    missingCheckpoints: manifest.checkpoints.map((c) => c.id).filter((id) => !ids.includes(id)),
  };
  writeReport(values.out, context);
  const headline = groups.find((g) => g.group === 'all-trained');
  for (const c of headline?.trained ?? [])
    log(`all-trained: ${c.metric} τ=${c.tau?.toFixed(3)} ρ=${c.rho?.toFixed(3)} n=${c.n}`);
}

await main();
