/**
 * From per-layer inputs to a quantization/pruning plan: the sensitivities of each method, the budget
 * turned into solver constraints, pruning ratios, and the plan record (the JSON the CLI prints and
 * `--write` stores in the checkpoint's metadata). Pure: the caller supplies weights and inputs.
 *
 * Sensitivity Ω_i(b) per method:
 * - hawq: (Tr(H_ii)/n_i)·‖Q_b(W_i) − W_i‖² (HAWQ-V2/V3; the trace of the layer's block);
 * - zeroq: mean KL(model ‖ model with only layer i at b bits) over the inputs (ZeroQ), given;
 * - alpha: importance(α_i)·n_i·‖Q_b(W_i) − W_i‖²/‖W_i‖² (data-free; see alpha.ts);
 * - uniform: every layer at the average width (no solve).
 * A layer without the input its method needs is kept at the widest bit width, and the plan says so.
 */
import { BadInputError } from '../errors.ts';
import { alphaImportance, alphaPruningRatios } from './alpha.ts';
import { checkUniformCosts, costTotals } from './cost.ts';
import { checkBits, MAX_BITS, MIN_BITS, type QuantScheme } from './quantize.ts';
import {
  type AllocationBudgets,
  type AllocationLayer,
  type BudgetName,
  feasibleRange,
  InfeasibleBudgetError,
  solveAllocation,
} from './solver.ts';

export type PlanMethod = 'hawq' | 'zeroq' | 'alpha' | 'uniform';
export const PLAN_METHODS: readonly PlanMethod[] = ['hawq', 'zeroq', 'alpha', 'uniform'];

/**
 * How a target sparsity is split over layers: the same ratio everywhere, α-guided ratios
 * (AlphaPruning), or one magnitude threshold over the whole model (global magnitude pruning).
 */
export type PruneAllocation = 'uniform' | 'alpha' | 'global';
export const PRUNE_ALLOCATIONS: readonly PruneAllocation[] = ['uniform', 'alpha', 'global'];

/** The allocation a plan uses: the one asked for, else α-guided for alpha plans, uniform otherwise. */
export const pruneAllocation = (options: Pick<PlanOptions, 'method' | 'pruneBy'>): PruneAllocation =>
  options.pruneBy ?? (options.method === 'alpha' ? 'alpha' : 'uniform');

export interface PlanOptions {
  method: PlanMethod;
  /** Candidate bit widths (ignored by uniform). */
  bits: number[];
  /** Budget: average bits over the planned layers' weights (≤). */
  avgBits?: number;
  /** Budget: packed weight bytes of the planned layers, ceil(Σ n_i·b_i / 8) (≤). */
  maxBytes?: number;
  /** Budget: HAWQ-V3 bit operations Σ MACs_i·b_i² (weights and activations at b_i bits) (≤). */
  maxBops?: number;
  /** Budget: Σ of the latency table's entries at the chosen widths (≤). */
  maxLatency?: number;
  /** Target parameter-weighted sparsity (magnitude pruning before quantization). */
  sparsity?: number;
  /** How the sparsity is split over layers (default: see pruneAllocation). */
  pruneBy?: PruneAllocation;
  scheme: QuantScheme;
  /** AlphaPruning's ε (pruning map and α importance). */
  epsilon: number;
  /** Keep the first and last planned layers at the widest width (HAWQ's convention). */
  keepFirstLast?: boolean;
}

/** What is known about one layer before planning. */
export interface PlanLayerInput {
  name: string;
  params: number;
  /** ‖Q_b(W) − W‖² of the (pruned) weights for each candidate width. */
  perturbation: Map<number, number>;
  /** ‖W‖² of the (pruned) weights. */
  squaredNorm: number;
  alpha?: number;
  /** Hessian trace of the layer's block and the block's parameter count. */
  trace?: { trace: number; params: number };
  /** ZeroQ KL sensitivity for each candidate width. */
  kl?: Map<number, number>;
  /** Why the method's input is missing (shown in the plan). */
  missing?: string;
  /** FP32 bit operations (MACs · 32²), for a BOPs budget. */
  bops?: number;
  /** Latency at each candidate width, for a latency budget. */
  latency?: Map<number, number>;
}

export interface PlannedLayer {
  name: string;
  params: number;
  bits: number;
  sparsity: number;
  /** Ω at the chosen width (null for uniform plans and layers without the method's input). */
  sensitivity: number | null;
  note?: string;
}

