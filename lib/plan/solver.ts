/**
 * Exact bit allocation as an integer program (HAWQ-V3's ILP, generalised to any set of bit widths),
 * solved by HiGHS (npm `highs`, HiGHS compiled to WebAssembly). One binary variable per (layer, bit
 * width), one-hot per layer; minimise Σ Ω_i(b_i) subject to budgets on weight bits (average bits or
 * bytes), bit operations (HAWQ-V3's BOPs: FP32 count · (b/32)², weights and activations at b bits)
 * and an optional per-layer latency table; tied layers share their bit width and fixed layers keep
 * theirs. Budgets are checked again on the solution in exact arithmetic: if the solver's feasibility
 * tolerance let a total creep over its limit, the limit is tightened and the model solved again.
 */
import { BadInputError, WeightlensError } from '../errors.ts';

export interface BitChoice {
  bits: number;
  /** Ω_i(b): the objective cost of this layer at this width. */
  sensitivity: number;
  /** Optional latency of the layer at this width (any unit, same as the budget). */
  latency?: number;
}

export interface AllocationLayer {
  name: string;
  params: number;
  /** FP32 bit operations of the layer (HAWQ-V3's BOPs); needed for a BOPs budget. */
  bops?: number;
  choices: BitChoice[];
  /** Keep the layer at this width (HAWQ keeps first and last layers at 8 bits). */
  fixedBits?: number;
}

export interface AllocationBudgets {
  /** Σ params_i · b_i ≤ this (an average-bits or a bytes budget, in bits). */
  maxWeightBits?: number;
  maxBops?: number;
  maxLatency?: number;
}

export interface AllocationProblem {
  layers: AllocationLayer[];
  /** Pairs of layer names that must share their bit width. */
  ties?: [string, string][];
  budgets: AllocationBudgets;
}

export interface AllocationTotals {
  weightBits: number;
  bops: number;
  latency: number;
}

export interface Allocation {
  bits: Record<string, number>;
  objective: number;
  totals: AllocationTotals;
}

export type BudgetName = keyof AllocationBudgets;

/** A budget outside what any allocation can meet; carries the feasible range of that budget. */
export class InfeasibleBudgetError extends BadInputError {
  readonly budget: BudgetName;
  readonly limit: number;
  readonly range: [number, number];
  constructor(budget: BudgetName, limit: number, range: [number, number], detail = '') {
    super(
      `${budget} = ${limit} is outside the feasible range [${range[0]}, ${range[1]}]${detail ? ` (${detail})` : ''}`,
    );
    this.budget = budget;
    this.limit = limit;
    this.range = range;
  }
}

/** The part of the `highs` package's one-shot API used here (its types.d.ts: LegacyHighs.solve). */
interface HighsColumn {
  Primal?: number;
}
interface Highs {
  solve(
    lp: string,
    options: Record<string, number | string | boolean>,
  ): {
    Status: string;
    Columns: Record<string, HighsColumn>;
  };
}
const HIGHS_MODULE = 'highs';
let solverPromise: Promise<Highs> | undefined;
/**
 * Imported on first use: the WebAssembly module is instantiated only when a plan is solved, and the
 * rest of the library (and its type check) does not depend on the package being installed.
 */
function loadSolver(): Promise<Highs> {
  solverPromise ??= import(HIGHS_MODULE).then((m: { default: () => Promise<Highs> }) => m.default());
  return solverPromise;
}

const bopsAt = (layer: AllocationLayer, bits: number) => (layer.bops ?? 0) * (bits / 32) ** 2;

function metric(layer: AllocationLayer, choice: BitChoice, budget: BudgetName): number {
  if (budget === 'maxWeightBits') return layer.params * choice.bits;
  if (budget === 'maxBops') return bopsAt(layer, choice.bits);
  return choice.latency ?? 0;
}

