/**
 * Temporal workers for weightlens. A `cpu` worker runs every workflow and the spectral activities;
 * a `gpu` worker serves the `gpu` queue's activities (curvature, a later issue). The workflow
 * bundle is built once per process and shared, so an in-process worker (the CLI's embedded mode,
 * tests) pays the bundling cost once.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { type ActivityServices, createActivityDeps, createSweepActivities } from '../activities/index.ts';
import { UnsupportedError } from '../lib/errors.ts';
import { type QueueKind, TASK_QUEUES } from '../workflows/types.ts';

/** What a worker needs of infra/config.ts `Services`. */
export interface WorkerServices extends ActivityServices {
  temporalAddress: string;
  namespace: string;
}

export interface CreateWorkerOptions {
  queue: QueueKind;
  /** Activities run at once (default: the machine's cores; analysis is CPU-bound). */
  concurrency?: number;
  services: WorkerServices;
  /** Only warnings from the SDK (an in-process worker must not draw over a progress bar). */
  quiet?: boolean;
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  /** Start polling (idempotent); resolves when the worker has shut down. */
  run(): Promise<void>;
  /** Stop polling, let running activities finish (or be cancelled), close connections. */
  close(): Promise<void>;
}

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code, bundled once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: Record<string, unknown>) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta ?? '');
  },
};

let runtimeInstalled = false;

/** Install the SDK runtime with a warnings-only logger, once, before anything else uses it. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier worker or client in this process: keep its logger.
  }
}

export async function createWorker(options: CreateWorkerOptions): Promise<RunningWorker> {
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  if (options.queue === 'gpu') {
    throw new UnsupportedError(
      'the gpu queue has no activities yet (curvature in sweeps is a later issue); run --queue cpu',
    );
  }
  if (options.quiet) quietRuntime();
  const connection = await NativeConnection.connect({ address: options.services.temporalAddress });
  const deps = createActivityDeps(options.services);
  try {
    const taskQueue = TASK_QUEUES[options.queue];
    const worker = await Worker.create({
      connection,
      namespace: options.services.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createSweepActivities(deps),
      maxConcurrentActivityTaskExecutions: concurrency,
      // Activities heartbeat every 5 s; cancellation must reach them well inside the timeout.
      shutdownGraceTime: '10 seconds',
    });
    let running: Promise<void> | undefined;
    const run = () => {
      running ??= worker.run();
      return running;
    };
    return {
      worker,
      taskQueue,
      run,
      async close() {
        if (running) {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
        }
        await deps.close();
        await connection.close();
      },
    };
  } catch (err) {
    await deps.close();
    await connection.close();
    throw err;
  }
}
