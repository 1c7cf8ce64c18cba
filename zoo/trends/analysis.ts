/**
 * The trends experiment's statistics: rank correlations of each spectral metric with measured
 * test accuracy, overall and within controlled groups (one varied hyperparameter around a base
 * run), for the trained weights and for the shuffled-entries control. Pure: inputs are rows
 * already read from the pipeline's leaderboard.
 */
import {
  CHECKPOINT_METRIC_NAMES,
  CHECKPOINT_METRICS,
  type CheckpointMetricName,
} from '../../lib/metrics/registry.ts';
import { kendallTauB, spearmanRho } from '../../lib/stats/rank-correlation.ts';

/**
 * Analysis options of every sweep of the experiment (WeightWatcher defaults otherwise): randomize
 * for WeightWatcher's correlation-trap check, mpFit because mp_softrank needs the MP fit, and every
 * estimator (Hill and FARMS α beside plain α; detX/ERG and trap severity stored with them).
 */
export const TRENDS_ANALYSIS_OPTIONS = {
  randomize: true,
  mpFit: true,
  estimators: ['detx', 'farms', 'hill', 'traps'],
} as const;

/** Summary metrics as the leaderboard reports them (the metric registry's checkpoint metrics). */
export const SUMMARY_METRIC_NAMES = CHECKPOINT_METRIC_NAMES;

/** Metrics we derive from the trained and the shuffled sweep together. */
export const DERIVED_METRIC_NAMES = ['delta_alpha', 'delta_alpha_weighted'] as const;

export type SummaryMetricName = CheckpointMetricName;
export type DerivedMetricName = (typeof DERIVED_METRIC_NAMES)[number];
export type MetricName = SummaryMetricName | DerivedMetricName;
export type MetricValues = Partial<Record<MetricName, number | null>>;

/**
 * Direction in which each metric is claimed to track quality: -1 = lower is better (HT-SR: heavier
 * tails and smaller scale-weighted α mean better trained), +1 = higher is better. τ·direction > 0
 * means the metric orders checkpoints the way the theory says.
 */
export const EXPECTED_DIRECTION: Record<MetricName, -1 | 1> = {
  ...(Object.fromEntries(CHECKPOINT_METRICS.map((m) => [m.name, m.better === 'lower' ? -1 : 1])) as Record<
    SummaryMetricName,
    -1 | 1
  >),
  // α of the shuffled matrix minus α of the trained one: how far training moved the ESD away
  // from its own randomization (the "distance from randomness" of HT-SR), so larger is better.
  delta_alpha: 1,
  delta_alpha_weighted: 1,
};

export interface ZooPoint {
  id: string;
  set: string;
  /** The varied hyperparameter of its run ('base', 'batch_size', …) or 'epochs' for intermediates. */
  varies: string;
  run: string;
  epoch: number;
  /** The run's planned final epoch (a checkpoint with epoch === finalEpoch is the run's result). */
  finalEpoch: number;
  accuracy: number;
  hyperparameters: Record<string, number | string>;
  trained: MetricValues;
  /** Same metrics on the same layers with their entries shuffled (null when not measured). */
  shuffled: MetricValues | null;
  /** What an early-stopped (converged) run's sidecar records about its training. */
  training?: { epochsTrained: number; seconds: number; validationAccuracy: number };
}

export interface Correlation {
  metric: MetricName;
  tau: number | null;
  rho: number | null;
  n: number;
  /** Two-sided p-value of τ under independence (normal approximation, no tie correction). */
  pValue: number | null;
  /** τ times the metric's expected direction: > 0 = agrees with the theory. */
  tauAligned: number | null;
}

export interface GroupResult {
  group: string;
  description: string;
  ids: string[];
  /** Lowest and highest measured test accuracy in the group. */
  accuracyRange: [number, number] | null;
  trained: Correlation[];
  shuffled: Correlation[];
}

/** Standard normal upper tail, via the Abramowitz–Stegun 7.1.26 erfc approximation (|ε| < 1.5e-7). */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Two-sided p-value of Kendall's τ for n pairs: z = τ / sqrt(2(2n+5) / (9n(n−1))). */
export function kendallPValue(tau: number, n: number): number | null {
  if (n < 3) return null;
  const z = tau / Math.sqrt((2 * (2 * n + 5)) / (9 * n * (n - 1)));
  return Math.min(1, 2 * normalUpperTail(Math.abs(z)));
}

