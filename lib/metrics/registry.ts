/**
 * The metric registry: the one list of per-layer and per-checkpoint metrics. Everything that names a
 * metric derives from it — the typed database columns (`db/results.ts`), the model summary
 * (`lib/spectral/summary.ts`), the CLI's table and leaderboard, the leaderboard's sort whitelist,
 * the dashboard's columns and charts (`lib/metrics/display.ts`) and the trends analysis.
 *
 * Names are WeightWatcher's `details` / `get_summary` column names (snake_case, what users know).
 * The stored Prisma field is `columnOf(name)` (snake → camel, written only here); the unit test
 * `test/unit/metric-registry.test.ts` checks every entry against `prisma/schema.prisma`, so a
 * metric cannot be half-added.
 *
 * To add a per-layer metric end to end (computed, stored, in CLI JSON, sortable in the dashboard):
 *   1. compute it into the `details` row (`lib/spectral/layer.ts` or the module it calls);
 *   2. add an entry to `LAYER_METRICS` below (in `details` order);
 *   3. add the column to `LayerResult` in `prisma/schema.prisma` (`Int?` for kind 'int', `Float?`
 *      for 'float'; a `summary` entry also needs it on `CheckpointSummary`) and create the migration
 *      (`npx prisma migrate dev --name <metric>`).
 * Nothing else: storage, CLI JSON and table, dashboard columns and sorting follow from the entry.
 */

import type { Estimator } from '../spectral/types.ts';

export type MetricKind = 'int' | 'float';
/** Which way the metric tracks model quality (HT-SR), or null for descriptive columns (shape…). */
export type Better = 'lower' | 'higher' | null;

export interface LayerMetricSpec {
  /** WeightWatcher's `details` column. */
  readonly name: string;
  readonly label: string;
  readonly kind: MetricKind;
  readonly better: Better;
  /** Shown in the CLI's `analyze` table (JSON carries every column anyway). */
  readonly table?: boolean;
  /**
   * Computed only when `AnalysisConfig.estimators` names this estimator (`--estimators`); null
   * otherwise. Shown in the `analyze` table when computed.
   */
  readonly estimator?: Estimator;
}

export interface CheckpointMetricSpec {
  /** WeightWatcher's `get_summary` key. */
  readonly name: string;
  readonly label: string;
  /** The per-layer metric it aggregates. */
  readonly of: LayerMetricName;
  /** WeightWatcher's get_summary is a plain mean over the analyzed layers. */
  readonly aggregate: 'mean';
  readonly better: Exclude<Better, null>;
  /** Left out of the summary when no layer has it (WeightWatcher drops mp_softrank without mp_fit). */
  readonly omitWhenAbsent?: boolean;
}

/** Per-layer numeric columns with a typed `LayerResult` column, in WeightWatcher's `details` order. */
export const LAYER_METRICS = [
  { name: 'N', label: 'N', kind: 'int', better: null, table: true },
  { name: 'M', label: 'M', kind: 'int', better: null, table: true },
  { name: 'Q', label: 'Q (N/M)', kind: 'float', better: null },
  { name: 'rf', label: 'receptive field', kind: 'int', better: null },
  { name: 'num_evals', label: 'eigenvalues', kind: 'int', better: null, table: true },
  { name: 'alpha', label: 'α', kind: 'float', better: 'lower', table: true },
  { name: 'alpha_weighted', label: 'α̂ (alpha_weighted)', kind: 'float', better: 'lower', table: true },
  { name: 'D', label: 'KS distance D', kind: 'float', better: 'lower', table: true },
  { name: 'xmin', label: 'xmin', kind: 'float', better: null },
  { name: 'xmax', label: 'xmax', kind: 'float', better: null },
  { name: 'lambda_max', label: 'λ max', kind: 'float', better: null },
  { name: 'num_pl_spikes', label: 'power-law spikes', kind: 'int', better: null, table: true },
  { name: 'norm', label: 'Frobenius norm', kind: 'float', better: 'lower' },
  { name: 'log_norm', label: 'log_norm', kind: 'float', better: 'lower', table: true },
  { name: 'spectral_norm', label: 'spectral norm', kind: 'float', better: 'lower' },
  { name: 'log_spectral_norm', label: 'log_spectral_norm', kind: 'float', better: 'lower', table: true },
  { name: 'log_alpha_norm', label: 'log_alpha_norm', kind: 'float', better: 'lower' },
  { name: 'stable_rank', label: 'stable_rank', kind: 'float', better: 'lower', table: true },
  { name: 'matrix_rank', label: 'numerical rank', kind: 'int', better: null },
  { name: 'entropy', label: 'matrix entropy', kind: 'float', better: null },
  { name: 'mp_softrank', label: 'mp_softrank', kind: 'float', better: 'lower' },
  { name: 'num_spikes', label: 'MP spikes', kind: 'int', better: null },
  { name: 'sigma_mp', label: 'σ (MP fit)', kind: 'float', better: null },
  { name: 'rand_distance', label: 'distance from randomized', kind: 'float', better: 'higher' },
  { name: 'ww_softrank', label: 'ww_softrank', kind: 'float', better: null },
  { name: 'alpha_hill', label: 'Hill α', kind: 'float', better: 'lower', estimator: 'hill' },
  { name: 'alpha_hill_xmin', label: 'Hill α x_min', kind: 'float', better: null, estimator: 'hill' },
  { name: 'alpha_farms', label: 'FARMS α', kind: 'float', better: 'lower', estimator: 'farms' },
  { name: 'detX_num', label: 'detX tail size', kind: 'int', better: null, estimator: 'detx' },
  { name: 'detX_val', label: 'detX tail start λ', kind: 'float', better: null, estimator: 'detx' },
  { name: 'num_ERG_spikes', label: 'ERG spikes', kind: 'int', better: null, estimator: 'detx' },
  { name: 'ERG_gap', label: 'ERG gap (detX − PL spikes)', kind: 'int', better: null, estimator: 'detx' },
  { name: 'trap_severity', label: 'trap severity', kind: 'float', better: 'lower', estimator: 'traps' },
  // Fine-tune deltas (analyze --base): ‖W − W_base‖_F / ‖W_base‖_F of the layer.
  { name: 'delta_norm_ratio', label: '‖ΔW‖/‖W_base‖', kind: 'float', better: null },
] as const satisfies readonly LayerMetricSpec[];

