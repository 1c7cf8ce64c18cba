/**
 * `weightlens plan --stack` with the methods that need the TF.js model (issue 14): hawq reads the
 * per-layer Hessian traces of a curvature run (computed on the gpu queue the first time, reused by
 * its configuration hash the second), zeroq measures its KL in a gpu-queue activity; both print the
 * local mode's plan, and `--write` (s3:// and file://) stores a checkpoint whose b-bit layers have at
 * most 2^b distinct values per output channel and whose plan (in its metadata) meets the budget.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  bundleWorkflowCode,
  type ReplayResult,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { curvatureConfigHash } from '../../activities/curvature-config.ts';
import { stackPlanCurvature } from '../../cli/commands/plan-stack.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { readPlan } from '../../db/plans.ts';
import { s3StorageOptions } from '../../infra/config.ts';
import { openCheckpoint } from '../../lib/formats/index.ts';
import { readSafetensorsHeader } from '../../lib/formats/safetensors/index.ts';
import { outputChannelAxis } from '../../lib/plan/checkpoint.ts';
import type { Plan } from '../../lib/plan/plan.ts';
import { distinctPerChannel } from '../../lib/plan/quantize.ts';
import { Storage } from '../../storage/index.ts';
import { workflowBundle } from '../../workers/create.ts';
import { connectClient } from '../../workers/sweep-client.ts';
import { runCli } from './cli-helpers.ts';
import { servicesEnv } from './sweep-harness.ts';

const services = inject('services');
const env = servicesEnv(services);
const dir = join(import.meta.dirname, '../../zoo/default/fmnist-mlp-base-ep03');
const checkpoint = pathToFileURL(dir).href;

async function plan(args: string[]) {
  const run = await runCli(['plan', checkpoint, ...args, '--format', 'json'], env);
  return { ...run, json: run.code === 0 ? (JSON.parse(run.stdout) as Record<string, unknown>) : undefined };
}
const withoutInputs = (json: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(json ?? {}).filter(([k]) => k !== 'inputs'));
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function replay(bundle: WorkflowBundleWithSourceMap, workflowId: string, history: unknown) {
  const results: ReplayResult[] = [];
  const histories = [{ workflowId, history: history as never }];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories))
    results.push(result);
  return results[0];
}

const idsOf = (stderr: string) => /plan (\S+) stored \(workflow (\S+)\)/.exec(stderr);

/** Distinct values per output channel of every planned layer ≤ 2^bits; the plan meets its budget. */
async function checkWritten(
  storage: Storage,
  uri: string,
  printed: Record<string, unknown>,
  avgBits: number,
) {
  const header = await readSafetensorsHeader(await storage.open(uri));
  const stored = JSON.parse(header.metadata.weightlens_plan!) as Plan;
  expect(stored).toEqual(
    withoutInputs(Object.fromEntries(Object.entries(printed).filter(([k]) => k !== 'checkpoint'))),
  );
  const totalParams = stored.layers.reduce((a, l) => a + l.params, 0);
  const weightBits = stored.layers.reduce((a, l) => a + l.params * l.bits, 0);
  expect(weightBits).toBeLessThanOrEqual(avgBits * totalParams);
  expect(stored.avg_bits).toBe(weightBits / totalParams);
  expect(stored.bytes).toBe(Math.ceil(weightBits / 8));
  const ckpt = await openCheckpoint(uri, storage);
  let checked = 0;
  for (const layer of stored.layers) {
    const tensor = ckpt.tensors.find((t) => t.name === layer.name)!;
    const data = await ckpt.readTensor(tensor);
    // TF.js layout (kernel_layout HWIO): output channels on the last axis.
    const most = Math.max(...distinctPerChannel(data, tensor.shape, outputChannelAxis(tensor, true)));
    expect(most, layer.name).toBeLessThanOrEqual(2 ** layer.bits);
    expect(most, layer.name).toBeGreaterThan(1);
    checked++;
  }
  expect(checked).toBe(stored.layers.length);
  return stored;
}