export interface Plan {
  method: PlanMethod;
  avg_bits: number;
  bytes: number;
  /** Σ MACs_i·b_i² when every layer's BOPs are known. */
  bops?: number;
  /** Σ latency at the chosen widths when a latency table was given. */
  latency?: number;
  sparsity: number;
  scheme: QuantScheme;
  budget: {
    avg_bits?: number;
    max_bytes?: number;
    max_bops?: number;
    max_latency?: number;
    sparsity?: number;
  };
  objective: number | null;
  layers: PlannedLayer[];
}

export function checkPlanOptions(options: PlanOptions): void {
  if (!PLAN_METHODS.includes(options.method)) {
    throw new BadInputError(`unknown method '${options.method}' (expected ${PLAN_METHODS.join(', ')})`);
  }
  if (options.bits.length === 0) throw new BadInputError('no candidate bit widths');
  for (const b of options.bits) checkBits(b);
  const budgets = [options.avgBits, options.maxBytes, options.maxBops, options.maxLatency];
  if (budgets.every((b) => b === undefined)) {
    throw new BadInputError('give a budget: --avg-bits, --max-bytes, --max-bops and/or --max-latency');
  }
  if (options.method === 'uniform' && options.avgBits === undefined && options.maxBytes === undefined) {
    throw new BadInputError('a uniform plan needs --avg-bits or --max-bytes (its width)');
  }
  for (const [flag, v] of [
    ['--max-bops', options.maxBops],
    ['--max-latency', options.maxLatency],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0))
      throw new BadInputError(`${flag} ${v} is not positive`);
  }
  if (options.avgBits !== undefined && !(options.avgBits > 0))
    throw new BadInputError(`--avg-bits ${options.avgBits} is not positive`);
  if (options.maxBytes !== undefined && !(Number.isInteger(options.maxBytes) && options.maxBytes > 0)) {
    throw new BadInputError(`--max-bytes ${options.maxBytes} is not a positive integer`);
  }
  if (options.sparsity !== undefined && !(options.sparsity >= 0 && options.sparsity < 1)) {
    throw new BadInputError(`--sparsity ${options.sparsity} is not in [0, 1)`);
  }
  if (options.pruneBy !== undefined && !PRUNE_ALLOCATIONS.includes(options.pruneBy)) {
    throw new BadInputError(
      `unknown pruning allocation '${options.pruneBy}' (expected ${PRUNE_ALLOCATIONS.join(', ')})`,
    );
  }
  if (options.method === 'uniform' && options.avgBits !== undefined) checkBits(options.avgBits);
}

/**
 * Per-layer pruning ratios of the uniform and α-guided (AlphaPruning, clipped and re-balanced)
 * allocations; the global one depends on the weights (see globalMagnitudeCounts in prune.ts).
 */
export function pruningRatios(
  layers: readonly { name: string; params: number; alpha?: number }[],
  options: PlanOptions,
): number[] {
  const target = options.sparsity ?? 0;
  if (target === 0) return layers.map(() => 0);
  const allocation = pruneAllocation(options);
  if (allocation === 'global')
    throw new BadInputError('global magnitude pruning ratios come from the weights');
  if (allocation === 'uniform') return layers.map(() => target);
  // A layer without a finite α (too small for the spectral analysis, say) is pruned at the target
  // ratio; the α map splits the same target over the others, so the model still hits it exactly.
  const hasAlpha = (l: { alpha?: number }) => l.alpha !== undefined && Number.isFinite(l.alpha);
  const withAlpha = layers.filter(hasAlpha);
  if (withAlpha.length === 0)
    throw new BadInputError('α-guided pruning needs α for at least one planned layer', {
      layer: layers[0]?.name ?? '',
    });
  const mapped = alphaPruningRatios(
    withAlpha.map((l) => ({ name: l.name, params: l.params, alpha: l.alpha! })),
    { target, epsilon: options.epsilon },
  ).ratios;
  let k = 0;
  return layers.map((l) => (hasAlpha(l) ? mapped[k++]! : target));
}

