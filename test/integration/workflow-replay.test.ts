/**
 * Worker upgrades (issue 5): recorded sweep histories must replay deterministically against the
 * current workflow bundle. Old histories (test/fixtures/temporal/, recorded at 7eb82cd, before the
 * `layer-batches` and local-bookkeeping `patched()` markers, and at ce645b8, between the two) take
 * the old branches; a history the
 * current code records here takes the new ones. Replay needs no server (`Worker.runReplayHistories`);
 * only recording the current history uses the test stack. A bundle with the patched() calls
 * replaced by `true` must fail the old histories, so the check can fail.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import {
  bundleWorkflowCode,
  type ReplayResult,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultAnalysisConfig } from '../../lib/spectral/index.ts';
import { workflowBundle } from '../../workers/create.ts';
import { startSweep } from '../../workers/sweep-client.ts';
import { type RecordedHistory, replayZoo, sweepHistories } from '../fixtures/gen/temporal-histories.ts';
import { sweepResult, uploadZoo } from './sweep-harness.ts';
import { inProcessCpuWorker } from './worker-hooks.ts';

const services = inject('services');
const fixture = fileURLToPath(new URL('../fixtures/temporal/sweep-7eb82cd.json', import.meta.url));
const midFixture = fileURLToPath(new URL('../fixtures/temporal/sweep-ce645b8.json', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

function loadFixture(file: string): RecordedHistory[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    histories: { workflowId: string; history: unknown }[];
  };
  return parsed.histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJSON(h.history) }));
}

async function replay(
  bundle: WorkflowBundleWithSourceMap,
  histories: RecordedHistory[],
): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories))
    results.push(result);
  return results;
}

/** Activity types a history scheduled on a task queue, and the local activities it recorded. */
function activityKinds(h: RecordedHistory): { queued: string[]; local: number } {
  const queued: string[] = [];
  let local = 0;
  for (const event of h.history.events ?? []) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) queued.push(name);
    if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') local += 1;
  }
  return { queued, local };
}

const errors = (results: ReplayResult[]) =>
  results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error?.message}`);

let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  bundle = await workflowBundle();
});

describe('workflow replay', () => {
  const old = loadFixture(fixture);

  it('histories recorded by 7eb82cd replay against the current bundle (old branches)', async () => {
    // The fixture is what it claims: a sweep and three checkpoint workflows, one activity per
    // layer, bookkeeping on the task queue (regenerating it with new code would fail here).
    expect(old.map((h) => h.workflowId.split('-')[0])).toEqual([
      'sweep',
      'checkpoint',
      'checkpoint',
      'checkpoint',
    ]);
    const kinds = old.map(activityKinds);
    expect(kinds.flatMap((k) => k.queued)).toContain('analyzeLayerActivity');
    expect(kinds.flatMap((k) => k.queued)).toContain('recordLayerFailure');
    expect(kinds.flatMap((k) => k.queued)).toContain('recordCheckpointFailure');
    expect(kinds.every((k) => k.local === 0)).toBe(true);

    const results = await replay(bundle, old);
    expect(results).toHaveLength(old.length);
    expect(errors(results)).toEqual([]);
  });

  it('histories recorded by ce645b8 replay against the current bundle (batches, queued bookkeeping)', async () => {
    // Between the two patches: layers batched (layer-batches marker), bookkeeping still on the queue.
    const mid = loadFixture(midFixture);
    expect(mid).toHaveLength(4);
    const kinds = mid.map(activityKinds);
    expect(kinds.flatMap((k) => k.queued)).toContain('analyzeLayerBatch');
    expect(kinds.flatMap((k) => k.queued)).not.toContain('analyzeLayerActivity');
    expect(kinds.flatMap((k) => k.queued)).toContain('inspectCheckpoint');
    expect(kinds.every((k) => k.local === 0)).toBe(true);

    const results = await replay(bundle, mid);
    expect(results).toHaveLength(mid.length);
    expect(errors(results)).toEqual([]);
  });

  it('the same histories fail against a bundle whose patched() branches always take the new path', async () => {
    // A pre-loader rewrites workflows/checkpoint.ts on its way into the bundle.
    const dir = mkdtempSync(path.join(tmpdir(), 'wl-unpatch-'));
    const loader = path.join(dir, 'unpatch-loader.cjs');
    writeFileSync(
      loader,
      'module.exports = function (source) { return source.replace(/patched\\((LOCAL_BOOKKEEPING_PATCH|LAYER_BATCHES_PATCH)\\)/g, "true"); };\n',
    );
    try {
      const unpatched = await bundleWorkflowCode({
        workflowsPath,
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
        webpackConfigHook: (config) => {
          config.module?.rules?.push({ test: /workflows[\\/]checkpoint\.ts$/, enforce: 'pre', loader });
          return config;
        },
      });
      // swc compiles the call to `(0, _workflow.patched)(LOCAL_BOOKKEEPING_PATCH)`.
      const patchCall = /patched\)?\(LOCAL_BOOKKEEPING_PATCH\)/;
      expect(bundle.code).toMatch(patchCall);
      expect(unpatched.code).not.toMatch(patchCall);
      const results = await replay(unpatched, old);
      const failed = results.filter((r) => r.error).map((r) => r.workflowId.split('-')[0]);
      // The sweep workflow has no patch; every checkpoint workflow diverges from its history.
      expect(failed).toEqual(['checkpoint', 'checkpoint', 'checkpoint']);
      for (const r of results.filter((x) => x.error)) expect(r.error?.name).toBe('DeterminismViolationError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a history recorded by the current code', () => {
    const stack = inProcessCpuWorker(services, 2);

    it('replays against the current bundle (new branches)', async () => {
      const prefix = await uploadZoo(services, `workflow-replay-${Date.now()}`, replayZoo());
      const started = await startSweep(stack.temporal.client, stack.prisma, {
        sources: [prefix],
        config: defaultAnalysisConfig,
      });
      const result = await sweepResult(started.handle);
      expect(result.succeeded).toBe(2);
      expect(result.failed).toBe(1);
      expect(result.layersFailed).toBe(1);

      const current = await sweepHistories(stack.temporal.client, started.handle);
      expect(current).toHaveLength(4);
      const kinds = current.map(activityKinds);
      expect(kinds.flatMap((k) => k.queued)).toContain('analyzeLayerBatch');
      expect(kinds.flatMap((k) => k.queued)).not.toContain('analyzeLayerActivity');
      expect(kinds.flatMap((k) => k.queued)).not.toContain('inspectCheckpoint');
      expect(kinds.reduce((n, k) => n + k.local, 0)).toBeGreaterThan(0);

      const results = await replay(bundle, current);
      expect(results).toHaveLength(current.length);
      expect(errors(results)).toEqual([]);
    });
  });
});
