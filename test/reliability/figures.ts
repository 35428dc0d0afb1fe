/**
 * The reliability suite's figures: each test file adds what it measured (seeds run, faults injected, kill points,
 * records lost or duplicated, orphaned multipart uploads, secrets found) to one JSON-lines file named by
 * RELIABILITY_FIGURES; the global teardown sums them into the one line the suite ends with. Also the size knobs
 * (`npm run test:reliability -- --full` sets RELIABILITY_FULL=1) and the secrets scan.
 */
import { appendFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DEMO_KEY, DEMO_STS_KEY } from '@execution-archive/local-cloud/credentials';

export interface Figures {
  seeds: number;
  faults: number;
  killPoints: number;
  lost: number;
  duplicated: number;
  orphanedUploads: number;
  secrets: number;
  hostileCases: number;
  stormEvents: number;
  scannedBytes: number;
}

export const FULL = process.env.RELIABILITY_FULL === '1';

/** CI size, or the `--full` size. */
export function size(ci: number, full: number): number {
  return FULL ? full : ci;
}

export function addFigures(figures: Partial<Figures>): void {
  const file = process.env.RELIABILITY_FIGURES;
  if (file) appendFileSync(file, JSON.stringify(figures) + '\n');
}

export function sumFigures(text: string): Figures {
  const total: Figures = { seeds: 0, faults: 0, killPoints: 0, lost: 0, duplicated: 0, orphanedUploads: 0, secrets: 0, hostileCases: 0, stormEvents: 0, scannedBytes: 0 };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = JSON.parse(line) as Partial<Figures>;
    for (const k of Object.keys(total) as (keyof Figures)[]) total[k] += f[k] ?? 0;
  }
  return total;
}

const n = (v: number) => v.toLocaleString('en-US');

export function figuresLine(f: Figures): string {
  return (
    `reliability: ${n(f.seeds)} fault seeds, ${n(f.faults)} faults injected, ${n(f.killPoints)} kill points, ` +
    `${n(f.lost)} lost, ${n(f.duplicated)} duplicated, ${n(f.orphanedUploads)} orphaned multipart uploads, ` +
    `${n(f.hostileCases)} hostile inputs, ${n(f.stormEvents)} storm events, ${n(f.secrets)} secrets in output`
  );
}

/** The credentials every run of the suite uses (the local cloud's demo keys): none may appear in anything written. */
export const SECRETS: readonly string[] = [DEMO_KEY.accessKeySecret, DEMO_STS_KEY.accessKeySecret, DEMO_STS_KEY.securityToken ?? ''].filter(Boolean);

/** What a run printed (logs go to stdout as JSON lines), captured by `captureOutput`. */
const captured: string[] = [];

/** Tees process.stdout/stderr into memory so the secrets scan sees every log line. Returns a restore function. */
export function captureOutput(): () => void {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tee =
    (write: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tee(out) as typeof process.stdout.write;
  process.stderr.write = tee(err) as typeof process.stderr.write;
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}

/** Remembers text a run produced that is not in a folder (HTTP bodies, results, thrown messages). */
export function rememberOutput(text: string): void {
  captured.push(text);
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else if (e.isFile()) yield p;
  }
}

/**
 * Scans every file under `dirs` (gzip objects decompressed) and everything captured for the run's credentials.
 * @returns how many occurrences were found and how many bytes were scanned.
 */
export async function scanForSecrets(dirs: string[]): Promise<{ found: string[]; bytes: number }> {
  const found: string[] = [];
  let bytes = 0;
  const check = (where: string, text: string) => {
    bytes += text.length;
    for (const s of SECRETS) if (text.includes(s)) found.push(`${where}: ${s.slice(0, 6)}…`);
  };
  for (const dir of dirs) {
    for await (const file of filesUnder(dir)) {
      let body = await readFile(file);
      if (body[0] === 0x1f && body[1] === 0x8b) {
        try {
          body = gunzipSync(body);
        } catch {
          // a torn gzip object is scanned as it is
        }
      }
      check(file, body.toString('utf8'));
    }
  }
  check('captured output', captured.join(''));
  captured.length = 0;
  return { found, bytes };
}

/**
 * The end of a reliability file: every file its local cloud wrote scanned for the run's credentials (counted in the
 * figures with `figures`), the output capture ended, the cloud closed. Returns the secrets found: the file asserts
 * there are none.
 */
export async function scanAndClose(t: { dir: string; close(): Promise<void> }, restore: () => void, figures: Partial<Figures> = {}): Promise<string[]> {
  const scan = await scanForSecrets([t.dir]);
  addFigures({ ...figures, secrets: scan.found.length, scannedBytes: scan.bytes });
  restore();
  await t.close();
  return scan.found;
}
