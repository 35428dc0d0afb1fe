import { defineConfig } from 'vitest/config';

/** `npm run test:reliability`: faults, kills, storms, hostile inputs and the secrets scan (see test/reliability). */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // In CI (CI=true, a quiet machine) two files at a time: each starts its own local cloud on free ports and kills
    // only the processes it started, and the kills and faults files mostly wait on those processes, so one at a time
    // left a core idle. Elsewhere one at a time (two cores shared with other work).
    ...(process.env.CI === 'true' ? { maxWorkers: 2 } : { fileParallelism: false }),
  },
});
