/**
 * `weightlens plan --stack` (issue 14): the plan workflow over stored per-layer results on a zoo
 * checkpoint prints the same JSON as the local mode; the first plan sweeps the checkpoint (no
 * stored α yet), a second reuses the stored results; the plan, its layers and its budget sweep are
 * in Postgres; an infeasible budget is an error with the feasible range, recorded on the plan.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { readPlan } from '../../db/plans.ts';
import { defaultAnalysisConfig, hashAnalysisConfig } from '../../lib/spectral/index.ts';
import { runCli } from './cli-helpers.ts';
import { servicesEnv } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const checkpoint = pathToFileURL(join(import.meta.dirname, '../../zoo/default/fmnist-mlp-base-ep03')).href;

const planArgs = ['--method', 'alpha', '--bits', '2,3,4,8', '--avg-bits', '3.5', '--sparsity', '0.3'];

async function plan(args: string[]) {
  const run = await runCli(['plan', checkpoint, ...args, '--format', 'json'], env);
  return { ...run, json: run.code === 0 ? (JSON.parse(run.stdout) as Record<string, unknown>) : undefined };
}

const planIdOf = (stderr: string) => /plan (\S+) stored/.exec(stderr)?.[1];

describe('weightlens plan --stack', () => {
  let prisma: PrismaClient;
  beforeAll(async () => {
    prisma = createPrismaClient(services.databaseUrl);
    // A warm test stack (kept between runs) holds this checkpoint's results from an earlier run;
    // without them the first stack plan must sweep it (its rows cascade from the checkpoint's).
    await prisma.checkpoint.deleteMany({ where: { uri: { startsWith: `${checkpoint}/` } } });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it('prints the local plan, stores it with its layers and budget sweep, and reuses stored α', async () => {
    const local = await plan(planArgs);
    expect(local.code, local.stderr).toBe(0);
    const sweepsBefore = await prisma.sweep.count();

    const stacked = await plan([...planArgs, '--stack', '--local-worker']);
    expect(stacked.code, stacked.stderr).toBe(0);
    expect(stacked.json).toEqual(local.json);
    // No α stored for this checkpoint before: the plan swept it first.
    expect(await prisma.sweep.count()).toBe(sweepsBefore + 1);

    const planId = planIdOf(stacked.stderr);
    expect(planId, stacked.stderr).toBeDefined();
    const stored = await readPlan(prisma, planId!);
    expect(stored?.status).toBe('succeeded');
    expect(stored?.plan).toEqual(
      Object.fromEntries(Object.entries(local.json!).filter(([k]) => k !== 'checkpoint' && k !== 'inputs')),
    );
    // Each planned layer keeps the α it was planned from, equal to the stored spectral row's.
    const rows = await prisma.layerResult.findMany({
      where: { checkpointId: stored!.checkpoint.id, configHash: hashAnalysisConfig(defaultAnalysisConfig) },
    });
    const alphaOf = new Map(rows.filter((r) => r.status === 'succeeded').map((r) => [r.layerName, r.alpha]));
    for (const layer of stored!.layers) expect(layer.alpha).toBe(alphaOf.get(layer.name) ?? null);
    // The budget sweep: one point per quarter bit from 2 to 8, each within its budget, and more bits
    // never predict more sensitivity.
    expect(stored!.frontier.map((p) => p.budget_avg_bits)).toEqual(
      Array.from({ length: 25 }, (_, k) => 2 + k / 4),
    );
    for (const p of stored!.frontier) expect(p.avg_bits).toBeLessThanOrEqual(p.budget_avg_bits + 1e-9);
    const objectives = stored!.frontier.map((p) => p.objective);
    for (let k = 1; k < objectives.length; k++)
      expect(objectives[k]!).toBeLessThanOrEqual(objectives[k - 1]! * (1 + 1e-9));
    // The plan's own budget sits on the sweep: the same objective at 3.5 average bits.
    const own = stored!.frontier.find((p) => p.budget_avg_bits === 3.5);
    expect(own?.objective).toBeCloseTo(local.json!.objective as number, 9);

    // A second plan of the same checkpoint reads the stored results: no new sweep.
    const again = await plan([
      '--method',
      'alpha',
      '--bits',
      '2,4,8',
      '--avg-bits',
      '4',
      '--stack',
      '--local-worker',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(await prisma.sweep.count()).toBe(sweepsBefore + 1);
    const localAgain = await plan(['--method', 'alpha', '--bits', '2,4,8', '--avg-bits', '4']);
    expect(again.json).toEqual(localAgain.json);
  }, 900_000);

  it('an infeasible budget is an error naming the feasible range, recorded on the plan', async () => {
    const low = await plan([
      '--method',
      'alpha',
      '--bits',
      '4,8',
      '--avg-bits',
      '3',
      '--stack',
      '--local-worker',
    ]);
    expect(low.code).not.toBe(0);
    expect(low.stderr).toMatch(/below the minimum: the feasible range is 4\.0000–8\.0000 average bits/);
    const id = /plan (\S+): /.exec(low.stderr)?.[1];
    expect(id, low.stderr).toBeDefined();
    const stored = await readPlan(prisma, id!);
    expect(stored?.status).toBe('failed');
    expect(stored?.error).toMatch(/feasible range/);
  });

  it('refuses what the stack mode does not do, before starting anything', async () => {
    const latency = await plan([
      '--method',
      'alpha',
      '--avg-bits',
      '4',
      '--latency-table',
      'x.json',
      '--stack',
    ]);
    expect(latency.code).not.toBe(0);
    expect(latency.stderr).toMatch(/--latency-table is local-mode only/);
  });
});
