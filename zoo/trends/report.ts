/**
 * Renders docs/experiments/trends.md from the computed correlations. All statements about what
 * predicts and what does not are derived from the numbers here (thresholds below), so the text
 * regenerates with the data.
 */
import type { Correlation, GroupResult, MetricName, ZooPoint } from './analysis.ts';
import { EXPECTED_DIRECTION } from './analysis.ts';
import type { SeriesResult } from './pretrained-series.ts';
import {
  correlationTrapLines,
  countedGroups,
  estimatorClaims,
  groupSize,
  MIN_COUNTED_GROUP,
  paperClaims,
  pooledVerdicts,
  randomizedControl,
} from './report-claims.ts';
import { convergedNotSwept, convergedSets, isConverged, renderConvergedSection } from './report-converged.ts';
import { renderPretrainedSection } from './report-pretrained.ts';

/** A trend counts as shown when |τ| is at least this and p < SIGNIFICANCE. */
export const MIN_ABS_TAU = 0.3;
export const SIGNIFICANCE = 0.05;

export interface ReportContext {
  source: 'pipeline' | 'local';
  sweeps: { trained: string | null; control: string | null; pretrained?: string | null };
  generatedAt: string;
  zooDir: string;
  points: ZooPoint[];
  groups: GroupResult[];
  plots: { metric: string; file: string }[];
  correlationTraps: number;
  /** Correlation traps per trained checkpoint (layers flagged by the pipeline). */
  trapsByCheckpoint?: { id: string; count: number }[];
  layersAnalyzed: number;
  layersFailed: number;
  /** Pretrained series with a published or measured quality, τ within each. */
  pretrained?: SeriesResult[];
  pretrainedNotes?: string[];
  /** Wall seconds of each sweep this run made (absent when sweeps were reused). */
  sweepSeconds?: Record<string, number>;
  /** Manifest checkpoints absent from the zoo directory (not trained there). */
  missingCheckpoints?: string[];
}

export type Verdict = 'agrees' | 'opposite' | 'none';

/** What the issue asks for that this run has no numbers for, said plainly. */
function notMeasured(ctx: ReportContext): string[] {
  const lines: string[] = [];
  if (ctx.missingCheckpoints?.length)
    lines.push(
      `- ${ctx.missingCheckpoints.length} checkpoints of zoo/trained-manifest.json were not in the zoo directory when ` +
        `this run swept it (not trained there; \`npx tsx zoo/train.ts --resume\` trains them): ${ctx.missingCheckpoints.join(', ')}.`,
    );
  const converged = ctx.points.filter(isConverged);
  if (!converged.length)
    lines.push(
      '- Converged runs: none in this zoo directory (`npm run zoo:train -- --converged` trains them, see ' +
        'zoo/plan-converged.ts). Every checkpoint here is a briefly trained one.',
    );
  else {
    const notSwept = convergedNotSwept(ctx.points);
    if (notSwept.length)
      lines.push(
        `- Converged runs of zoo/plan-converged.ts not in this run (not trained in the session: a full-set epoch took ` +
          `${epochSeconds(converged)} s on the shared cores here, and each run needs 12–20 epochs; ` +
          `\`npm run zoo:train -- --converged --resume\` trains them): ${notSwept.join(', ')}.`,
      );
    lines.push(
      `- Converged runs cover MLPs only (${convergedSets(ctx.points).join(', ')}): no converged CNN, label-noise, ` +
        'learning-rate or batch-size series. A full-set CNN epoch on the wasm backend costs several times an MLP ' +
        "epoch, which the session's two shared cores could not afford; those knobs are measured only in the quick zoo.",
    );
  }
  if (!ctx.pretrained?.length)
    lines.push(
      '- Pretrained series: not swept in this run (`--skip-pretrained`, or `--local`); the series and their quality ' +
        'sources are defined in zoo/trends/pretrained-series.ts and are swept by a plain `npm run experiment:trends`.',
    );
  return lines.length ? lines : ['- Nothing: every part of the experiment has numbers above.'];
}

/** Range of wall seconds per epoch of the converged runs (their recorded time over epochs run). */
function epochSeconds(points: ZooPoint[]): string {
  const per = points.flatMap((p) => (p.training ? [p.training.seconds / p.training.epochsTrained] : []));
  return per.length ? `${Math.round(Math.min(...per))}–${Math.round(Math.max(...per))}` : '–';
}

