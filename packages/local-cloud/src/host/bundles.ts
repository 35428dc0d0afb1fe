/**
 * Making sure `dist/` holds current bundles before the host loads them: `node scripts/build.mjs` runs when a
 * function has no bundle, or lacks a file its bundle requires beside it (causes.js, an SDK's file), or a source file
 * under functions/ or lib/ (or scripts/build.mjs, scripts/bundle.mjs) is newer than the oldest bundle. Concurrent
 * callers (parallel test files, `npm start` next to a test run) are serialised with a lock directory, so no one
 * loads a bundle while another process is rebuilding `dist/`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What {@link ensureBundles} did. */
export interface BundlesResult {
  built: boolean;
  /** Why it built (or `up to date`). */
  reason: string;
  ms: number;
}

function newestSource(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|mts|cts|js|mjs|json)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** A bundle's require or import of a file beside it (scripts/bundle.mjs: `require("./causes.js")`, `import("./fc-sdk.js")`). */
const BESIDE = /(?:require|import)\("\.\/([\w.-]+\.js)"\)/g;

/** Why the bundles need a build, or `undefined` when they are current. */
export function staleReason(root: string): string | undefined {
  const functionsDir = join(root, 'functions');
  const names = readdirSync(functionsDir).filter((n) => existsSync(join(functionsDir, n, 'index.ts')));
  let oldest = Infinity;
  for (const n of names) {
    const bundle = join(root, 'dist', n, 'index.js');
    if (!existsSync(bundle)) return `dist/${n}/index.js is missing`;
    // The files it requires or imports on first use (causes.js, the SDKs): a bundle without one loads, then fails later.
    for (const [, file] of readFileSync(bundle, 'utf8').matchAll(BESIDE)) {
      if (!existsSync(join(root, 'dist', n, file ?? ''))) return `dist/${n}/${file} is missing`;
    }
    oldest = Math.min(oldest, statSync(bundle).mtimeMs);
  }
  const scripts = ['build.mjs', 'bundle.mjs'].map((f) => join(root, 'scripts', f)).filter((f) => existsSync(f));
  const newest = Math.max(newestSource(functionsDir), newestSource(join(root, 'lib')), ...scripts.map((f) => statSync(f).mtimeMs));
  return newest > oldest ? 'sources are newer than dist/' : undefined;
}

async function withLock<T>(lockDir: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed process is broken after 2 minutes.
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > 120_000) rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // It went away meanwhile.
      }
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for the build lock ${lockDir}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * Builds the bundles when they are missing or stale (or always with `force`).
 * @example await ensureBundles({ root: process.cwd() })
 */
export async function ensureBundles(options: { root: string; force?: boolean; timeoutMs?: number }): Promise<BundlesResult> {
  const started = Date.now();
  // The lock lives outside the working copy: a second `npm start` or a test must not touch a running one's folders.
  const lockDir = join(tmpdir(), `execution-archive-build-${createHash('sha256').update(resolve(options.root)).digest('hex').slice(0, 16)}.lock`);
  return withLock(
    lockDir,
    async () => {
      const reason = options.force ? 'forced' : staleReason(options.root);
      if (reason === undefined) return { built: false, reason: 'up to date', ms: Date.now() - started };
      await run(process.execPath, [join(options.root, 'scripts', 'build.mjs')], { cwd: options.root, timeout: options.timeoutMs ?? 120_000 });
      return { built: true, reason, ms: Date.now() - started };
    },
    options.timeoutMs ?? 120_000,
  );
}
