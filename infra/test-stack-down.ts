/**
 * Stops the integration-test stack when no live test run holds a lease: .ci/run calls it on exit
 * so a crashed or interrupted run leaves no service process behind
 * (`npx tsx infra/test-stack-down.ts`).
 */
import { stopIdleTestStack } from './test-stack.ts';

if (!(await stopIdleTestStack()))
  process.stderr.write('test stack still in use by another test run; left running\n');
