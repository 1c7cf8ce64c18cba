/**
 * The measured parts of `npm run bench:llm`: one sweep on fresh `weightlens worker` processes
 * (peak RSS of each from /proc, S3 bytes through the counting proxy, per-layer analysis times from
 * the stored rows), and the Temporal history sizes of a sweep's runs and of its child workflows.
 */
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Services } from '../infra/config.ts';
import { defaultAnalysisConfig } from '../lib/spectral/index.ts';
import {
  startWorkerProcesses,
  stopWorkerProcesses,
  type WorkerProcess,
} from '../test/integration/sweep-harness.ts';
import { startSweep } from '../workers/sweep-client.ts';
import type { CountingProxy } from './llm-proxy.ts';

/** VmRSS / VmHWM (peak) of a process, in bytes. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

export interface LayerTiming {
  layerName: string;
  M: number;
  N: number;
  seconds: number;
  /** The worker that analyzed it ("host:pid"). */
  worker: string;
}

export interface SweepMeasurement {
  workers: number;
  wallSeconds: number;
  checkpoints: number;
  layersComputed: number;
  layersSkipped: number;
  layersFailed: number;
  /** Per worker process: RSS once ready (idle) and peak RSS over the sweep. */
  memory: { idle: number; peak: number }[];
  s3GetBytes: number;
  s3Gets: number;
  layers: LayerTiming[];
  workflowId: string;
  firstRunId: string;
}

export interface SweepContext {
  services: Services;
  /** The services as the workers see them (S3 through the counting proxy). */
  workerServices: Services;
  proxy: CountingProxy;
  prisma: PrismaClient;
  temporal: Client;
}

/** Sweep `source` on `workers` fresh single-slot worker processes, measuring everything above. */
export async function measuredSweep(
  ctx: SweepContext,
  source: string,
  workers: number,
): Promise<SweepMeasurement> {
  let processes: WorkerProcess[] = [];
  try {
    processes = await startWorkerProcesses(ctx.workerServices, workers, { concurrency: 1 });
    const idle = await Promise.all(processes.map((w) => memoryOf(w.pid)));
    ctx.proxy.reset();
    const started = performance.now();
    const sweep = await startSweep(ctx.temporal, ctx.prisma, {
      sources: [source],
      config: defaultAnalysisConfig,
    });
    // client.workflow.start's handle carries the first run's id (the sweep continues as new later).
    const firstRunId =
      (sweep.handle as { firstExecutionRunId?: string }).firstExecutionRunId ??
      (await sweep.handle.describe()).runId;
    const result = await sweep.handle.result();
    const wallSeconds = (performance.now() - started) / 1000;
    const peaks = await Promise.all(processes.map((w) => memoryOf(w.pid)));
    if (result.status !== 'completed') throw new Error(`sweep ${sweep.sweepId}: ${JSON.stringify(result)}`);
    const rows = await ctx.prisma.layerResult.findMany({
      where: {
        configHash: sweep.configHash,
        status: 'succeeded',
        checkpoint: { sweeps: { some: { sweepId: sweep.sweepId } } },
      },
      select: { layerName: true, M: true, N: true, durationMs: true, worker: true },
      orderBy: { layerId: 'asc' },
    });
    return {
      workers,
      wallSeconds,
      checkpoints: result.succeeded,
      layersComputed: result.layersComputed,
      layersSkipped: result.layersSkipped,
      layersFailed: result.layersFailed,
      memory: idle.map((m, i) => ({ idle: m.rss, peak: peaks[i]!.peak })),
      s3GetBytes: ctx.proxy.traffic.getBytes,
      s3Gets: ctx.proxy.traffic.gets,
      layers: rows.map((r) => ({
        layerName: r.layerName,
        M: Math.min(r.M ?? 0, r.N ?? 0),
        N: Math.max(r.M ?? 0, r.N ?? 0),
        seconds: (r.durationMs ?? 0) / 1000,
        worker: r.worker ?? '',
      })),
      workflowId: sweep.workflowId,
      firstRunId,
    };
  } finally {
    await stopWorkerProcesses(processes);
  }
}

export interface HistorySize {
  events: number;
  bytes: number;
}

export interface SweepHistories {
  runs: HistorySize[];
  children: HistorySize[];
}

async function historySize(temporal: Client, workflowId: string, runId?: string): Promise<HistorySize> {
  const described = await temporal.workflow.getHandle(workflowId, runId).describe();
  return { events: described.historyLength, bytes: described.historySize ?? Number.NaN };
}

/** Every run of a sweep (continue-as-new chain) and every child workflow it started. */
export async function sweepHistories(
  temporal: Client,
  workflowId: string,
  firstRunId: string,
): Promise<SweepHistories> {
  const runs: HistorySize[] = [];
  const childIds: { workflowId: string; runId?: string }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(await historySize(temporal, workflowId, runId));
    let next: string | undefined;
    for (const event of history.events ?? []) {
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) childIds.push({ workflowId: child.workflowId, runId: child.runId ?? undefined });
      const continued = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (continued) next = continued;
    }
    runId = next;
  }
  const children: HistorySize[] = [];
  for (const child of childIds) children.push(await historySize(temporal, child.workflowId, child.runId));
  return { runs, children };
}

export function describeHistories(label: string, h: SweepHistories): string {
  const max = (xs: number[]) => Math.max(0, ...xs);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const runs = h.runs.map((r) => `${r.events} events / ${kib(r.bytes)}`).join(', ');
  const events = h.children.map((c) => c.events);
  const bytes = h.children.map((c) => c.bytes);
  return (
    `${label}: sweep workflow ${h.runs.length} run(s): ${runs}; ` +
    `${h.children.length} child workflows: events mean ${mean(events).toFixed(0)}, max ${max(events)}; ` +
    `size mean ${kib(mean(bytes))}, max ${kib(max(bytes))} (Temporal's limits per run: 51 200 events, 50 MiB)`
  );
}
