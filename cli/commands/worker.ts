/**
 * `weightlens worker [--queue cpu|gpu] [--concurrency N]`: one worker process. Run as many as you
 * have machines; they share the work through Temporal. `cpu` workers run the workflows and the
 * spectral activities; `gpu` workers run curvature (tfjs-node-gpu when it loads, wasm/cpu
 * otherwise). Stops cleanly on SIGINT/SIGTERM.
 */
import { availableParallelism } from 'node:os';
import { DefaultLogger } from '@temporalio/worker';
import { type Command, Option } from 'commander';
import type { QueueKind } from '../../contracts/queues.ts';
import { resolveServices } from '../../infra/config.ts';
import { BadInputError } from '../../lib/errors.ts';
import { createWorker, DEFAULT_SHUTDOWN_GRACE_MS } from '../../workers/create.ts';
import { dependencyChecks, healthPortFromEnv, startHealthServer } from '../../workers/health.ts';
import { OutageReportingLogger } from '../../workers/outage-log.ts';
import { terminalLogFunction } from '../../workers/terminal-log.ts';

export function parseConcurrency(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new BadInputError(`--concurrency ${raw}: give an integer between 1 and 1024`);
  }
  return n;
}

export function parseGraceSeconds(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 86_400) {
    throw new BadInputError(`--grace ${raw}: give seconds between 0 and 86400`);
  }
  return Math.round(n * 1000);
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a Temporal worker serving weightlens workflows and activities')
    .addOption(new Option('--queue <queue>', 'task queue to serve').choices(['cpu', 'gpu']).default('cpu'))
    .option(
      '--concurrency <n>',
      `layer analyses (cpu queue) or curvature activities (gpu queue) at once (default: cpu queue cores, ${availableParallelism()} here; gpu queue 1)`,
    )
    .option(
      '--grace <seconds>',
      `on SIGTERM, how long running activities may finish before they are handed to other workers (default ${DEFAULT_SHUTDOWN_GRACE_MS / 1000})`,
    )
    // For parents that spawn workers (sweep --wait): stop when the parent's pipe closes.
    .addOption(new Option('--exit-on-stdin-close').hideHelp())
    .action(
      async (options: {
        queue: QueueKind;
        concurrency?: string;
        grace?: string;
        exitOnStdinClose?: boolean;
      }) => {
        const concurrency = parseConcurrency(options.concurrency);
        const shutdownGraceMs = parseGraceSeconds(options.grace);
        if (options.exitOnStdinClose) {
          process.stdin.on('close', () => process.kill(process.pid, 'SIGTERM'));
          process.stdin.resume();
        }
        const services = await resolveServices({ start: true });
        if (options.queue === 'gpu') {
          // Pick the tfjs backend now, so the operator sees at start whether tfjs-node-gpu loaded
          // (one line on stderr); each activity may still ask for the CPU backends ('--curvature cpu').
          const { initCurvatureBackend } = await import('../../lib/curvature/backend.ts');
          await initCurvatureBackend();
        }
        const healthPort = healthPortFromEnv();
        // prom-client is loaded only by workers that serve metrics.
        const metrics =
          healthPort === undefined
            ? undefined
            : (await import('../../workers/metrics.ts')).createWorkerMetrics();
        const running = await createWorker({
          queue: options.queue,
          concurrency,
          services,
          metrics,
          shutdownGraceMs,
          logger: new OutageReportingLogger(new DefaultLogger('INFO', terminalLogFunction)),
        });
        const health =
          metrics && healthPort !== undefined
            ? await startHealthServer({
                port: healthPort,
                host: process.env.WEIGHTLENS_HEALTH_HOST,
                registry: metrics.registry,
                checks: dependencyChecks(services),
              })
            : undefined;
        process.stderr.write(
          `weightlens worker: queue ${running.taskQueue} on ${services.temporalAddress} (pid ${process.pid})\n`,
        );
        const grace = (shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) / 1000;
        let stopSignal: NodeJS.Signals | undefined;
        const onSignal = (signal: NodeJS.Signals) => {
          stopSignal = signal;
          process.stderr.write(
            `weightlens worker: ${signal}: stopped polling; running work has ${grace} s to finish, then moves to other workers\n`,
          );
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
        try {
          // The SDK's runtime stops the worker on SIGINT/SIGTERM; run() then resolves.
          await running.run();
        } finally {
          await health?.close();
          await running.close();
        }
        process.stderr.write('weightlens worker: stopped\n');
        const abandoned = running.analysesRunning();
        if (abandoned > 0 && stopSignal) {
          // A layer analysis given up at the end of the grace still runs in the native solver, and
          // exit() waits for it (measured: 6 s for a 1600×1600 layer). Its work is already handed
          // over, so end the way the signal asked, at once.
          process.removeAllListeners(stopSignal);
          process.kill(process.pid, stopSignal);
        }
        process.exit(process.exitCode ?? 0);
      },
    );
}
