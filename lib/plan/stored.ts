/**
 * Planning from stored results (the plan workflow's activity) and the budget sweep the dashboard
 * charts: α from layer result rows (the same rows a local analysis would produce, so a plan from
 * stored results equals a local one), and plans re-solved over a grid of average-bit budgets.
 */
import { BadInputError } from '../errors.ts';
import type { PlanInputs } from './checkpoint.ts';
import { type PlanLayerInput, type PlanOptions, planLayers } from './plan.ts';

/** What a plan's inputs are, when they are α (printed and stored with the plan). */
export const ALPHA_SOURCE = 'α from the spectral analysis';

/** One layer's spectral result as analyze reports it or a sweep stores it. */
export interface AlphaRow {
  name: string;
  status: string;
  alpha: number | null;
  error: string | null;
}

/** α of the succeeded layers; every other layer is named with why it has none. */
export function alphaFromLayerRows(rows: readonly AlphaRow[]): PlanInputs {
  const alpha = new Map<string, number>();
  const missing = new Map<string, string>();
  for (const row of rows) {
    if (row.status === 'succeeded') {
      if (row.alpha !== null && Number.isFinite(row.alpha)) alpha.set(row.name, row.alpha);
      else missing.set(row.name, 'α is not finite');
    } else {
      missing.set(row.name, `no α: ${row.error ?? row.status}`);
    }
  }
  return { alpha, missing };
}

/**
 * The curvature settings of HAWQ's inputs: per-layer Hutchinson traces only (fixed probe count,
 * seeded), the same in local mode and in the stack, so both read the same numbers and a stored
 * curvature run with these settings (and data) is reused by its configuration hash.
 */
export function hawqCurvatureSettings(probes: number, seed: number) {
  return {
    topK: 0,
    trace: false,
    perLayer: true,
    perLayerSteps: 2,
    traceRule: 'fixed' as const,
    traceMaxProbes: probes,
    seed,
  };
}

/** One layer block's trace as lib/curvature reports it (or a stored CurvatureResult's layers hold it). */
export interface BlockTrace {
  name: string;
  trace: number;
  parameters: number;
}

/**
 * Per-tensor traces from per-block ones: a weight "dense_1/kernel" reads the "dense_1" block (kernel
 * and bias, so the trace per parameter is Tr(H_block)/n_block); a tensor without a block is named.
 */
export function tracesByTensor(
  blocks: readonly BlockTrace[],
  tensorNames: readonly string[],
  modelUri: string,
): Required<Pick<PlanInputs, 'traces' | 'missing'>> {
  const byLayer = new Map(blocks.map((l) => [l.name, l]));
  const traces = new Map<string, { trace: number; params: number }>();
  const missing = new Map<string, string>();
  for (const name of tensorNames) {
    const block = name.split('/')[0]!;
    const layer = byLayer.get(block);
    if (layer) traces.set(name, { trace: layer.trace, params: layer.parameters });
    else missing.set(name, `no layer block named ${block} in ${modelUri}`);
  }
  return { traces, missing };
}

/** One point of the budget sweep: the plan under an average-bit budget alone. */
export interface FrontierPoint {
  budget_avg_bits: number;
  avg_bits: number;
  bytes: number;
  /** Σ of the chosen widths' predicted sensitivities (the solver's objective). */
  objective: number;
}

/** Budgets from the narrowest to the widest candidate width in steps of `step` average bits. */
export function frontierBudgets(bits: readonly number[], step = 0.25): number[] {
  const lo = Math.min(...bits);
  const hi = Math.max(...bits);
  const out: number[] = [];
  for (let k = 0; lo + k * step <= hi + 1e-9; k++) out.push(Number((lo + k * step).toFixed(6)));
  return out;
}

/**
 * The plan re-solved under each average-bit budget (other budgets dropped, the same layers,
 * perturbations and pruning ratios): size against predicted sensitivity. Uniform plans have no
 * sensitivities, so no frontier; budgets the fixed layers make infeasible are left out.
 */
export async function budgetFrontier(
  layers: readonly PlanLayerInput[],
  ratios: readonly number[],
  options: PlanOptions,
  budgets: readonly number[] = frontierBudgets(options.bits),
): Promise<FrontierPoint[]> {
  if (options.method === 'uniform') return [];
  const points: FrontierPoint[] = [];
  for (const budget of budgets) {
    const sweep: PlanOptions = {
      ...options,
      avgBits: budget,
      maxBytes: undefined,
      maxBops: undefined,
      maxLatency: undefined,
    };
    try {
      const plan = await planLayers(layers, ratios, sweep);
      if (plan.objective === null) continue;
      points.push({
        budget_avg_bits: budget,
        avg_bits: plan.avg_bits,
        bytes: plan.bytes,
        objective: plan.objective,
      });
    } catch (err) {
      if (err instanceof BadInputError) continue;
      throw err;
    }
  }
  return points;
}