/** Layers grouped by ties (union-find), each group with the bit widths all its members allow. */
function tieGroups(problem: AllocationProblem): { members: number[]; bits: number[] }[] {
  const index = new Map(problem.layers.map((l, i) => [l.name, i]));
  const parent = problem.layers.map((_, i) => i);
  const find = (i: number): number => {
    if (parent[i] !== i) parent[i] = find(parent[i]!);
    return parent[i]!;
  };
  for (const [a, b] of problem.ties ?? []) {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia === undefined || ib === undefined)
      throw new BadInputError(`tie names an unknown layer: ${ia === undefined ? a : b}`);
    parent[find(ia)] = find(ib);
  }
  const groups = new Map<number, number[]>();
  problem.layers.forEach((_, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), i]);
  });
  return [...groups.values()].map((members) => {
    let bits = problem.layers[members[0]!]!.choices.map((c) => c.bits);
    for (const m of members) {
      const layer = problem.layers[m]!;
      const own = new Set(layer.choices.map((c) => c.bits));
      bits = bits.filter((b) => own.has(b));
      if (layer.fixedBits !== undefined) bits = bits.filter((b) => b === layer.fixedBits);
    }
    if (bits.length === 0) {
      const names = members.map((m) => problem.layers[m]!.name).join(', ');
      throw new BadInputError(`no bit width satisfies every fixed/tied constraint of ${names}`);
    }
    return { members, bits };
  });
}

/** The smallest and largest total of a budget's metric over every allowed allocation. */
export function feasibleRange(problem: AllocationProblem, budget: BudgetName): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const group of tieGroups(problem)) {
    const totals = group.bits.map((b) =>
      group.members.reduce((acc, m) => {
        const layer = problem.layers[m]!;
        return acc + metric(layer, layer.choices.find((c) => c.bits === b)!, budget);
      }, 0),
    );
    lo += Math.min(...totals);
    hi += Math.max(...totals);
  }
  return [lo, hi];
}

function checkProblem(problem: AllocationProblem): void {
  if (problem.layers.length === 0) throw new BadInputError('nothing to allocate: no layers');
  const seen = new Set<string>();
  for (const layer of problem.layers) {
    if (seen.has(layer.name)) throw new BadInputError('layer listed twice', { layer: layer.name });
    seen.add(layer.name);
    if (layer.choices.length === 0)
      throw new BadInputError('layer has no bit choices', { layer: layer.name });
    for (const c of layer.choices) {
      if (!Number.isFinite(c.sensitivity)) {
        throw new BadInputError(`sensitivity at ${c.bits} bits is not finite`, { layer: layer.name });
      }
    }
    if (layer.fixedBits !== undefined && !layer.choices.some((c) => c.bits === layer.fixedBits)) {
      throw new BadInputError(`fixed width ${layer.fixedBits} is not among its choices`, {
        layer: layer.name,
      });
    }
  }
  if (problem.budgets.maxBops !== undefined && problem.layers.some((l) => l.bops === undefined)) {
    throw new BadInputError(
      `a BOPs budget needs every layer's BOPs; missing for ${problem.layers.find((l) => l.bops === undefined)!.name}`,
    );
  }
  if (problem.budgets.maxLatency !== undefined) {
    for (const l of problem.layers) {
      if (l.choices.some((c) => c.latency === undefined)) {
        throw new BadInputError('a latency budget needs a latency for every bit width', { layer: l.name });
      }
    }
  }
}

const num = (x: number) => (Object.is(x, -0) ? '0' : String(x));

