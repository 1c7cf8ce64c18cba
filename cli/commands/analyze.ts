/**
 * `weightlens analyze <uri>`: WeightWatcher-style analysis of a checkpoint (file, directory or
 * s3:// prefix), locally and in process — the same lib/ functions the workers call. Progress on
 * stderr; results as a table, JSON or CSV on stdout. A layer that cannot be analyzed goes to the
 * report's `errors` and out of its summary. Each checkpoint is analyzed on its own: one that cannot
 * be (unreadable, corrupt) is one line on stderr naming it, and the others still are.
 * Exit status: 0 when every checkpoint found was analyzed (per-layer errors included), 1 when any
 * checkpoint could not be or had no layer analyzed, or nothing could be found under `uri`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { type AnalyzeProgress, analyzeCheckpoint, type CheckpointReport } from '../../lib/analyze.ts';
import { resolveBaseCheckpoint } from '../../lib/deltas.ts';
import { BadInputError } from '../../lib/errors.ts';
import { discoverCheckpoints } from '../../lib/formats/discover.ts';
import { LAYER_METRICS } from '../../lib/metrics/registry.ts';
import { defaultAnalysisConfig, parseAnalysisConfig } from '../../lib/spectral/index.ts';
import { esdPlotSvg } from '../../lib/spectral/plot-svg.ts';
import type { LayerAnalysis, LayerMetrics } from '../../lib/spectral/types.ts';
import { createStorage } from '../../storage/index.ts';
import { type CheckpointFailure, reportCheckpointFailure } from '../checkpoint-failure.ts';
import { terminalText } from '../terminal-text.ts';
import { ABOVE_MAX_N_HELP, ESTIMATORS_HELP } from './estimator-options.ts';

interface AnalyzeOptions {
  format: 'table' | 'json' | 'csv';
  minEvals?: string;
  maxEvals?: string;
  maxN?: string;
  aboveMaxN?: string;
  layers?: string;
  fit?: string;
  fixFingers?: string;
  xminMax?: string;
  randomize?: boolean;
  mpFit?: boolean;
  precision?: string;
  plot?: string;
  estimators?: string;
  base?: string;
  hillXmin?: string;
}

/** The report without skipped tensors; `expertGroups` only for checkpoints with fused experts. */
type JsonReport = Omit<CheckpointReport, 'skipped' | 'expertGroups'> &
  Partial<Pick<CheckpointReport, 'expertGroups'>>;

/**
 * A checkpoint none of whose layers was analyzed has no summary: failed, as a sweep marks it
 * (its report, with the per-layer errors, is still printed).
 */
function nothingAnalyzed(report: CheckpointReport): string | undefined {
  if (report.layersAnalyzed > 0) return undefined;
  const first = report.errors[0];
  return first
    ? `${report.checkpoint.uri}: no layer could be analyzed (${report.errors.length} failed; first: ${first.error})`
    : `${report.checkpoint.uri}: no analyzable layer (${report.skipped.length} tensors skipped by the layer filters)`;
}

/** Identity columns, the registry's table metrics, then the warning. */
const TABLE_COLUMNS = [
  'layer_id',
  'name',
  'layer_type',
  ...LAYER_METRICS.filter((m) => 'table' in m && m.table).map((m) => m.name),
  'warning',
];

function cell(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    return Number.isFinite(value) ? value.toFixed(4) : String(value);
  }
  return value === null || value === undefined ? '' : String(value);
}

