/**
 * A `weightlens worker` child process, for the CLI's embedded mode: curvature re-registers tfjs
 * gradients globally and runs long synchronous kernels, so the `gpu` queue's worker gets its own
 * process instead of sharing the event loop of the in-process `cpu` worker. The child is pointed at
 * the already-resolved services (it starts nothing), exits when our stdin pipe closes (so it never
 * outlives us, even after a SIGKILL), and keeps its output to itself unless it fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { QueueKind } from '../contracts/queues.ts';
import type { Services } from '../infra/config.ts';
import { exportS3Env } from '../infra/config.ts';
import { ConfigError } from '../lib/errors.ts';

const launcher = fileURLToPath(new URL('../bin/weightlens.mjs', import.meta.url));
const READY = 'weightlens worker: queue';
const OUTPUT_TAIL = 8_000;

/** The environment that makes a weightlens process use exactly `services`. */
export function servicesEnvironment(
  services: Services,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.namespace,
    DATABASE_URL: services.databaseUrl,
  };
  exportS3Env(services.s3, env);
  return env;
}

export interface WorkerChild {
  child: ChildProcess;
  /** The last few KB the process wrote (for error messages). */
  output(): string;
  /** Resolves with "exit N" or the signal once the process has exited. */
  exited: Promise<string>;
  /** SIGTERM (graceful shutdown), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startWorkerChild(
  queue: QueueKind,
  services: Services,
  options: { concurrency?: number; readyTimeoutMs?: number } = {},
): Promise<WorkerChild> {
  const args = [launcher, 'worker', '--queue', queue, '--exit-on-stdin-close'];
  if (options.concurrency !== undefined) args.push('--concurrency', String(options.concurrency));
  const child = spawn(process.execPath, args, {
    env: servicesEnvironment(services),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}`)),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
      if (output.includes(READY)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (err) => reject(new ConfigError(`cannot start a ${queue} worker: ${err.message}`)));
    void exited.then((how) =>
      reject(new ConfigError(`the ${queue} worker exited (${how}) before it was ready:\n${output.trim()}`)),
    );
  });
  const stop = async (timeoutMs = 20_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };
  const timeout = options.readyTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ConfigError(`the ${queue} worker was not ready after ${timeout / 1000} s`)),
          timeout,
        );
      }),
    ]);
  } catch (err) {
    await stop(5_000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { child, output: () => output, exited, stop };
}
