/**
 * Starts the integration-test stack once per vitest run (Temporal dev server, versitygw, Postgres
 * in .weightlens/test on ports +100), applies migrations, and hands the endpoints to tests:
 * `inject('services')`, `inject('stackState')`. The last concurrent run to finish stops the
 * stack; WEIGHTLENS_TEST_KEEP_STACK=1 leaves it warm for quick re-runs.
 */
import type { TestProject } from 'vitest/node';
import type { Services } from '../../infra/config.ts';
import type { StackState } from '../../infra/paths.ts';
import { acquireTestStack, releaseTestStack, testStackState } from '../../infra/test-stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    services: Services;
    stackState: StackState;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const state = testStackState();
  const services = await acquireTestStack(state);
  project.provide('services', services);
  project.provide('stackState', state);
  return () => releaseTestStack(state, process.env.WEIGHTLENS_TEST_KEEP_STACK === '1');
}