export type LayerMetricName = (typeof LAYER_METRICS)[number]['name'];

/** Per-checkpoint metrics (means over layers; `get_summary` keys), in leaderboard column order. */
export const CHECKPOINT_METRICS = [
  { name: 'alpha', label: 'mean α', of: 'alpha', aggregate: 'mean', better: 'lower' },
  {
    name: 'alpha_weighted',
    label: 'mean α̂ (alpha_weighted)',
    of: 'alpha_weighted',
    aggregate: 'mean',
    better: 'lower',
  },
  { name: 'log_norm', label: 'mean log_norm', of: 'log_norm', aggregate: 'mean', better: 'lower' },
  {
    name: 'log_alpha_norm',
    label: 'mean log_alpha_norm',
    of: 'log_alpha_norm',
    aggregate: 'mean',
    better: 'lower',
  },
  {
    name: 'log_spectral_norm',
    label: 'mean log_spectral_norm',
    of: 'log_spectral_norm',
    aggregate: 'mean',
    better: 'lower',
  },
  { name: 'stable_rank', label: 'mean stable_rank', of: 'stable_rank', aggregate: 'mean', better: 'lower' },
  {
    name: 'mp_softrank',
    label: 'mean mp_softrank',
    of: 'mp_softrank',
    aggregate: 'mean',
    better: 'lower',
    omitWhenAbsent: true,
  },
  {
    name: 'alpha_hill',
    label: 'mean Hill α',
    of: 'alpha_hill',
    aggregate: 'mean',
    better: 'lower',
    omitWhenAbsent: true,
  },
  {
    name: 'alpha_farms',
    label: 'mean FARMS α',
    of: 'alpha_farms',
    aggregate: 'mean',
    better: 'lower',
    omitWhenAbsent: true,
  },
] as const satisfies readonly CheckpointMetricSpec[];

export type CheckpointMetricName = (typeof CHECKPOINT_METRICS)[number]['name'];

/** The metric a leaderboard ranks by unless told otherwise (lower ranks better). */
export const DEFAULT_RANK_METRIC: CheckpointMetricName = 'alpha_weighted';

/**
 * WeightWatcher's well-trained α band: a layer with α below `low` is flagged over-trained, above
 * `high` under-trained. The dashboard's α chart draws the same band.
 */
export const ALPHA_BAND = { low: 2, high: 6 } as const;

type Camel<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S;

/** The Prisma field (LayerResult / CheckpointSummary) that stores a metric: its camelCase name. */
export type ColumnOf<Name extends string> = Camel<Name>;

export function columnOf<Name extends string>(name: Name): ColumnOf<Name> {
  return name.replace(/_([A-Za-z0-9])/g, (_, ch: string) => ch.toUpperCase()) as ColumnOf<Name>;
}

export type LayerMetricColumn = ColumnOf<LayerMetricName>;
export type CheckpointMetricColumn = ColumnOf<CheckpointMetricName>;

export const LAYER_METRIC_NAMES: readonly LayerMetricName[] = LAYER_METRICS.map((m) => m.name);
export const CHECKPOINT_METRIC_NAMES: readonly CheckpointMetricName[] = CHECKPOINT_METRICS.map((m) => m.name);

const layerByName = new Map<string, (typeof LAYER_METRICS)[number]>(LAYER_METRICS.map((m) => [m.name, m]));
const checkpointByName = new Map<string, (typeof CHECKPOINT_METRICS)[number]>(
  CHECKPOINT_METRICS.map((m) => [m.name, m]),
);

export function isLayerMetric(value: unknown): value is LayerMetricName {
  return typeof value === 'string' && layerByName.has(value);
}

export function isCheckpointMetric(value: unknown): value is CheckpointMetricName {
  return typeof value === 'string' && checkpointByName.has(value);
}

export function layerMetric(name: LayerMetricName): LayerMetricSpec {
  return layerByName.get(name)!;
}

export function checkpointMetric(name: CheckpointMetricName): CheckpointMetricSpec {
  return checkpointByName.get(name)!;
}