function renderTable(report: CheckpointReport, extra: string[]): string {
  const columns = [...TABLE_COLUMNS.slice(0, -1), ...extra, 'warning'];
  const rows = report.layers.map((row) => columns.map((c) => terminalText(cell(row[c]))));
  const widths = columns.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    `${terminalText(report.checkpoint.uri)} (${report.checkpoint.format})`,
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
  ];
  out.push(...rows.map(line));
  const summary = Object.entries(report.summary).map(([k, v]) => `${k}=${cell(v)}`);
  const over = `${report.layersAnalyzed} of ${report.layersAnalyzed + report.layersFailed} layers`;
  const left = report.layersFailed > 0 ? `, ${report.layersFailed} failed left out` : '';
  out.push(`summary (${over}${left}): ${summary.join('  ') || '(no layers analyzed)'}`);
  for (const g of report.expertGroups) {
    out.push(
      terminalText(
        `experts: ${g.group}  n=${g.experts}  alpha_mean=${cell(g.alpha_mean)}  alpha_std=${cell(g.alpha_std)}  ` +
          `alpha_min=${cell(g.alpha_min)} [${g.alpha_min_expert}]  alpha_max=${cell(g.alpha_max)} [${g.alpha_max_expert}]`,
      ),
    );
  }
  out.push(
    `${report.layers.length} layers analyzed, ${report.skipped.length} tensors skipped, ${report.errors.length} errors`,
  );
  for (const e of report.errors) {
    const line = e.error.startsWith(`${e.layer}: `) ? e.error : `${e.layer}: ${e.error}`;
    out.push(`  error: ${terminalText(line)}`);
  }
  return out.join('\n');
}

function csvField(value: unknown): string {
  const text =
    typeof value === 'number' ? (Number.isFinite(value) ? String(value) : String(value)) : cell(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV for all checkpoints: a `checkpoint` column, then the union of the WeightWatcher columns. */
function renderCsv(reports: CheckpointReport[]): string {
  const columns: string[] = [];
  for (const report of reports) {
    for (const row of report.layers)
      for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  }
  const lines = [['checkpoint', ...columns].map(csvField).join(',')];
  for (const report of reports) {
    for (const row of report.layers as LayerMetrics[]) {
      lines.push([report.checkpoint.uri, ...columns.map((c) => row[c])].map(csvField).join(','));
    }
  }
  return lines.join('\n');
}

/** A one-line progress bar on stderr (redrawn in place on a terminal, or when WEIGHTLENS_PROGRESS=1). */
function progressReporter(label: string): (p: AnalyzeProgress) => void {
  const enabled = process.stderr.isTTY || process.env.WEIGHTLENS_PROGRESS === '1';
  if (!enabled) return () => {};
  return ({ done, total, layer }) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const text = `${label} [${bar}] ${done}/${total} ${terminalText(layer)}`.slice(0, 120);
    process.stderr.write(done === total ? `\r${text.padEnd(120)}\n` : `\r${text.padEnd(120)}`);
  };
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 150);
}

