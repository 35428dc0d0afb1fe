import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // The reliability suite has its own configuration and run (npm run test:reliability; .ci/run runs both).
    exclude: ['test/reliability/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one core less than the machine has: one file at a time on CI's two cores, while most files
    // wait on child processes, local servers and sockets more than they compute. In CI (.ci/run sets CI=true, a quiet
    // machine) two at a time at least; elsewhere (a machine shared with other work) vitest's default.
    ...(process.env.CI === 'true' ? { maxWorkers: Math.max(2, availableParallelism()) } : {}),
  },
});