function sweepTimes(seconds: Record<string, number> | undefined): string {
  const entries = Object.entries(seconds ?? {});
  if (!entries.length) return '';
  return `Wall time of each sweep on this shared 2-core machine: ${entries.map(([name, s]) => `${name} ${Math.floor(s / 60)} min ${s % 60} s`).join(', ')}.`;
}

export function verdict(c: Correlation): Verdict {
  if (c.tau === null || c.pValue === null || c.tauAligned === null) return 'none';
  if (Math.abs(c.tau) < MIN_ABS_TAU || c.pValue >= SIGNIFICANCE) return 'none';
  return c.tauAligned > 0 ? 'agrees' : 'opposite';
}

const fmt = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));
const mark: Record<Verdict, string> = { agrees: ' ✓', opposite: ' ✗', none: '' };

function tauCell(c: Correlation | undefined): string {
  if (c === undefined || c.tau === null) return '–';
  return `${fmt(c.tau)}${mark[verdict(c)]}`;
}

function direction(metric: MetricName): string {
  return EXPECTED_DIRECTION[metric] < 0 ? 'lower = better' : 'higher = better';
}

function overallTable(groups: GroupResult[], metrics: MetricName[]): string[] {
  const lines = [
    `| group | n | accuracy (%) | ${metrics.map((m) => `${m}`).join(' | ')} |`,
    `|---|---|---|${metrics.map(() => '---').join('|')}|`,
  ];
  for (const g of groups) {
    const byMetric = new Map(g.trained.map((c) => [c.metric, c]));
    const n = Math.max(0, ...g.trained.map((c) => c.n));
    const range = g.accuracyRange
      ? `${fmt(g.accuracyRange[0] * 100, 1)}–${fmt(g.accuracyRange[1] * 100, 1)}`
      : '–';
    lines.push(
      `| ${g.group} | ${n} | ${range} | ${metrics.map((m) => tauCell(byMetric.get(m))).join(' | ')} |`,
    );
  }
  return lines;
}

function detailTable(g: GroupResult): string[] {
  const shuffled = new Map(g.shuffled.map((c) => [c.metric, c]));
  const lines = [
    `| metric (expected) | τ | ρ | n | p(τ) | verdict | τ on shuffled control |`,
    '|---|---|---|---|---|---|---|',
  ];
  for (const c of g.trained) {
    const s = shuffled.get(c.metric);
    lines.push(
      `| ${c.metric} (${direction(c.metric)}) | ${fmt(c.tau)} | ${fmt(c.rho)} | ${c.n} | ${fmt(c.pValue, 3)} | ${verdict(c)} | ${s ? fmt(s.tau) : 'n/a'} |`,
    );
  }
  return lines;
}

function findings(groups: GroupResult[]): string[] {
  const lines: string[] = [];
  const controlled = groups.filter((g) => g.group.includes('/'));
  for (const g of controlled) {
    const agrees = g.trained
      .filter((c) => verdict(c) === 'agrees')
      .map((c) => `${c.metric} (τ=${fmt(c.tau)})`);
    const opposite = g.trained
      .filter((c) => verdict(c) === 'opposite')
      .map((c) => `${c.metric} (τ=${fmt(c.tau)})`);
    const n = groupSize(g);
    const parts = [`- **${g.group}** (n=${n}):`];
    if (n < MIN_COUNTED_GROUP) {
      lines.push(`${parts[0]} too few checkpoints for a rank correlation (not counted).`);
      continue;
    }
    if (n < 4) {
      const signs = g.trained
        .filter((c) => c.tauAligned !== null && c.tauAligned > 0)
        .map((c) => `${c.metric} (τ=${fmt(c.tau)})`);
      lines.push(
        `${parts[0]} with n = 3 no τ reaches p < 0.05; sign in the expected direction: ${signs.length ? signs.join(', ') : 'none'}.`,
      );
      continue;
    }
    parts.push(
      agrees.length
        ? `predicts in the expected direction: ${agrees.join(', ')};`
        : 'no metric predicts significantly;',
    );
    if (opposite.length) parts.push(`**opposite** to the theory: ${opposite.join(', ')}.`);
    lines.push(parts.join(' ').replace(/;$/, '.'));
  }
  return lines;
}

