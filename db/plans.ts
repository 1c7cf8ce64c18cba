/**
 * Plans in Postgres (Plan + PlanLayer): the plan workflow's activities write them, the CLI's stack
 * mode and the dashboard read them back. `readPlan` rebuilds the plan record exactly as the local
 * planner returns it (lib/plan Plan), so both modes print the same JSON.
 */
import type { Plan, PlanOptions } from '../lib/plan/plan.ts';
import type { FrontierPoint } from '../lib/plan/stored.ts';
import type { Prisma, PrismaClient } from './client.ts';

export interface NewPlan {
  id: string;
  checkpointId: string;
  workflowId: string;
  options: PlanOptions;
  configHash: string | null;
  /** Curvature config hash of the stored Hessian traces a hawq plan reads. */
  curvatureHash?: string | null;
}

/** The plan's row, status running (idempotent: a retried activity finds it). */
export async function createPlanRecord(prisma: PrismaClient, plan: NewPlan): Promise<void> {
  const data = {
    checkpointId: plan.checkpointId,
    workflowId: plan.workflowId,
    status: 'running' as const,
    method: plan.options.method,
    scheme: plan.options.scheme,
    options: JSON.parse(JSON.stringify(plan.options)) as Prisma.InputJsonValue,
    configHash: plan.configHash,
    curvatureHash: plan.curvatureHash ?? null,
  };
  await prisma.plan.upsert({ where: { id: plan.id }, create: { id: plan.id, ...data }, update: data });
}

export interface PlanResult {
  plan: Plan;
  /** Where the inputs came from ("α from the spectral analysis"). */
  inputs: string;
  frontier: FrontierPoint[];
  /** The inputs each layer was planned from, by layer name. */
  alpha?: ReadonlyMap<string, number>;
  traces?: ReadonlyMap<string, { trace: number }>;
}

/** Store a solved plan and its layers in one transaction (a retry replaces them). */
export async function storePlanResult(
  prisma: PrismaClient,
  planId: string,
  result: PlanResult,
): Promise<void> {
  const { plan } = result;
  await prisma.$transaction([
    prisma.planLayer.deleteMany({ where: { planId } }),
    prisma.planLayer.createMany({
      data: plan.layers.map((l, position) => ({
        planId,
        position,
        layerName: l.name,
        params: l.params,
        bits: l.bits,
        sparsity: l.sparsity,
        sensitivity: l.sensitivity,
        alpha: result.alpha?.get(l.name) ?? null,
        trace: result.traces?.get(l.name)?.trace ?? null,
        note: l.note ?? null,
      })),
    }),
    prisma.plan.update({
      where: { id: planId },
      data: {
        status: 'succeeded',
        error: null,
        budget: plan.budget as Prisma.InputJsonValue,
        avgBits: plan.avg_bits,
        bytes: BigInt(plan.bytes),
        bops: plan.bops ?? null,
        latency: plan.latency ?? null,
        sparsity: plan.sparsity,
        objective: plan.objective,
        inputs: result.inputs,
        frontier: result.frontier as unknown as Prisma.InputJsonValue,
        finishedAt: new Date(),
      },
    }),
  ]);
}

/** A plan that could not be made (bad budget, unreadable checkpoint): its row says why. */
export async function failPlanRecord(prisma: PrismaClient, planId: string, reason: string): Promise<void> {
  await prisma.plan.updateMany({
    where: { id: planId },
    data: { status: 'failed', error: reason, finishedAt: new Date() },
  });
}

export interface StoredPlanLayer {
  name: string;
  params: number;
  bits: number;
  sparsity: number;
  sensitivity: number | null;
  alpha: number | null;
  trace: number | null;
  note: string | null;
}

export interface StoredPlan {
  id: string;
  status: string;
  error: string | null;
  checkpoint: { id: string; uri: string; family: string | null; run: string | null; step: number | null };
  inputs: string | null;
  createdAt: Date;
  options: PlanOptions;
  /** The plan record (null until the plan succeeded). */
  plan: Plan | null;
  frontier: FrontierPoint[];
  layers: StoredPlanLayer[];
}

function planRecord(
  row: Prisma.PlanGetPayload<{ include: { layers: true } }>,
  layers: StoredPlanLayer[],
): Plan | null {
  if (row.status !== 'succeeded' || row.avgBits === null || row.bytes === null || row.sparsity === null)
    return null;
  return {
    method: row.method as Plan['method'],
    avg_bits: row.avgBits,
    bytes: Number(row.bytes),
    ...(row.bops !== null ? { bops: row.bops } : {}),
    ...(row.latency !== null ? { latency: row.latency } : {}),
    sparsity: row.sparsity,
    scheme: row.scheme as Plan['scheme'],
    budget: (row.budget ?? {}) as Plan['budget'],
    objective: row.objective,
    layers: layers.map((l) => ({
      name: l.name,
      params: l.params,
      bits: l.bits,
      sparsity: l.sparsity,
      sensitivity: l.sensitivity,
      ...(l.note !== null ? { note: l.note } : {}),
    })),
  };
}

export async function readPlan(prisma: PrismaClient, planId: string): Promise<StoredPlan | null> {
  const row = await prisma.plan.findUnique({
    where: { id: planId },
    include: {
      layers: { orderBy: { position: 'asc' } },
      checkpoint: { select: { id: true, uri: true, family: true, run: true, step: true } },
    },
  });
  if (!row) return null;
  const layers: StoredPlanLayer[] = row.layers.map((l) => ({
    name: l.layerName,
    params: l.params,
    bits: l.bits,
    sparsity: l.sparsity,
    sensitivity: l.sensitivity,
    alpha: l.alpha,
    trace: l.trace,
    note: l.note,
  }));
  return {
    id: row.id,
    status: row.status,
    error: row.error,
    checkpoint: row.checkpoint,
    inputs: row.inputs,
    createdAt: row.createdAt,
    options: row.options as unknown as PlanOptions,
    plan: planRecord(row, layers),
    frontier: Array.isArray(row.frontier) ? (row.frontier as unknown as FrontierPoint[]) : [],
    layers,
  };
}

export interface PlanListItem {
  id: string;
  status: string;
  method: string;
  avgBits: number | null;
  bytes: number | null;
  sparsity: number | null;
  budget: Plan['budget'] | null;
  createdAt: Date;
}

/** A checkpoint's plans, newest first. */
export async function checkpointPlans(prisma: PrismaClient, checkpointId: string): Promise<PlanListItem[]> {
  const rows = await prisma.plan.findMany({
    where: { checkpointId },
    orderBy: { createdAt: 'desc' },
    select: {
      id: true,
      status: true,
      method: true,
      avgBits: true,
      bytes: true,
      sparsity: true,
      budget: true,
      createdAt: true,
    },
  });
  return rows.map((r) => ({
    ...r,
    bytes: r.bytes === null ? null : Number(r.bytes),
    budget: (r.budget ?? null) as Plan['budget'] | null,
  }));
}
