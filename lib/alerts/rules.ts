/**
 * Alert rules of scheduled and watched sweeps: a small expression over one checkpoint's results,
 * parsed once when the schedule is created (bad rules are refused there) and evaluated after each run.
 *
 *   rule    := subject op number
 *   subject := metric              a per-checkpoint value (summary mean, or a count such as correlation_traps)
 *            | agg "(" metric ")"  min | max | mean over the checkpoint's analyzed layers
 *            | "delta(" metric ")" the per-checkpoint value minus the previous checkpoint's (by step)
 *   op      := "<" | "<=" | ">" | ">=" | "==" | "!="
 *
 * Which names exist is the caller's to say (`AlertVocabulary`), so this module stays a parser.
 */
import { BadInputError } from '../errors.ts';

export const ALERT_OPERATORS = ['<=', '>=', '==', '!=', '<', '>'] as const;
export type AlertOperator = (typeof ALERT_OPERATORS)[number];
export const LAYER_AGGREGATES = ['min', 'max', 'mean'] as const;
export type LayerAggregate = (typeof LAYER_AGGREGATES)[number];

export type AlertSubject =
  | { kind: 'checkpoint'; metric: string }
  | { kind: 'layers'; aggregate: LayerAggregate; metric: string }
  | { kind: 'delta'; metric: string };

export interface AlertRule {
  /** The rule as written, normalized (one space around the operator): its identity. */
  text: string;
  subject: AlertSubject;
  op: AlertOperator;
  threshold: number;
}

export interface AlertVocabulary {
  /** Per-layer metric names (WeightWatcher column names). */
  layer: readonly string[];
  /** Per-checkpoint metric names (summary means and counts). */
  checkpoint: readonly string[];
}

const RULE =
  /^\s*(?:([a-z_]+)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|([A-Za-z_][A-Za-z0-9_]*))\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

function fail(text: string, why: string): never {
  throw new BadInputError(`alert rule '${text}': ${why}`);
}

function known(name: string, names: readonly string[], what: string, text: string): void {
  if (!names.includes(name)) fail(text, `unknown ${what} metric '${name}' (known: ${names.join(', ')})`);
}

export function parseAlertRule(text: string, vocabulary: AlertVocabulary): AlertRule {
  const m = RULE.exec(text);
  if (!m) {
    fail(text, "expected 'metric OP number', 'min|max|mean(metric) OP number' or 'delta(metric) OP number'");
  }
  const [, fn, fnArg, bare, op, number] = m;
  const threshold = Number(number);
  if (!Number.isFinite(threshold)) fail(text, `threshold '${number}' is not a finite number`);
  let subject: AlertSubject;
  if (bare !== undefined) {
    known(bare, vocabulary.checkpoint, 'per-checkpoint', text);
    subject = { kind: 'checkpoint', metric: bare };
  } else if (fn === 'delta') {
    known(fnArg!, vocabulary.checkpoint, 'per-checkpoint', text);
    subject = { kind: 'delta', metric: fnArg! };
  } else if ((LAYER_AGGREGATES as readonly string[]).includes(fn!)) {
    known(fnArg!, vocabulary.layer, 'per-layer', text);
    subject = { kind: 'layers', aggregate: fn as LayerAggregate, metric: fnArg! };
  } else {
    fail(text, `unknown function '${fn}' (known: ${[...LAYER_AGGREGATES, 'delta'].join(', ')})`);
  }
  return { text: `${subjectText(subject)} ${op} ${number}`, subject, op: op as AlertOperator, threshold };
}

function subjectText(subject: AlertSubject): string {
  switch (subject.kind) {
    case 'checkpoint':
      return subject.metric;
    case 'layers':
      return `${subject.aggregate}(${subject.metric})`;
    case 'delta':
      return `delta(${subject.metric})`;
  }
}

/** One checkpoint's results as the rules see them. */
export interface AlertCheckpoint {
  id: string;
  /** Ordering key within the watched run (training step); undefined sorts first, by name. */
  step: number | undefined;
  name: string;
  checkpoint: Readonly<Record<string, number | null | undefined>>;
  /** One entry per analyzed layer. */
  layers: ReadonlyArray<Readonly<Record<string, number | null | undefined>>>;
}

export interface AlertHit {
  rule: string;
  checkpointId: string;
  value: number;
  message: string;
}

function compare(value: number, op: AlertOperator, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function aggregate(values: number[], how: LayerAggregate): number | undefined {
  if (values.length === 0) return undefined;
  if (how === 'min') return values.reduce((a, b) => Math.min(a, b));
  if (how === 'max') return values.reduce((a, b) => Math.max(a, b));
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Checkpoints of one run in step order (then name), the order `delta` compares along. */
export function orderCheckpoints<T extends Pick<AlertCheckpoint, 'step' | 'name'>>(items: readonly T[]): T[] {
  return [...items].sort(
    (a, b) => (a.step ?? -1) - (b.step ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/**
 * Every (rule, checkpoint) that fires. A value a checkpoint lacks (no analyzed layer, no previous
 * checkpoint for delta, a null metric) fires nothing.
 */
export function evaluateAlertRules(
  rules: readonly AlertRule[],
  checkpoints: readonly AlertCheckpoint[],
): AlertHit[] {
  const ordered = orderCheckpoints(checkpoints);
  const hits: AlertHit[] = [];
  for (const rule of rules) {
    ordered.forEach((ckpt, i) => {
      let value: number | undefined;
      const { subject } = rule;
      if (subject.kind === 'checkpoint') {
        const v = ckpt.checkpoint[subject.metric];
        value = finite(v) ? v : undefined;
      } else if (subject.kind === 'layers') {
        value = aggregate(
          ckpt.layers.map((layer) => layer[subject.metric]).filter(finite),
          subject.aggregate,
        );
      } else if (i > 0) {
        const now = ckpt.checkpoint[subject.metric];
        const before = ordered[i - 1]!.checkpoint[subject.metric];
        value = finite(now) && finite(before) ? now - before : undefined;
      }
      if (value !== undefined && compare(value, rule.op, rule.threshold)) {
        hits.push({
          rule: rule.text,
          checkpointId: ckpt.id,
          value,
          message: `${ckpt.name}${ckpt.step === undefined ? '' : ` (step ${ckpt.step})`}: ${rule.text} (value ${formatValue(value)})`,
        });
      }
    });
  }
  return hits;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}