/** Per metric over the controlled groups: how often it agrees, is opposite, or shows nothing. */
export function metricScorecard(groups: GroupResult[], metrics: MetricName[]) {
  const controlled = countedGroups(groups);
  return metrics.map((metric) => {
    const cells = controlled
      .map((g) => g.trained.find((c) => c.metric === metric))
      .filter((c) => c !== undefined);
    const aligned = cells.map((c) => c.tauAligned).filter((t): t is number => t !== null);
    return {
      metric,
      agrees: cells.filter((c) => verdict(c) === 'agrees').length,
      opposite: cells.filter((c) => verdict(c) === 'opposite').length,
      none: cells.filter((c) => verdict(c) === 'none').length,
      meanAlignedTau: aligned.length ? aligned.reduce((a, b) => a + b, 0) / aligned.length : null,
    };
  });
}

function comparisonWithPaper(groups: GroupResult[], metrics: MetricName[]): string[] {
  const card = metricScorecard(groups, metrics);
  const lines = [
    '| metric | groups ✓ | groups ✗ | no trend | mean τ·(expected sign) |',
    '|---|---|---|---|---|',
    ...card.map(
      (c) => `| ${c.metric} | ${c.agrees} | ${c.opposite} | ${c.none} | ${fmt(c.meanAlignedTau)} |`,
    ),
  ];
  const best = [...card]
    .filter((c) => c.meanAlignedTau !== null)
    .sort((a, b) => b.meanAlignedTau! - a.meanAlignedTau!);
  const top = best[0];
  const alpha = card.find((c) => c.metric === 'alpha');
  const alphaHat = card.find((c) => c.metric === 'alpha_weighted');
  lines.push(
    '',
    'Martin, Peng & Mahoney (Nat. Commun. 12, 2021) analyze hundreds of publicly available pretrained CV and NLP ' +
      'models and conclude that (i) norm-based metrics (log Frobenius / spectral norm) predict quality trends among ' +
      'well-trained models of one series reasonably well, (ii) the power-law metrics (α̂ = alpha_weighted, log ' +
      'α-norm) do better there, and (iii) power-law metrics, α in particular, also separate well-trained from ' +
      'poorly-trained models, where norm-based metrics can fail. Their models are fully trained ImageNet-scale ' +
      'networks; ours are small, briefly trained classifiers, and we could not consult the paper’s per-family tables ' +
      'offline, so this is a comparison with those qualitative claims and the sign/size of τ, not with exact numbers. ' +
      'Claim (iii) corresponds to our epochs groups (initialization → trained), claims (i)–(ii) to the ' +
      'one-hyperparameter groups.',
    '',
    ...paperClaims(groups),
    ...estimatorClaims(groups),
    '',
    `Over the ${countedGroups(groups).length} counted groups, the best average alignment is ` +
      `${top ? `${top.metric} (mean τ·sign = ${fmt(top.meanAlignedTau)})` : 'not available'}; ` +
      `α: ${alpha ? `${alpha.agrees} ✓ / ${alpha.opposite} ✗ (mean ${fmt(alpha.meanAlignedTau)})` : 'n/a'}, ` +
      `α̂: ${alphaHat ? `${alphaHat.agrees} ✓ / ${alphaHat.opposite} ✗ (mean ${fmt(alphaHat.meanAlignedTau)})` : 'n/a'}. ` +
      'Groups are small, so p-values are weak (with n = 4 only |τ| = 1 reaches p < 0.05, with n = 3 nothing does); ' +
      'read the counts together with the mean τ.',
  );
  return lines;
}

