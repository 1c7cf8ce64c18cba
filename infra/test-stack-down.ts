/**
 * Stops the integration-test stack regardless of leases: .ci/run calls it on exit so a crashed or
 * interrupted test run leaves no service process behind (`npx tsx infra/test-stack-down.ts`).
 */
import { stackDown } from './stack.ts';
import { testStackState } from './test-stack.ts';

await stackDown(testStackState());
