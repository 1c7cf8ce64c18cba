/**
 * Harness for the sweep integration tests and bench: worker child processes (the real
 * `weightlens worker` CLI), S3 uploads of synthetic zoos, and waiting on sweeps across server
 * restarts. Everything talks to the real services handed over by global-setup.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import type { SweepTuning, SweepWorkflowResult } from '../../contracts/sweep.ts';
import { exportS3Env, type Services } from '../../infra/config.ts';
import { s3Client } from '../../infra/s3.ts';
import type { sweepWorkflow } from '../../workflows/sweep.ts';
import type { SyntheticCheckpoint } from './sweep-fixtures.ts';

/**
 * One layer activity per layer and one checkpoint at a time, so a sweep is mid-way when a fault
 * strikes; gpuMinDim 0 keeps the layers on the cpu workers under test even if a gpu worker
 * polled recently.
 */
export const ONE_LAYER_AT_A_TIME: Partial<SweepTuning> = {
  maxParallelCheckpoints: 1,
  maxParallelLayers: 1,
  layerBatchFlops: 0,
  gpuMinDim: 0,
};

const launcher = fileURLToPath(new URL('../../bin/weightlens.mjs', import.meta.url));

/** The environment that points a CLI process at `services` (and starts nothing local). */
export function servicesEnv(services: Services): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.namespace,
    DATABASE_URL: services.databaseUrl,
  };
  exportS3Env(services.s3, env);
  return env;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote so far (for failure messages). */
  output(): string;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<string>;
}

/** Start `weightlens worker` as a child process; resolves once it polls its queue. */
export async function startWorkerProcess(
  services: Services,
  options: { concurrency?: number; env?: NodeJS.ProcessEnv; queue?: 'cpu' | 'gpu'; args?: string[] } = {},
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      launcher,
      'worker',
      '--queue',
      options.queue ?? 'cpu',
      '--concurrency',
      String(options.concurrency ?? 2),
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...servicesEnv(services), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}`)),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('weightlens worker: queue')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((how) => reject(new Error(`worker exited (${how}) before it was ready:\n${output}`)));
  });
  await ready;
  return { child, pid: child.pid!, output: () => output, exited };
}

/** `count` worker processes with the same options, started together. */
export function startWorkerProcesses(
  services: Services,
  count: number,
  options: Parameters<typeof startWorkerProcess>[1] = {},
): Promise<WorkerProcess[]> {
  return Promise.all(Array.from({ length: count }, () => startWorkerProcess(services, options)));
}

/** Stop every worker of `workers` (see stopWorkerProcess). */
export async function stopWorkerProcesses(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
}

/** SIGTERM (graceful) and wait; SIGKILL if it does not stop in time. */
export async function stopWorkerProcess(worker: WorkerProcess, timeoutMs = 20_000): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs);
  await worker.exited;
  clearTimeout(timer);
}

/** An S3 client on the test stack's versitygw (path-style, its dev credentials). */
export function testS3Client(services: Services): S3Client {
  return s3Client(services.s3);
}

/** Upload a synthetic zoo under s3://bucket/prefix/<checkpoint dir>/…; returns the prefix URI. */
export async function uploadZoo(
  services: Services,
  prefix: string,
  zoo: Pick<SyntheticCheckpoint, 'dir' | 'files'>[],
): Promise<string> {
  const client = testS3Client(services);
  try {
    for (const ckpt of zoo) {
      for (const file of ckpt.files) {
        await client.send(
          new PutObjectCommand({
            Bucket: services.s3.bucket,
            Key: `${prefix}/${ckpt.dir}/${file.name}`,
            Body: file.bytes,
          }),
        );
      }
    }
  } finally {
    client.destroy();
  }
  return `s3://${services.s3.bucket}/${prefix}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The sweep's result, riding out a Temporal server restart: while the server is down the
 * long-poll fails; we retry until `timeoutMs`.
 */
export async function sweepResult(
  handle: WorkflowHandle<typeof sweepWorkflow>,
  timeoutMs = 240_000,
): Promise<SweepWorkflowResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await handle.result();
    } catch (err) {
      const message = String((err as Error).message ?? err);
      const transient = /UNAVAILABLE|Connection|connect|transport|deadline|ECONNREFUSED|14 /i.test(message);
      if (!transient || Date.now() > deadline) throw err;
      await sleep(1_000);
    }
  }
}

/** Poll `check` every 250 ms until it is true (or throw after `timeoutMs`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