describe('weightlens plan --stack: hawq, zeroq, --write', () => {
  let prisma: PrismaClient;
  let storage: Storage;
  let temporal: Awaited<ReturnType<typeof connectClient>>;
  let scratch: string;
  /** The first hawq plan's workflow (its history holds the curvature step behind patched()). */
  let hawqWorkflowId: string | undefined;
  beforeAll(async () => {
    prisma = createPrismaClient(services.databaseUrl);
    storage = new Storage({ s3: s3StorageOptions(services.s3) });
    temporal = await connectClient(services);
    scratch = mkdtempSync(join(tmpdir(), 'plan-models-'));
  });
  afterAll(async () => {
    await temporal?.close();
    await prisma?.$disconnect();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('hawq: traces from a curvature run computed once and reused by its hash; written to s3://', async () => {
    const args = ['--method', 'hawq', '--bits', '2,4,8', '--avg-bits', '3.5', '--random', '--samples', '64'];
    const probes = ['--probes', '4'];
    const local = await plan([...args, ...probes]);
    expect(local.code, local.stderr).toBe(0);
    const target = `s3://${services.s3.bucket}/plan-models-${Date.now()}/hawq.safetensors`;
    const stacked = await plan([...args, ...probes, '--stack', '--local-worker', '--write', target]);
    expect(stacked.code, stacked.stderr).toBe(0);
    expect(withoutInputs(stacked.json)).toEqual(withoutInputs(local.json));
    expect(stacked.json!.inputs).toMatch(/^Hessian traces on random:64, stored curvature run/);

    const ids = idsOf(stacked.stderr);
    expect(ids, stacked.stderr).not.toBeNull();
    hawqWorkflowId = ids![2]!;
    const stored = await readPlan(prisma, ids![1]!);
    const row = await prisma.plan.findUnique({ where: { id: ids![1]! } });
    const curvature = stackPlanCurvature(
      { method: 'hawq', bits: [2, 4, 8], avgBits: 3.5, scheme: 'symmetric', epsilon: 0.3 },
      { random: true, samples: 64, probes: 4, seed: 1 },
    )!;
    expect(curvature.configHash).toBe(curvatureConfigHash(curvature.data, curvature.settings));
    expect(row?.curvatureHash).toBe(curvature.configHash);
    const result = await prisma.curvatureResult.findUnique({
      where: {
        checkpointId_configHash: { checkpointId: stored!.checkpoint.id, configHash: curvature.configHash },
      },
    });
    expect(result?.status).toBe('succeeded');
    const blockTrace = new Map(
      (result!.layers as { name: string; trace: number }[]).map((l) => [l.name, l.trace]),
    );
    for (const layer of stored!.layers) {
      expect(layer.trace, layer.name).toBe(blockTrace.get(layer.name.split('/')[0]!));
      expect(layer.trace, layer.name).not.toBeNull();
    }
    await checkWritten(storage, target, stacked.json!, 3.5);

    // Another budget with the same data and probes reads the stored run: no curvature activity.
    const again = await plan([
      ...args.slice(0, 5),
      '4',
      ...args.slice(6),
      ...probes,
      '--stack',
      '--local-worker',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const history = await temporal.client.workflow.getHandle(idsOf(again.stderr)![2]!).fetchHistory();
    const scheduled = (history.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    expect(scheduled).toContain('planCurvature');
    expect(scheduled).not.toContain('curvatureActivity');
    const localAgain = await plan([...args.slice(0, 5), '4', ...args.slice(6), ...probes]);
    expect(withoutInputs(again.json)).toEqual(withoutInputs(localAgain.json));
  }, 900_000);

  it('the hawq plan history replays against the bundle, not against one without its patched branch', async () => {
    expect(hawqWorkflowId).toBeDefined();
    const history = await temporal.client.workflow.getHandle(hawqWorkflowId!).fetchHistory();
    const activities = (history.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    // curvatureActivity too unless a warm test stack kept the curvature row of an earlier run.
    expect(activities).toEqual(expect.arrayContaining(['preparePlan', 'planCurvature', 'computePlan']));
    expect((await replay(await workflowBundle(), hawqWorkflowId!, history))?.error).toBeUndefined();
    const loaderDir = mkdtempSync(join(tmpdir(), 'wl-plan-patch-'));
    const loader = join(loaderDir, 'alter-loader.cjs');
    writeFileSync(
      loader,
      "module.exports = function (source) { return source.replace(\"patched('plan-curvature')\", 'false'); };\n",
    );
    try {
      const altered = await bundleWorkflowCode({
        workflowsPath,
        logger: quiet,
        webpackConfigHook: (config) => {
          config.module?.rules?.push({ test: /workflows[\\/]plan\.ts$/, enforce: 'pre', loader });
          return config;
        },
      });
      expect((await replay(altered, hawqWorkflowId!, history))?.error?.name).toBe(
        'DeterminismViolationError',
      );
    } finally {
      rmSync(loaderDir, { recursive: true, force: true });
    }
  }, 300_000);

  it('zeroq: KL measured in the gpu-queue activity equals the local plan; written to a file:// URI', async () => {
    const args = [
      '--method',
      'zeroq',
      '--bits',
      '2,3,4,8',
      '--avg-bits',
      '3',
      '--data',
      'fashion-mnist',
      '--samples',
      '64',
    ];
    const local = await plan(args);
    expect(local.code, local.stderr).toBe(0);
    const target = pathToFileURL(join(scratch, 'out', 'zeroq.safetensors')).href;
    const stacked = await plan([...args, '--stack', '--local-worker', '--write', target]);
    expect(stacked.code, stacked.stderr).toBe(0);
    expect(stacked.json).toEqual(local.json);
    const written = await checkWritten(storage, target, stacked.json!, 3);
    expect(written.method).toBe('zeroq');
    expect(written.layers.every((l) => l.sensitivity !== null)).toBe(true);
  }, 900_000);

  it('bad input: no data source for hawq, local-only flags; refused before anything starts', async () => {
    const none = await plan(['--method', 'hawq', '--avg-bits', '4', '--stack']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/choose exactly one of --data <uri>, --distilled, --random/);
    const bops = await plan(['--method', 'alpha', '--avg-bits', '4', '--max-bops', '100', '--stack']);
    expect(bops.code).not.toBe(0);
    expect(bops.stderr).toMatch(/--max-bops is local-mode only/);
  });
});
