/**
 * The local service stack as one unit: `stackUp` (idempotent: running services are only
 * health-checked), `stackDown` (no process of ours left), `stackStatus`. Each service can also be
 * started and stopped on its own (tests restart Temporal mid-sweep).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../lib/errors.ts';
import type { StackState } from './paths.ts';
import { postgresStatus, startPostgres, stopPostgres } from './postgres.ts';
import { isAlive } from './processes.ts';
import { s3Status, startS3, stopS3 } from './s3.ts';
import type { ServiceName, ServiceStatus } from './service.ts';
import { startTemporal, stopTemporal, temporalStatus } from './temporal.ts';

export { postgresStatus, startPostgres, stopPostgres } from './postgres.ts';
export { s3Status, startS3, stopS3 } from './s3.ts';
export type { ServiceName, ServiceStatus } from './service.ts';
export { startTemporal, stopTemporal, temporalStatus } from './temporal.ts';

export const ALL_SERVICES: readonly ServiceName[] = ['postgres', 's3', 'temporal'];

const starters: Record<ServiceName, (state: StackState) => Promise<void>> = {
  postgres: startPostgres,
  s3: startS3,
  temporal: startTemporal,
};
const stoppers: Record<ServiceName, (state: StackState) => Promise<void>> = {
  postgres: stopPostgres,
  s3: stopS3,
  temporal: stopTemporal,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Serialize up/down across processes (the CLI, a test run, a worker all may call `up`): an
 * exclusive lock file holding the owner's pid; a lock whose owner died is taken over.
 */
export async function withStackLock<T>(state: StackState, fn: () => Promise<T>): Promise<T> {
  mkdirSync(state.dir, { recursive: true });
  const lockFile = path.join(state.dir, 'stack.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new ConfigError(
          `another weightlens process (pid ${owner}) holds ${lockFile}; wait for it or remove the file`,
        );
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** Start the given services (default all) concurrently; already-running ones are only checked. */
export async function stackUp(
  state: StackState,
  services: readonly ServiceName[] = ALL_SERVICES,
): Promise<void> {
  await withStackLock(state, async () => {
    const results = await Promise.allSettled(services.map((name) => starters[name](state)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  });
}

export async function stackDown(
  state: StackState,
  services: readonly ServiceName[] = ALL_SERVICES,
): Promise<void> {
  await withStackLock(state, async () => {
    await Promise.all(services.map((name) => stoppers[name](state)));
  });
}

export async function stackStatus(state: StackState): Promise<ServiceStatus[]> {
  return Promise.all([postgresStatus(state), s3Status(state), temporalStatus(state)]);
}
