/**
 * Temporal workers for weightlens. A `cpu` worker runs every workflow and the spectral activities;
 * a `gpu` worker serves the `gpu` queue: the curvature activity (tfjs is loaded only there; it picks
 * tfjs-node-gpu when it loads, wasm/cpu otherwise) and the spectral layer batches the sweep routes to
 * it (large layers, workflows/layer-batches.ts planLayerRoutes; the CUDA core where it loads). Curvature
 * re-registers tfjs gradients globally and runs long synchronous kernels, so a gpu worker belongs
 * in its own process (the CLI's embedded mode spawns one, workers/worker-process.ts). The workflow
 * bundle is built once per process and shared, so an in-process worker (the CLI's embedded mode,
 * tests) pays the bundling cost once.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import {
  type ActivityServices,
  createActivityDeps,
  createSweepActivities,
  gpuSpectralActivities,
} from '../activities/index.ts';
import { type QueueKind, TASK_QUEUES } from '../contracts/queues.ts';
import { connectWithTlsDiagnosis, temporalConnectOptions } from '../infra/tls.ts';
import { readAheadSlotSupplier } from './activity-slots.ts';
import type { WorkerMetrics } from './metrics.ts';
import { terminalLogFunction } from './terminal-log.ts';

/** What a worker needs of infra/config.ts `Services`. */
export interface WorkerServices extends ActivityServices {
  temporalAddress: string;
  namespace: string;
}

export interface CreateWorkerOptions {
  queue: QueueKind;
  /**
   * Layer analyses (`cpu`) or curvature activities (`gpu`) run at once (default: the machine's
   * cores for `cpu`, analysis is CPU-bound; 1 for `gpu`, one tfjs backend per process). A `cpu`
   * worker takes this many activity tasks at once and one more just before a slot frees; a `gpu`
   * worker GPU_IO_SLOTS more.
   */
  concurrency?: number;
  services: WorkerServices;
  /** Only warnings from the SDK (an in-process worker must not draw over a progress bar). */
  quiet?: boolean;
  /** Count and time every activity execution into these Prometheus metrics (workers/metrics.ts). */
  metrics?: WorkerMetrics;
  /**
   * On shutdown (SIGTERM): how long running activities may finish before they are cancelled and
   * retried elsewhere at once (default 10 s).
   */
  shutdownGraceMs?: number;
  /**
   * The SDK runtime's logger for this process (installed once, before the first connection);
   * the worker CLI passes workers/outage-log.ts so an outage is reported once, not per attempt.
   */
  logger?: Logger;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  /** Start polling (idempotent); resolves when the worker has shut down. */
  run(): Promise<void>;
  /** Stop polling, let running activities finish (or be cancelled), close connections. */
  close(): Promise<void>;
  /** Layer analyses still running in the native solver (after close: ones given up at the grace). */
  analysesRunning(): number;
}

/**
 * Activity task slots of a gpu worker beyond its compute slots: one, so a routed batch is read (or
 * a curvature activity runs) while another batch is on the device. A cpu worker takes its extra
 * task only shortly before a compute slot frees (workers/activity-slots.ts): one held all along
 * would wait behind an analysis that can take many minutes (an 8B-shaped MLP matrix), past its own
 * start-to-close timeout when it is a small batch, while an idle worker could have run it.
 */
export const GPU_IO_SLOTS = 1;

/** The SDK's defaults for the slot kinds a tuner must also name (workflow, local activity, Nexus tasks). */
const DEFAULT_WORKFLOW_TASK_SLOTS = 40;
const DEFAULT_OTHER_TASK_SLOTS = 100;

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

/** Install the SDK runtime with `logger`, once, before anything else uses it. */
function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger });
  } catch {
    // Already installed by an earlier worker or client in this process: keep its logger.
  }
}

export async function createWorker(options: CreateWorkerOptions): Promise<RunningWorker> {
  const gpu = options.queue === 'gpu';
  const concurrency = Math.max(1, options.concurrency ?? (gpu ? 1 : availableParallelism()));
  if (options.logger) installRuntime(options.logger);
  else if (options.quiet) installRuntime(new DefaultLogger('WARN', terminalLogFunction));
  const temporal = temporalConnectOptions(options.services.temporalAddress);
  const connection = await connectWithTlsDiagnosis('Temporal', temporal, () =>
    NativeConnection.connect(temporal),
  );
  const deps = createActivityDeps(options.services, { computeSlots: concurrency });
  try {
    await deps.warmUp();
    const taskQueue = TASK_QUEUES[options.queue];
    // Loaded only here: cpu workers never import tfjs.
    const activities = gpu
      ? {
          ...(await import('../activities/curvature.ts')).createCurvatureActivities(deps),
          ...(await import('../activities/plan-zeroq.ts')).createPlanGpuActivities(deps),
          ...gpuSpectralActivities(deps),
        }
      : createSweepActivities(deps);
    const worker = await Worker.create({
      connection,
      namespace: options.services.namespace,
      taskQueue,
      ...(gpu ? {} : { workflowBundle: await workflowBundle() }),
      activities,
      // cpu: one activity task per compute slot, and one more read ahead just before a slot frees
      // (workers/activity-slots.ts); the rest stay in the queue for any worker. gpu: GPU_IO_SLOTS
      // more, waiting (heartbeating) for the device.
      ...(gpu
        ? { maxConcurrentActivityTaskExecutions: concurrency + GPU_IO_SLOTS }
        : {
            tuner: {
              activityTaskSlotSupplier: readAheadSlotSupplier(concurrency, deps.readAhead),
              workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_WORKFLOW_TASK_SLOTS },
              localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_OTHER_TASK_SLOTS },
              nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_OTHER_TASK_SLOTS },
            },
          }),
      // Activities heartbeat every 5 s; cancellation must reach them well inside the timeout.
      // After the grace, running activities are cancelled (they fail and are retried on another
      // worker without waiting for a heartbeat timeout); the force time bounds the whole exit.
      shutdownGraceTime: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
      shutdownForceTime: (options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) + 1_000,
      ...(options.metrics
        ? { interceptors: { activity: [options.metrics.activityInterceptors(taskQueue)] } }
        : {}),
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
      analysesRunning: () => deps.compute.running,
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
