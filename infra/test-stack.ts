/**
 * The stack integration tests run on: its own state folder and ports (+100), so tests never touch
 * a user's running stack. Several test runs may share it at once (several people work in one
 * checkout), so each run holds a lease and the last one out stops the services.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { resolveServices, type Services } from './config.ts';
import { repoRoot, type StackState, stackStateFromEnv } from './paths.ts';
import { isAlive } from './processes.ts';
import { stackDown, withStackLock } from './stack.ts';

/** Test ports are the stack's defaults plus this; WEIGHTLENS_TEST_PORT_OFFSET moves a second checkout's tests aside. */
export const TEST_PORT_OFFSET = 100;

function testPortOffset(): number {
  const raw = process.env.WEIGHTLENS_TEST_PORT_OFFSET;
  if (raw === undefined || raw === '') return TEST_PORT_OFFSET;
  const offset = Number(raw);
  if (!Number.isInteger(offset) || offset < 1 || offset > 20_000) {
    throw new Error(`WEIGHTLENS_TEST_PORT_OFFSET must be an integer in 1..20000, got '${raw}'`);
  }
  return offset;
}

export function testStackState(): StackState {
  const dir = process.env.WEIGHTLENS_TEST_STATE_DIR ?? path.join(repoRoot, '.weightlens', 'test');
  // Only the offset applies: a user's WEIGHTLENS_*_PORT variables describe their own stack.
  const state = stackStateFromEnv({ dir, portOffset: testPortOffset() }, {});
  return { ...state, ports: { ...state.ports, temporalUi: 0 } };
}

function leaseDir(state: StackState): string {
  return path.join(state.dir, 'leases');
}

function liveLeases(state: StackState): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(leaseDir(state));
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (Number.isInteger(pid) && isAlive(pid)) live.push(pid);
    else rmSync(path.join(leaseDir(state), name), { force: true });
  }
  return live;
}

/** Start (or join) the test stack, migrated, and take a lease for this process. */
export async function acquireTestStack(state: StackState = testStackState()): Promise<Services> {
  mkdirSync(leaseDir(state), { recursive: true });
  writeFileSync(path.join(leaseDir(state), String(process.pid)), '');
  return resolveServices({ start: true, migrate: true, state, env: {} });
}

/** Stop the test stack unless a live test run still holds a lease (used by .ci/run on exit). */
export async function stopIdleTestStack(state: StackState = testStackState()): Promise<boolean> {
  const busy = await withStackLock(state, async () => liveLeases(state).length > 0);
  if (!busy) await stackDown(state);
  return !busy;
}

/** Drop this process' lease; stop the services when no other live run holds one (unless `keep`). */
export async function releaseTestStack(state: StackState = testStackState(), keep = false): Promise<void> {
  rmSync(path.join(leaseDir(state), String(process.pid)), { force: true });
  if (!keep) await stopIdleTestStack(state);
}
