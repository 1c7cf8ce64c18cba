/**
 * The converged runs' part of the trends report (zoo/plan-converged.ts): how they were trained and
 * for how long, their metrics, τ within each converged series, and the paper's claims for
 * well-trained models checked on them beside the quick zoo's one-hyperparameter groups.
 */

import { checkpointId } from '../plan.ts';
import { convergedPlan } from '../plan-converged.ts';
import type { GroupResult, MetricName, ZooPoint } from './analysis.ts';
import {
  groupSize,
  MIN_COUNTED_GROUP,
  meanAlignedTau,
  NORM_METRICS,
  POWER_LAW_METRICS,
} from './report-claims.ts';

const fmt = (v: number | null | undefined, digits = 2) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';

/** A converged checkpoint: its run stopped early on a held-out split (the plan records the patience). */
export function isConverged(p: Pick<ZooPoint, 'hyperparameters'>): boolean {
  return p.hyperparameters.early_stopping_patience !== undefined;
}

/** Checkpoints of the converged plan that the report has no numbers for. */
export function convergedNotSwept(points: ZooPoint[]): string[] {
  const have = new Set(points.map((p) => p.id));
  return convergedPlan.map((run) => checkpointId(run, run.epochs)).filter((id) => !have.has(id));
}

/** The sets whose checkpoints are converged runs. */
export function convergedSets(points: ZooPoint[]): string[] {
  return [...new Set(points.filter(isConverged).map((p) => p.set))].sort();
}

const SHOWN: MetricName[] = [
  'alpha',
  'alpha_hill',
  'alpha_farms',
  'alpha_weighted',
  'log_alpha_norm',
  'log_norm',
  'log_spectral_norm',
];

function membersTable(points: ZooPoint[]): string[] {
  const lines = [
    `| checkpoint | hidden width | best epoch / epochs run | validation acc. (%) | test acc. (%) | training time (s) | ${SHOWN.join(' | ')} |`,
    `|---|---|---|---|---|---|${SHOWN.map(() => '---').join('|')}|`,
  ];
  for (const p of [...points].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))) {
    const t = p.training;
    lines.push(
      `| ${p.id} | ${p.hyperparameters.hidden_width} | ${p.epoch} / ${t?.epochsTrained ?? '–'} | ` +
        `${fmt(t ? t.validationAccuracy * 100 : null)} | ${fmt(p.accuracy * 100)} | ${t?.seconds ?? '–'} | ` +
        `${SHOWN.map((m) => fmt(p.trained[m], 3)).join(' | ')} |`,
    );
  }
  return lines;
}

function tauTable(groups: GroupResult[], metrics: MetricName[]): string[] {
  const lines = [
    `| series | n | test acc. (%) | ${metrics.join(' | ')} |`,
    `|---|---|---|${metrics.map(() => '---').join('|')}|`,
  ];
  for (const g of groups) {
    const range = g.accuracyRange
      ? `${fmt(g.accuracyRange[0] * 100, 1)}–${fmt(g.accuracyRange[1] * 100, 1)}`
      : '–';
    const tau = (m: MetricName) => {
      const c = g.trained.find((x) => x.metric === m);
      if (c === undefined || c.tau === null || c.tauAligned === null) return '–';
      return `${fmt(c.tau)} ${c.tauAligned > 0 ? '✓' : c.tauAligned < 0 ? '✗' : '·'}`;
    };
    lines.push(`| ${g.group} | ${groupSize(g)} | ${range} | ${metrics.map(tau).join(' | ')} |`);
  }
  return lines;
}