function sensitivities(
  layers: readonly PlanLayerInput[],
  options: PlanOptions,
): (Map<number, number> | undefined)[] {
  const withAlpha = layers.filter((l) => l.alpha !== undefined && Number.isFinite(l.alpha));
  const importance = new Map<string, number>();
  if (options.method === 'alpha' && withAlpha.length > 0) {
    const imp = alphaImportance(
      withAlpha.map((l) => l.alpha!),
      options.epsilon,
    );
    withAlpha.forEach((l, k) => {
      importance.set(l.name, imp[k]!);
    });
  }
  return layers.map((l) => {
    const out = new Map<number, number>();
    for (const b of options.bits) {
      const p = l.perturbation.get(b)!;
      if (options.method === 'hawq') {
        if (!l.trace) return undefined;
        out.set(b, (l.trace.trace / l.trace.params) * p);
      } else if (options.method === 'zeroq') {
        const kl = l.kl?.get(b);
        if (kl === undefined) return undefined;
        out.set(b, kl);
      } else if (options.method === 'alpha') {
        const imp = importance.get(l.name);
        if (imp === undefined) return undefined;
        out.set(b, l.squaredNorm > 0 ? (imp * l.params * p) / l.squaredNorm : 0);
      }
    }
    // A non-finite input (e.g. a diverged trace estimate) counts as missing, not as a cost.
    return [...out.values()].every(Number.isFinite) ? out : undefined;
  });
}

const weightBitsBudget = (options: PlanOptions, totalParams: number): number | undefined => {
  const limits: number[] = [];
  if (options.avgBits !== undefined) limits.push(options.avgBits * totalParams);
  if (options.maxBytes !== undefined) limits.push(options.maxBytes * 8);
  return limits.length > 0 ? Math.min(...limits) : undefined;
};

const BUDGET_FLAG: Record<BudgetName, string> = {
  maxWeightBits: '--avg-bits/--max-bytes',
  maxBops: '--max-bops',
  maxLatency: '--max-latency',
};

