#!/usr/bin/env node
/**
 * `npm run test:reliability [-- --full] [vitest options]`: the reliability suite (test/reliability) at CI size, or
 * larger with `--full` (more fault seeds and kill points). Other arguments go to vitest (e.g. `--reporter=json`).
 * It ends with one line of figures: `reliability: … fault seeds, … faults injected, … kill points, 0 lost, …`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const full = args.includes('--full');
const rest = args.filter((a) => a !== '--full');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--config', join(root, 'vitest.reliability.config.mts'), ...rest], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RELIABILITY_FULL: full ? '1' : '0' },
});
process.exit(r.status ?? 1);
