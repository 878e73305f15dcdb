import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One temporary directory for the run, removed at its end (test/global-tmp.ts).
    globalSetup: ['test/global-tmp.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit files first, all at once; then the integration files on a machine they
          // have to themselves (their timing checks, e.g. a Last Will within 1.5 × keepalive,
          // must not compete with a pool of unit workers).
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // Real brokers and processes on a 2-core machine: one file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