function lpText(
  problem: AllocationProblem,
  limits: AllocationBudgets,
  groups: ReturnType<typeof tieGroups>,
): string {
  const v = (i: number, b: number) => `x${i}_${b}`;
  const allowed = new Map<number, number[]>();
  for (const g of groups) for (const m of g.members) allowed.set(m, g.bits);
  const objective: string[] = [];
  const rows: string[] = [];
  const binaries: string[] = [];
  problem.layers.forEach((layer, i) => {
    const bits = allowed.get(i)!;
    for (const c of layer.choices) {
      if (!bits.includes(c.bits)) continue;
      binaries.push(v(i, c.bits));
      if (c.sensitivity !== 0)
        objective.push(`${c.sensitivity < 0 ? '-' : '+'} ${num(Math.abs(c.sensitivity))} ${v(i, c.bits)}`);
    }
    rows.push(`one${i}: ${bits.map((b) => `+ ${v(i, b)}`).join(' ')} = 1`);
  });
  for (const g of groups) {
    const [first, ...rest] = g.members;
    for (const m of rest)
      for (const b of g.bits) rows.push(`tie${m}_${b}: + ${v(m, b)} - ${v(first!, b)} = 0`);
  }
  for (const budget of Object.keys(limits) as BudgetName[]) {
    const limit = limits[budget];
    if (limit === undefined) continue;
    const terms: string[] = [];
    problem.layers.forEach((layer, i) => {
      for (const c of layer.choices) {
        if (!allowed.get(i)!.includes(c.bits)) continue;
        const a = metric(layer, c, budget);
        if (a !== 0) terms.push(`+ ${num(a)} ${v(i, c.bits)}`);
      }
    });
    if (terms.length > 0) rows.push(`${budget}: ${terms.join(' ')} <= ${num(limit)}`);
  }
  return [
    'Minimize',
    ` obj: ${objective.length > 0 ? objective.join(' ') : `0 ${binaries[0]}`}`,
    'Subject To',
    ...rows.map((r) => ` ${r}`),
    'Binary',
    ...binaries.map((b) => ` ${b}`),
    'End',
    '',
  ].join('\n');
}

function totalsOf(problem: AllocationProblem, bits: Record<string, number>): AllocationTotals {
  const totals: AllocationTotals = { weightBits: 0, bops: 0, latency: 0 };
  for (const layer of problem.layers) {
    const choice = layer.choices.find((c) => c.bits === bits[layer.name])!;
    totals.weightBits += metric(layer, choice, 'maxWeightBits');
    totals.bops += metric(layer, choice, 'maxBops');
    totals.latency += metric(layer, choice, 'maxLatency');
  }
  return totals;
}

const TOTAL_KEY: Record<BudgetName, keyof AllocationTotals> = {
  maxWeightBits: 'weightBits',
  maxBops: 'bops',
  maxLatency: 'latency',
};

/** Solve the allocation exactly. InfeasibleBudgetError (with the feasible range) when a budget cannot be met. */
export async function solveAllocation(problem: AllocationProblem): Promise<Allocation> {
  checkProblem(problem);
  const groups = tieGroups(problem);
  for (const budget of Object.keys(problem.budgets) as BudgetName[]) {
    const limit = problem.budgets[budget];
    if (limit === undefined) continue;
    const range = feasibleRange(problem, budget);
    if (!(limit >= range[0])) throw new InfeasibleBudgetError(budget, limit, range, 'below the minimum');
  }
  const highs = await loadSolver();
  const limits: AllocationBudgets = { ...problem.budgets };
  for (let attempt = 0; attempt < 5; attempt++) {
    const solution = highs.solve(lpText(problem, limits, groups), {
      mip_rel_gap: 0,
      mip_abs_gap: 0,
      mip_feasibility_tolerance: 1e-9,
      primal_feasibility_tolerance: 1e-9,
      output_flag: false,
    });
    if (solution.Status === 'Infeasible') {
      throw new BadInputError(
        'no allocation meets every budget at once (each alone is within its feasible range)',
      );
    }
    if (solution.Status !== 'Optimal')
      throw new WeightlensError('Solver', `HiGHS stopped with status "${solution.Status}"`);
    const bits: Record<string, number> = {};
    problem.layers.forEach((layer, i) => {
      for (const c of layer.choices) {
        const column = solution.Columns[`x${i}_${c.bits}`];
        if (column?.Primal !== undefined && column.Primal > 0.5) bits[layer.name] = c.bits;
      }
    });
    const totals = totalsOf(problem, bits);
    let violated = false;
    for (const budget of Object.keys(problem.budgets) as BudgetName[]) {
      const limit = problem.budgets[budget];
      if (limit === undefined) continue;
      const excess = totals[TOTAL_KEY[budget]] - limit;
      if (excess > 0) {
        violated = true;
        limits[budget] = limits[budget]! - excess * 2;
      }
    }
    if (violated) continue;
    const objective = problem.layers.reduce(
      (acc, l) => acc + l.choices.find((c) => c.bits === bits[l.name])!.sensitivity,
      0,
    );
    return { bits, objective, totals };
  }
  throw new WeightlensError('Solver', 'the solver kept exceeding a budget by its tolerance');
}