export function register(program: Command): void {
  program
    .command('analyze')
    .description(
      'WeightWatcher-compatible spectral analysis of a checkpoint (file, directory or s3:// prefix)',
    )
    .argument('<uri>', 'checkpoint file, directory, or s3://bucket/prefix')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .option(
      '--min-evals <n>',
      'skip layers with fewer eigenvalues (M·rf)',
      String(defaultAnalysisConfig.minEvals),
    )
    .option(
      '--max-evals <n>',
      'skip layers with more eigenvalues (M·rf)',
      String(defaultAnalysisConfig.maxEvals),
    )
    .option(
      '--max-n <n>',
      'skip layers whose larger dimension N exceeds this',
      String(defaultAnalysisConfig.maxN),
    )
    .option('--above-max-n <mode>', ABOVE_MAX_N_HELP)
    .option('--layers <regex>', 'analyze only layers whose name matches')
    .addOption(
      new Option('--fit <kind>', 'power-law fit')
        .choices(['pl', 'tpl', 'e_tpl', 'PL', 'TPL', 'E_TPL'])
        .default('pl'),
    )
    .addOption(new Option('--fix-fingers <method>', 'finger fix').choices(['xmin_peak', 'clip_xmax']))
    .option('--xmin-max <x>', 'upper bound of the xmin search for xmin_peak')
    .option('--randomize', 'randomized ESD, rand_distance and correlation traps')
    .option('--mp-fit', 'Marchenko–Pastur fit (mp_softrank, num_spikes, sigma_mp)')
    .addOption(new Option('--precision <p>', 'eigenvalue arithmetic').choices(['f64', 'f32']).default('f64'))
    .option('--plot <dir>', 'write one SVG per layer (log-log ESD, power-law fit, xmin, MP bulk)')
    .option('--estimators <list>', ESTIMATORS_HELP)
    .option('--hill-xmin <rule>', 'x_min rule of alpha_hill: xmin_mid (default) or xmin_peak')
    .option('--base <uri>', 'analyze W − W_base against this base checkpoint (fine-tune deltas)')
    .action(async (uri: string, options: AnalyzeOptions) => {
      const storage = createStorage();
      const base =
        options.base === undefined ? undefined : await resolveBaseCheckpoint(options.base, storage);
      const config = parseAnalysisConfig({
        base: base?.uri ?? null,
        baseContentHash: base?.contentHash ?? null,
        minEvals: options.minEvals,
        maxEvals: options.maxEvals,
        maxN: options.maxN,
        aboveMaxN: options.aboveMaxN,
        layers: options.layers ?? null,
        fit: options.fit,
        fixFingers: options.fixFingers ?? null,
        xminMax: options.xminMax === undefined ? null : options.xminMax,
        randomize: options.randomize === true,
        mpFit: options.mpFit === true,
        precision: options.precision,
        estimators: options.estimators ?? null,
        hillXmin: options.hillXmin,
      });
      const checkpoints = await discoverCheckpoints(uri, storage);
      if (checkpoints.length === 0) throw new BadInputError('no checkpoint found', { file: uri });
      const results: (CheckpointReport | CheckpointFailure)[] = [];
      if (options.plot) await mkdir(options.plot, { recursive: true });
      for (const [i, checkpoint] of checkpoints.entries()) {
        const prefix = checkpoints.length > 1 ? `${String(i).padStart(3, '0')}_` : '';
        const onLayer = options.plot
          ? async (analysis: LayerAnalysis) => {
              const file = `${prefix}${String(analysis.metrics.layer_id).padStart(4, '0')}_${safeFileName(analysis.metrics.name)}.svg`;
              await writeFile(join(options.plot!, file), esdPlotSvg(analysis));
            }
          : undefined;
        const label = checkpoints.length > 1 ? `analyze ${i + 1}/${checkpoints.length}` : 'analyze';
        try {
          const report = await analyzeCheckpoint(checkpoint.uri, storage, config, progressReporter(label), {
            metadata: checkpoint.metadata,
            onLayer,
          });
          results.push(report);
          const nothing = nothingAnalyzed(report);
          if (nothing) {
            process.stderr.write(`weightlens: ${terminalText(nothing)}\n`);
            process.exitCode = 1;
          }
        } catch (err) {
          results.push(reportCheckpointFailure(checkpoint, err));
        }
      }
      const reports = results.filter((r): r is CheckpointReport => !('error' in r));
      if (options.format === 'json') {
        const json = results.map((r): JsonReport | CheckpointFailure => {
          if ('error' in r) return r;
          const { checkpoint, summary, expertGroups, layersAnalyzed, layersFailed, layers, errors } = r;
          return {
            checkpoint,
            summary,
            ...(expertGroups.length > 0 ? { expertGroups } : {}),
            layersAnalyzed,
            layersFailed,
            layers,
            errors,
          };
        });
        if (json.length === 1 && reports.length === 1) {
          process.stdout.write(`${JSON.stringify(json[0], null, 2)}\n`);
        } else if (json.length > 1) {
          process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        }
      } else if (options.format === 'csv') {
        if (reports.length > 0) process.stdout.write(`${renderCsv(reports)}\n`);
      } else {
        const extra = [
          ...(config.mpFit ? ['mp_softrank', 'num_spikes'] : []),
          ...(config.randomize ? ['rand_distance', 'ww_softrank'] : []),
          ...LAYER_METRICS.filter((m) => 'estimator' in m && config.estimators.includes(m.estimator)).map(
            (m) => m.name,
          ),
        ];
        const failed = results.length - reports.length;
        const tables = reports.map((r) => renderTable(r, extra));
        if (failed > 0 && checkpoints.length > 1) {
          tables.push(
            `${reports.length} of ${checkpoints.length} checkpoints analyzed, ${failed} failed (see stderr)`,
          );
        }
        if (tables.length > 0) process.stdout.write(`${tables.join('\n\n')}\n`);
      }
    });
}
