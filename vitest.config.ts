import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, no services) and `integration` (real Temporal, S3 and Postgres
// started by test/integration/global-setup.ts through the same `stack up` the CLI uses).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
