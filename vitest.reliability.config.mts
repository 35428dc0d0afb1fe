import { defineConfig } from 'vitest/config';

/** `npm run test:reliability`: faults, kills, storms, hostile inputs and the secrets scan (see test/reliability). */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One file at a time: the files start their own local clouds and kill processes; two cores are shared.
    fileParallelism: false,
  },
});