/** Plan the layers (in checkpoint order). Infeasible budgets throw with the feasible range. */
export async function planLayers(
  layers: readonly PlanLayerInput[],
  ratios: readonly number[],
  options: PlanOptions,
): Promise<Plan> {
  checkPlanOptions(options);
  if (layers.length === 0) throw new BadInputError('the checkpoint has no layers to plan');
  const totalParams = layers.reduce((a, l) => a + l.params, 0);
  const bitsBudget = weightBitsBudget(options, totalParams);
  const widest = Math.max(...options.bits);
  let chosen: number[];
  let omegas: (number | null)[];
  let objective: number | null = null;
  const notes: (string | undefined)[] = layers.map((l) =>
    (options.sparsity ?? 0) > 0 &&
    pruneAllocation(options) === 'alpha' &&
    !(l.alpha !== undefined && Number.isFinite(l.alpha))
      ? `no α (${l.missing ?? 'not finite'}); pruned at the target ratio`
      : undefined,
  );
  if (options.method === 'uniform') {
    const width = options.avgBits ?? Math.floor((bitsBudget ?? 0) / totalParams);
    if (width > MAX_BITS || width < MIN_BITS) {
      throw new InfeasibleBudgetError(
        'maxWeightBits',
        bitsBudget ?? 0,
        [MIN_BITS * totalParams, MAX_BITS * totalParams],
        `a uniform width must be in [${MIN_BITS}, ${MAX_BITS}]: ${(MIN_BITS * totalParams) / 8}–${(MAX_BITS * totalParams) / 8} bytes`,
      );
    }
    if (bitsBudget !== undefined && width * totalParams > bitsBudget) {
      const avg = bitsBudget / totalParams;
      throw new InfeasibleBudgetError(
        'maxWeightBits',
        bitsBudget,
        [2 * totalParams, 8 * totalParams],
        `uniform ${width}-bit needs ${width * totalParams} weight bits; the byte budget allows an average of ${avg.toFixed(3)}`,
      );
    }
    checkUniformCosts(layers, width, options);
    chosen = layers.map(() => width);
    omegas = layers.map(() => null);
  } else {
    const omega = sensitivities(layers, options);
    const problemLayers: AllocationLayer[] = layers.map((l, i) => {
      const o = omega[i];
      const fixed = o === undefined || (options.keepFirstLast && (i === 0 || i === layers.length - 1));
      const note =
        o === undefined
          ? `no ${options.method} input (${l.missing ?? 'missing or not finite'}); kept at ${widest} bits`
          : fixed
            ? `first/last layer kept at ${widest} bits`
            : undefined;
      if (note) notes[i] = notes[i] ? `${notes[i]}; ${note}` : note;
      return {
        name: l.name,
        params: l.params,
        ...(l.bops !== undefined ? { bops: l.bops } : {}),
        choices: options.bits.map((b) => ({
          bits: b,
          sensitivity: o?.get(b) ?? 0,
          ...(l.latency?.has(b) ? { latency: l.latency.get(b)! } : {}),
        })),
        ...(fixed ? { fixedBits: widest } : {}),
      };
    });
    const budgets: AllocationBudgets = {
      ...(bitsBudget !== undefined ? { maxWeightBits: bitsBudget } : {}),
      ...(options.maxBops !== undefined ? { maxBops: options.maxBops } : {}),
      ...(options.maxLatency !== undefined ? { maxLatency: options.maxLatency } : {}),
    };
    const problem = { layers: problemLayers, budgets };
    for (const budget of Object.keys(budgets) as BudgetName[]) {
      if (budget === 'maxBops' && layers.some((l) => l.bops === undefined)) {
        throw new BadInputError("--max-bops needs every layer's BOPs", {
          layer: layers.find((l) => l.bops === undefined)!.name,
        });
      }
      if (budget === 'maxLatency' && layers.some((l) => l.latency === undefined)) {
        throw new BadInputError('--max-latency needs a latency table entry for every layer', {
          layer: layers.find((l) => l.latency === undefined)!.name,
        });
      }
      const range = feasibleRange(problem, budget);
      if (budgets[budget]! > range[1]) {
        throw describeRange(
          new InfeasibleBudgetError(budget, budgets[budget]!, range),
          totalParams,
          'above the maximum',
        );
      }
    }
    const allocation = await solveAllocation(problem).catch((err: unknown) => {
      if (err instanceof InfeasibleBudgetError) throw describeRange(err, totalParams, 'below the minimum');
      throw err;
    });
    chosen = layers.map((l) => allocation.bits[l.name]!);
    omegas = layers.map((_, i) => omega[i]?.get(chosen[i]!) ?? null);
    objective = allocation.objective;
  }
  const weightBits = layers.reduce((a, l, i) => a + l.params * chosen[i]!, 0);
  const pruned = layers.reduce((a, l, i) => a + Math.round(ratios[i]! * l.params), 0);
  const costs = costTotals(layers, chosen);
  return {
    method: options.method,
    avg_bits: weightBits / totalParams,
    bytes: Math.ceil(weightBits / 8),
    ...(costs.bops !== undefined ? { bops: costs.bops } : {}),
    ...(costs.latency !== undefined ? { latency: costs.latency } : {}),
    sparsity: pruned / totalParams,
    scheme: options.scheme,
    budget: {
      ...(options.avgBits !== undefined ? { avg_bits: options.avgBits } : {}),
      ...(options.maxBytes !== undefined ? { max_bytes: options.maxBytes } : {}),
      ...(options.maxBops !== undefined ? { max_bops: options.maxBops } : {}),
      ...(options.maxLatency !== undefined ? { max_latency: options.maxLatency } : {}),
      ...(options.sparsity !== undefined ? { sparsity: options.sparsity } : {}),
    },
    objective,
    layers: layers.map((l, i) => ({
      name: l.name,
      params: l.params,
      bits: chosen[i]!,
      sparsity: ratios[i]!,
      sensitivity: omegas[i]!,
      ...(notes[i] ? { note: notes[i] } : {}),
    })),
  };
}

/** Restate a budget's feasible range in the user's units (average bits and bytes, BOPs, latency). */
function describeRange(err: InfeasibleBudgetError, totalParams: number, side: string): BadInputError {
  const [lo, hi] = err.range;
  const flag = BUDGET_FLAG[err.budget];
  if (err.budget === 'maxWeightBits') {
    return new BadInputError(
      `budget ${side}: the feasible range is ${(lo / totalParams).toFixed(4)}–${(hi / totalParams).toFixed(4)} average bits (${Math.ceil(lo / 8)}–${Math.ceil(hi / 8)} bytes) for these layers and bit widths`,
    );
  }
  const unit = err.budget === 'maxBops' ? ' BOPs' : ' (latency table units)';
  const v = (x: number) => String(Number(x.toPrecision(6)));
  return new BadInputError(
    `${flag} ${err.limit} is ${side}: the feasible range is ${v(lo)}–${v(hi)}${unit} for these layers and bit widths`,
  );
}
