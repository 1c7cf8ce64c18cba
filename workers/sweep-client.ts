/**
 * Client side of a sweep: record it in Postgres, start its workflow, follow its progress. Used by
 * the CLI (`sweep`, `status`), the integration tests and the bench, so all start sweeps the same way.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { SweepCurvature } from '../contracts/curvature.ts';
import { TASK_QUEUES } from '../contracts/queues.ts';
import {
  type SweepProgress,
  type SweepTuning,
  type SweepWorkflowResult,
  sweepWorkflowId,
} from '../contracts/sweep.ts';
import type { PrismaClient } from '../db/client.ts';
import { createSweep, findSweep } from '../db/sweeps.ts';
import { connectWithTlsDiagnosis, temporalConnectOptions } from '../infra/tls.ts';
import { BadInputError } from '../lib/errors.ts';
import { basename } from '../lib/formats/uri.ts';
import { hashAnalysisConfig, parseAnalysisConfig } from '../lib/spectral/index.ts';
import type { AnalysisConfig } from '../lib/spectral/types.ts';
import { progressQuery } from '../workflows/queries.ts';
import type { sweepWorkflow } from '../workflows/sweep.ts';

export interface TemporalTarget {
  temporalAddress: string;
  namespace: string;
}

export async function connectClient(
  target: TemporalTarget,
): Promise<{ client: Client; close(): Promise<void> }> {
  const options = temporalConnectOptions(target.temporalAddress);
  const connection = await connectWithTlsDiagnosis('Temporal', options, () => Connection.connect(options));
  return {
    client: new Client({ connection, namespace: target.namespace }),
    close: () => connection.close(),
  };
}

/**
 * A source as workers will see it: s3:// and file:// as given, local paths as absolute file://
 * URIs (workers on the same machine resolve them regardless of their working directory).
 */
export function normalizeSource(source: string, cwd = process.cwd()): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(source)) return source;
  const url = pathToFileURL(path.resolve(cwd, source)).href;
  // Keep a trailing slash off: discovery treats "dir" and "dir/" alike, and ids stay stable.
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export interface StartSweepOptions {
  sources: string[];
  config: AnalysisConfig;
  name?: string;
  /** From `resolveSweepCurvature` (workers/curvature-request.ts); absent: no curvature. */
  curvature?: SweepCurvature;
  tuning?: Partial<SweepTuning>;
}

export interface StartedSweep {
  sweepId: string;
  name: string;
  workflowId: string;
  configHash: string;
  handle: WorkflowHandle<typeof sweepWorkflow>;
}

export async function startSweep(
  client: Client,
  prisma: PrismaClient,
  options: StartSweepOptions,
): Promise<StartedSweep> {
  const sources = options.sources.map((s) => normalizeSource(s));
  const sweepId = randomUUID().slice(0, 8);
  const name = options.name ?? `${sources.map((s) => basename(s)).join('+')}-${sweepId}`;
  const workflowId = sweepWorkflowId(sweepId);
  const configHash = hashAnalysisConfig(options.config);
  await createSweep(prisma, {
    id: sweepId,
    name,
    workflowId,
    sources,
    config: JSON.parse(JSON.stringify(options.config)),
    configHash,
  });
  const handle = await client.workflow.start<typeof sweepWorkflow>('sweepWorkflow', {
    workflowId,
    taskQueue: TASK_QUEUES.cpu,
    args: [
      {
        sweepId,
        sources,
        config: options.config,
        configHash,
        curvature: options.curvature ?? 'off',
        tuning: options.tuning,
      },
    ],
  });
  return { sweepId, name, workflowId, configHash, handle };
}

/**
 * `sweep resume`: run a finished sweep's workflow again under the same sweep record, sources and
 * configuration. Stored final layer results are reused (the inspect step schedules nothing for
 * them), so only the missing work runs: layers given up in an outage, incomplete checkpoints'
 * summaries, checkpoints a cancelled sweep never reached. Spectral only (curvature is not resumed).
 */
export async function resumeSweep(
  client: Client,
  prisma: PrismaClient,
  ref: string,
  tuning?: Partial<SweepTuning>,
): Promise<StartedSweep> {
  const sweep = await findSweep(prisma, ref);
  if (!sweep) throw new BadInputError(`no sweep with id or name "${ref}"`);
  if (sweep.status === 'running' || sweep.status === 'pending')
    throw new BadInputError(
      `sweep ${sweep.name} (${sweep.id}) is still ${sweep.status}; resume it once it ended`,
    );
  const sources = sweep.sources;
  if (!Array.isArray(sources) || !sources.every((s): s is string => typeof s === 'string'))
    throw new BadInputError(`sweep ${sweep.id}: its stored sources are not a list of URIs`);
  const config = parseAnalysisConfig(sweep.config);
  const workflowId = `${sweepWorkflowId(sweep.id)}-resume-${randomUUID().slice(0, 8)}`;
  await prisma.sweep.update({
    where: { id: sweep.id },
    data: { workflowId, status: 'pending', finishedAt: null },
  });
  const handle = await client.workflow.start<typeof sweepWorkflow>('sweepWorkflow', {
    workflowId,
    taskQueue: TASK_QUEUES.cpu,
    args: [
      {
        sweepId: sweep.id,
        sources,
        config,
        configHash: sweep.configHash,
        curvature: 'off',
        tuning,
      },
    ],
  });
  return { sweepId: sweep.id, name: sweep.name, workflowId, configHash: sweep.configHash, handle };
}

/** The sweep's live progress, or undefined when no worker answers the query yet. */
export async function querySweepProgress(
  handle: WorkflowHandle<typeof sweepWorkflow>,
): Promise<SweepProgress | undefined> {
  try {
    return await handle.query(progressQuery);
  } catch {
    return undefined;
  }
}

/**
 * How the sweep's workflow ended when it ended without closing its record (terminated from
 * Temporal, timed out, failed outside the workflow code): the Temporal status in lower case, or
 * undefined while it runs, after it completed, or when Temporal does not know it.
 */
export async function sweepWorkflowEnd(
  handle: WorkflowHandle<typeof sweepWorkflow>,
): Promise<'terminated' | 'canceled' | 'timed_out' | 'failed' | undefined> {
  try {
    const { status } = await handle.describe();
    switch (status.name) {
      case 'TERMINATED':
        return 'terminated';
      case 'CANCELLED':
        return 'canceled';
      case 'TIMED_OUT':
        return 'timed_out';
      case 'FAILED':
        return 'failed';
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * Wait for the sweep's result (following continue-as-new), calling `onProgress` every
 * `intervalMs` with the latest queried progress.
 */
export async function awaitSweep(
  handle: WorkflowHandle<typeof sweepWorkflow>,
  onProgress?: (progress: SweepProgress) => void,
  intervalMs = 500,
): Promise<SweepWorkflowResult> {
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      const progress = await querySweepProgress(handle);
      if (progress && !stopped) onProgress?.(progress);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  const polling = onProgress ? poll() : Promise.resolve();
  try {
    return await handle.result();
  } finally {
    stopped = true;
    await polling;
  }
}
