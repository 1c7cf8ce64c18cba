/**
 * The Temporal dev server (Temporal CLI `server start-dev`), headless or with the Web UI, SQLite
 * persistence in <state>/temporal/temporal.db so workflows survive a restart.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigError } from '../lib/errors.ts';
import { resolveBinary, TEMPORAL_BINARY } from './binaries.ts';
import { localTemporalAddress, type StackState } from './paths.ts';
import { ensurePortFree, waitUntil } from './ports.ts';
import { isAlive, livePidFromFile, logTail, spawnDetached, stopPidFile } from './processes.ts';
import { pidServiceStatus, type ServiceStatus, serviceFiles } from './service.ts';

const START_TIMEOUT_MS = 90_000;

export function temporalPaths(state: StackState) {
  const { root, logFile } = serviceFiles(state, 'temporal');
  return { root, logFile, dbFile: path.join(root, 'temporal.db'), pidFile: path.join(root, 'temporal.pid') };
}

export function temporalPid(state: StackState): number | undefined {
  return livePidFromFile(temporalPaths(state).pidFile, 'start-dev');
}

/** True when the frontend answers a namespace query (gRPC up and the namespace registered). */
export async function temporalAnswers(address: string, namespace = 'default'): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporal(state: StackState): Promise<void> {
  const paths = temporalPaths(state);
  const address = localTemporalAddress(state);
  let pid = temporalPid(state);
  if (pid === undefined) {
    const binary = resolveBinary(TEMPORAL_BINARY);
    await ensurePortFree(state.host, state.ports.temporal, 'Temporal', 'WEIGHTLENS_TEMPORAL_PORT');
    const ui = state.ports.temporalUi > 0;
    if (ui)
      await ensurePortFree(state.host, state.ports.temporalUi, 'Temporal UI', 'WEIGHTLENS_TEMPORAL_UI_PORT');
    mkdirSync(paths.root, { recursive: true });
    pid = spawnDetached({
      command: binary,
      args: [
        'server',
        'start-dev',
        '--ip',
        state.host,
        '--port',
        String(state.ports.temporal),
        '--db-filename',
        paths.dbFile,
        ...(ui ? ['--ui-ip', state.host, '--ui-port', String(state.ports.temporalUi)] : ['--headless']),
        '--log-level',
        'warn',
      ],
      logFile: paths.logFile,
      pidFile: paths.pidFile,
    });
  }
  const startedPid = pid;
  const healthy = await waitUntil(() => temporalAnswers(address), {
    timeoutMs: START_TIMEOUT_MS,
    intervalMs: 300,
    alive: () => isAlive(startedPid),
  });
  if (!healthy) {
    const reason = isAlive(startedPid) ? `did not answer within ${START_TIMEOUT_MS / 1000} s` : 'exited';
    throw new ConfigError(
      `Temporal dev server ${reason}; see ${paths.logFile}: ${logTail(paths.logFile, 2)}`,
    );
  }
}

export async function stopTemporal(state: StackState): Promise<void> {
  await stopPidFile(temporalPid(state), temporalPaths(state).pidFile, 20_000);
}

export function temporalStatus(state: StackState): Promise<ServiceStatus> {
  const listen = { host: state.host, port: state.ports.temporal };
  return pidServiceStatus('temporal', temporalPid(state), listen, localTemporalAddress(state));
}