export function renderReport(ctx: ReportContext, metrics: MetricName[]): string {
  const accuracies = ctx.points.map((p) => p.accuracy);
  const sets = [...new Set(ctx.points.map((p) => p.set))].sort();
  const headline = ctx.groups.filter((g) => !g.group.includes('/'));
  const controlled = ctx.groups.filter((g) => g.group.includes('/'));
  const allTrained = ctx.groups.find((g) => g.group === 'all-trained');
  const out: string[] = [
    '# Do data-free spectral metrics predict model quality? (trained zoo and pretrained series)',
    '',
    `Generated by \`npm run experiment:trends\` on ${ctx.generatedAt}. Data: [trends.json](trends.json).`,
    '',
    ctx.source === 'pipeline'
      ? `All metric values come from the real pipeline: \`weightlens sweep … --wait\` (Temporal workers, S3, Postgres) and \`weightlens leaderboard --format json\`; sweeps \`${ctx.sweeps.trained}\` (trained weights), \`${ctx.sweeps.control}\` (shuffled control)${ctx.sweeps.pretrained ? ` and \`${ctx.sweeps.pretrained}\` (pretrained series)` : ''}. ${sweepTimes(ctx.sweepSeconds)}`
      : '**Numbers below were computed locally (`--local`) with the library functions, NOT through the pipeline.** Rerun without `--local` once `weightlens sweep` works.',
    '',
    '## Setup',
    '',
    `- ${ctx.points.length} checkpoints from \`${ctx.zooDir}\` (regenerate with \`npm run zoo:train\`; list and accuracies in \`zoo/trained-manifest.json\`), sets: ${sets.join(', ')}.`,
    `- Test accuracy measured on the official 10 000-image test split: ${fmt(Math.min(...accuracies) * 100, 1)}–${fmt(Math.max(...accuracies) * 100, 1)} %.`,
    `- Quick zoo (zoo/plan.ts): training is short and on a subsample (12 000 of the 60 000 images, 3 epochs, SGD with momentum) so that it regenerates on two shared CPU cores. ${ctx.points.some(isConverged) ? `Beside it, converged runs of ${convergedSets(ctx.points).join(', ')} (full training set, early stopping on a held-out split): see "Converged runs" below.` : 'No converged (full training set, trained to a plateau) runs are in this zoo: see "Not measured" below.'}`,
    '- Each set has a base run; every other run changes one hyperparameter (batch size, learning rate, width, weight decay, label noise). The base run also keeps per-epoch checkpoints (epoch 0 = the initialization).',
    `- Layers analyzed: ${ctx.layersAnalyzed}, failed: ${ctx.layersFailed}, correlation traps flagged by the pipeline: ${ctx.correlationTraps}.`,
    '- Control: the same checkpoints with the entries of every weight matrix shuffled (`zoo/trends/shuffled-control.ts`), swept the same way. Shuffling keeps the entries and the Frobenius norm but removes learned correlations.',
    `- τ is Kendall's τ-b of the metric against accuracy, ρ Spearman's ρ; p is a two-sided normal-approximation p-value for τ. A cell is marked ✓ when |τ| ≥ ${MIN_ABS_TAU}, p < ${SIGNIFICANCE} and the sign is the one HT-SR predicts (lower α, α̂, norms → higher accuracy; larger Δα → higher accuracy), ✗ when significant with the opposite sign.`,
    '- Analysis options of every sweep (`TRENDS_ANALYSIS_OPTIONS`, zoo/trends/analysis.ts): WeightWatcher defaults plus `randomize`, `mpFit` and all estimators (`detx`, `farms`, `hill`, `traps`), so FARMS α (alpha_farms) and Hill α (alpha_hill, x_min rule `xmin_mid`) stand beside α, α̂ and the norms in every table.',
    '- Proposed combinations: **Δα** = mean α of the shuffled copy − mean α of the trained weights (how far training moved each ESD away from its own randomization), and **Δα̂** likewise for alpha_weighted.',
    '',
    '## Overall and per set (τ against accuracy)',
    '',
    ...overallTable(headline, metrics),
    '',
    '## Within one varied hyperparameter (τ against accuracy)',
    '',
    ...overallTable(controlled, metrics),
    '',
    '## Where the metrics predict and where they do not',
    '',
    ...pooledVerdicts(ctx.groups, verdict),
    ...findings(controlled),
    '',
  ];
  out.push(...renderConvergedSection(ctx.points, ctx.groups, metrics));
  out.push(
    '## Effect sizes compared with Martin, Peng & Mahoney (2021)',
    '',
    ...comparisonWithPaper(ctx.groups, metrics),
    '',
  );
  out.push(
    '## Randomized-ESD control (shuffled entries) and correlation traps',
    '',
    ...randomizedControl(ctx.groups, ctx.points, metrics),
    '',
    ...correlationTrapLines(ctx.trapsByCheckpoint ?? []),
    '',
  );
  if (allTrained) {
    out.push(
      '## All trained checkpoints: details and the shuffled control',
      '',
      ...detailTable(allTrained),
      '',
    );
  }
  const missing = metrics.filter((m) => ctx.points.every((p) => typeof p.trained[m] !== 'number'));
  if (missing.length) {
    out.push(
      `Metrics without any value in this sweep: ${missing.join(', ')} (mp_softrank needs the MP fit, which is off in the default config).`,
      '',
    );
  }
  out.push(
    ...renderPretrainedSection(
      ctx.pretrained ?? [],
      metrics,
      ctx.sweeps.pretrained ?? null,
      ctx.pretrainedNotes ?? [],
    ),
  );
  out.push('## Not measured', '', ...notMeasured(ctx), '');
  out.push('## Plots', '');
  for (const p of ctx.plots) out.push(`![${p.metric} vs test accuracy](${p.file})`);
  out.push('');
  return `${out.join('\n')}\n`;
}