function claimLines(converged: GroupResult[], quick: GroupResult[]): string[] {
  const both = (metrics: MetricName[]) =>
    `${fmt(meanAlignedTau(converged, metrics))} on the converged series vs ${fmt(meanAlignedTau(quick, metrics))} on the quick zoo's one-hyperparameter groups`;
  const holds = (metrics: MetricName[]) => {
    const v = meanAlignedTau(converged, metrics);
    return v === null ? 'untested' : v > 0 ? '**holds**' : '**does not hold**';
  };
  return [
    `- Claim (i) of Martin, Peng & Mahoney for well-trained models of one series, norm metrics track quality: mean τ·sign of log_norm and log_spectral_norm ${both(NORM_METRICS)} — ${holds(NORM_METRICS)} here.`,
    `- Claim (ii), power-law metrics (α̂, log α-norm) do better: ${both(POWER_LAW_METRICS)} — ${holds(POWER_LAW_METRICS)} here.`,
    `- Plain α: ${both(['alpha'])}; Hill α: ${both(['alpha_hill'])}; FARMS α: ${both(['alpha_farms'])}.`,
  ];
}

/** The section; empty when the zoo has no converged checkpoints. */
export function renderConvergedSection(
  points: ZooPoint[],
  groups: GroupResult[],
  metrics: MetricName[],
): string[] {
  const converged = points.filter(isConverged);
  if (!converged.length) return [];
  const sets = convergedSets(points);
  const seriesGroups = groups.filter((g) => sets.includes(g.group));
  const counted = seriesGroups.filter((g) => groupSize(g) >= MIN_COUNTED_GROUP);
  const quick = groups.filter(
    (g) =>
      g.group.includes('/') &&
      !g.group.endsWith('/epochs') &&
      !sets.some((s) => g.group.startsWith(`${s}/`)) &&
      groupSize(g) >= MIN_COUNTED_GROUP,
  );
  const seconds = converged.map((p) => p.training?.seconds).filter((s): s is number => typeof s === 'number');
  const epochs = converged
    .map((p) => p.training?.epochsTrained)
    .filter((e): e is number => typeof e === 'number');
  const hp = converged[0]!.hyperparameters;
  return [
    '## Converged runs (full training set, early stopping)',
    '',
    `- ${converged.length} checkpoints in ${sets.length} series (${sets.join(', ')}), made by \`npm run zoo:train -- --converged\` (zoo/plan-converged.ts): ` +
      `the zoo's MLP at several hidden widths, trained on ${hp.train_subsample} of the 60 000 training images with ` +
      `${hp.validation_holdout} more held out (the official test split is never used for selection), SGD with momentum ` +
      `${hp.momentum}, learning rate ${hp.learning_rate}, batch size ${hp.batch_size}; training stops once ` +
      `${hp.early_stopping_patience} epochs bring no better validation accuracy (at most ${hp.epochs}) and the weights of ` +
      'the best validation epoch are kept. Every run is seeded and regenerates with the same command.',
    `- Epochs run: ${epochs.length ? `${Math.min(...epochs)}–${Math.max(...epochs)}` : '–'}; training time per run on this shared 2-core machine (wasm backend, one core per process, nice 10–15, with other jobs running): ` +
      `${seconds.length ? `${Math.min(...seconds)}–${Math.max(...seconds)} s, ${Math.round(seconds.reduce((a, b) => a + b, 0) / 60)} min in all` : 'not recorded'}.`,
    '- Within a series only the width changes, so the series is ordered by measured test accuracy, the controlled setting the theory speaks about for well-trained models.',
    '',
    ...membersTable(converged),
    '',
    '### τ against test accuracy within each converged series',
    '',
    'Cells: Kendall τ-b, ✓ when the sign is the one HT-SR predicts, ✗ when reversed. With n = 2, τ is ±1 by construction ' +
      '(a sign, not a correlation); with n = 3 no τ reaches p < 0.05; with n = 4 only |τ| = 1 does.',
    '',
    ...tauTable(seriesGroups, metrics),
    '',
    ...(counted.length
      ? claimLines(counted, quick)
      : [
          `- No converged series has ${MIN_COUNTED_GROUP} members, so no rank correlation and no claim of the theory is tested on them; the table shows only whether each metric moves the way HT-SR predicts from the narrower to the wider model.`,
        ]),
    '',
  ];
}
