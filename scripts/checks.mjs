#!/usr/bin/env node
/**
 * `npm test`'s checks before the tests: the report's assets first (they are part of what the others read), then the
 * typecheck, the lint and the bundles side by side (each is one process that keeps one core busy; one after the other
 * they took about their sum). Each one's output is printed whole when it ends, with its name and time; the exit
 * status is the first failure's, or 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const assets = spawnSync(npm, ['run', '-s', 'assets'], { cwd: root, stdio: 'inherit' });
if (assets.status !== 0) process.exit(assets.status ?? 1);

/** Runs one check with its output kept, and prints it when the check ends. */
function check(name, command, args) {
  const started = Date.now();
  return new Promise((resolveCheck) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    child.on('error', (err) => out.push(Buffer.from(`${err.message}\n`)));
    child.on('close', (code, signal) => {
      const status = code ?? (signal ? 1 : 0);
      const text = Buffer.concat(out).toString('utf8');
      process.stdout.write(`> ${name}: ${status === 0 ? 'ok' : `failed (${signal ?? `exit ${code}`})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n${text}${text && !text.endsWith('\n') ? '\n' : ''}`);
      resolveCheck(status);
    });
  });
}

const statuses = await Promise.all([
  check('typecheck', npm, ['run', '-s', 'typecheck']),
  check('lint', npm, ['run', '-s', 'lint']),
  check('build', process.execPath, [join(root, 'scripts', 'build.mjs')]),
]);
process.exit(statuses.find((s) => s !== 0) ?? 0);