export function correlate(
  metric: MetricName,
  values: (number | null | undefined)[],
  accuracy: number[],
): Correlation {
  const xs = values.map((v) => (typeof v === 'number' ? v : Number.NaN));
  const tau = kendallTauB(xs, accuracy);
  const rho = spearmanRho(xs, accuracy);
  return {
    metric,
    tau: tau.value,
    rho: rho.value,
    n: tau.n,
    pValue: tau.value === null ? null : kendallPValue(tau.value, tau.n),
    tauAligned: tau.value === null ? null : tau.value * EXPECTED_DIRECTION[metric],
  };
}

/** Add the metrics that need both sweeps (trained and shuffled). */
export function withDerivedMetrics(point: ZooPoint): ZooPoint {
  const s = point.shuffled;
  const diff = (name: SummaryMetricName): number | null => {
    const a = s?.[name];
    const b = point.trained[name];
    return typeof a === 'number' && typeof b === 'number' ? a - b : null;
  };
  return {
    ...point,
    trained: { ...point.trained, delta_alpha: diff('alpha'), delta_alpha_weighted: diff('alpha_weighted') },
  };
}

export const ALL_METRICS: MetricName[] = [...SUMMARY_METRIC_NAMES, ...DERIVED_METRIC_NAMES];

function groupResult(group: string, description: string, points: ZooPoint[]): GroupResult {
  const accuracy = points.map((p) => p.accuracy);
  return {
    group,
    description,
    ids: points.map((p) => p.id),
    accuracyRange: points.length ? [Math.min(...accuracy), Math.max(...accuracy)] : null,
    trained: ALL_METRICS.map((m) =>
      correlate(
        m,
        points.map((p) => p.trained[m]),
        accuracy,
      ),
    ),
    shuffled: SUMMARY_METRIC_NAMES.map((m) =>
      correlate(
        m,
        points.map((p) => p.shuffled?.[m]),
        accuracy,
      ),
    ),
  };
}

/**
 * The groups the report shows: everything; trained checkpoints only (initializations out); each
 * set; each set × varied hyperparameter (the base run's final checkpoint plus the runs that change
 * only that hyperparameter); each set's per-epoch checkpoints of its base run.
 */
export function groupCorrelations(points: ZooPoint[]): GroupResult[] {
  const results: GroupResult[] = [];
  const final = (p: ZooPoint) => p.epoch === p.finalEpoch;
  results.push(groupResult('all', 'every checkpoint (initializations included)', points));
  const trained = points.filter((p) => p.epoch > 0);
  results.push(groupResult('all-trained', 'every checkpoint after ≥ 1 epoch', trained));
  const sets = [...new Set(points.map((p) => p.set))].sort();
  for (const set of sets) {
    const inSet = points.filter((p) => p.set === set);
    results.push(
      groupResult(
        set,
        `${set}: every checkpoint after ≥ 1 epoch`,
        inSet.filter((p) => p.epoch > 0),
      ),
    );
    const base = inSet.find((p) => p.varies === 'base' && final(p));
    const varied = [
      ...new Set(inSet.filter((p) => p.varies !== 'base' && final(p)).map((p) => p.varies)),
    ].sort();
    for (const h of varied) {
      const members = inSet.filter((p) => p.varies === h && final(p));
      const withBase = base === undefined ? members : [base, ...members];
      results.push(groupResult(`${set}/${h}`, `${set}: base run and runs varying only ${h}`, withBase));
    }
    const baseEpochs = inSet
      .filter((p) => p.varies === 'base' || p.varies === 'epochs')
      .filter((p) => p.run === base?.run);
    if (baseEpochs.length > 2) {
      results.push(
        groupResult(
          `${set}/epochs`,
          `${set}: per-epoch checkpoints of the base run (epoch 0 = initialization)`,
          [...baseEpochs].sort((a, b) => a.epoch - b.epoch),
        ),
      );
    }
  }
  return results;
}
