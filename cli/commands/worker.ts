/**
 * `weightlens worker [--queue cpu|gpu] [--concurrency N]`: one worker process. Run as many as you
 * have machines; they share the work through Temporal. Stops cleanly on SIGINT/SIGTERM.
 */
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { resolveServices } from '../../infra/config.ts';
import { BadInputError } from '../../lib/errors.ts';
import { createWorker } from '../../workers/create.ts';
import type { QueueKind } from '../../workflows/types.ts';

export function parseConcurrency(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new BadInputError(`--concurrency ${raw}: give an integer between 1 and 1024`);
  }
  return n;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a Temporal worker serving weightlens workflows and activities')
    .addOption(new Option('--queue <queue>', 'task queue to serve').choices(['cpu', 'gpu']).default('cpu'))
    .option('--concurrency <n>', `activities at once (default: cores, ${availableParallelism()} here)`)
    .action(async (options: { queue: QueueKind; concurrency?: string }) => {
      const concurrency = parseConcurrency(options.concurrency);
      const services = await resolveServices({ start: true });
      const running = await createWorker({ queue: options.queue, concurrency, services });
      process.stderr.write(
        `weightlens worker: queue ${running.taskQueue} on ${services.temporalAddress} (pid ${process.pid})\n`,
      );
      try {
        // The SDK's runtime stops the worker on SIGINT/SIGTERM; run() then resolves.
        await running.run();
      } finally {
        await running.close();
      }
    });
}
