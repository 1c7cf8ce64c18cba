/**
 * The plan workflow's recorded history replays deterministically against the current bundle: a
 * plan of a checkpoint without stored α (so the history holds the child sweep, its checkpoint
 * workflow and the plan activities) is recorded on the test stack, then replayed with
 * `Worker.runReplayHistories`. A bundle whose plan workflow skips the child sweep must fail the
 * same history, so the check can fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  type ReplayResult,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { workflowBundle } from '../../workers/create.ts';
import { runPlan } from '../../workers/plan-client.ts';
import { type RecordedHistory, replayZoo, sweepHistories } from '../fixtures/gen/temporal-histories.ts';
import { uploadZoo } from './sweep-harness.ts';
import { inProcessCpuWorker } from './worker-hooks.ts';

const services = inject('services');
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

async function replay(
  bundle: WorkflowBundleWithSourceMap,
  histories: RecordedHistory[],
): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories))
    results.push(result);
  return results;
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('plan workflow replay', () => {
  const stack = inProcessCpuWorker(services, 2);

  it('a recorded plan (with its child sweep) replays against the current bundle, not against an altered one', async () => {
    const prefix = await uploadZoo(services, `plan-replay-${Date.now()}`, replayZoo().slice(0, 1));
    const run = await runPlan(
      stack.temporal.client,
      stack.prisma,
      `${prefix}/step-0000`,
      { method: 'alpha', bits: [2, 4, 8], avgBits: 4, sparsity: 0.5, scheme: 'symmetric', epsilon: 0.3 },
      defaultAnalysisConfig,
    );
    expect(run.result.status).toBe('succeeded');
    expect(run.stored.layers).toHaveLength(3);

    const handle = stack.temporal.client.workflow.getHandle(run.workflowId);
    const planHistory = await handle.fetchHistory();
    const childIds = (planHistory.events ?? []).flatMap(
      (e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? [],
    );
    expect(childIds).toHaveLength(1); // the sweep of the checkpoint's missing α
    const activities = (planHistory.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    expect(activities).toEqual(['preparePlan', 'computePlan']);
    const histories: RecordedHistory[] = [
      { workflowId: run.workflowId, history: planHistory },
      ...(await sweepHistories(
        stack.temporal.client,
        stack.temporal.client.workflow.getHandle(childIds[0]!),
      )),
    ];
    expect(histories.map((h) => h.workflowId.split('-')[0])).toEqual(['plan', 'sweep', 'checkpoint']);

    const bundle = await workflowBundle();
    const results = await replay(bundle, histories);
    expect(results).toHaveLength(histories.length);
    expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error?.message}`)).toEqual([]);

    // The same history against a plan workflow that never runs the child sweep diverges.
    const dir = mkdtempSync(path.join(tmpdir(), 'wl-plan-alter-'));
    const loader = path.join(dir, 'alter-loader.cjs');
    writeFileSync(
      loader,
      "module.exports = function (source) { return source.replace(\"prepared.spectral.action === 'missing'\", 'false'); };\n",
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
      const [planResult] = await replay(altered, histories.slice(0, 1));
      expect(planResult?.error?.name).toBe('DeterminismViolationError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
