/**
 * `npm run bench:verify`: what `execution-archive verify` (lib/archive/verify.ts) costs on large archives. Builds
 * Cloud Assistant archives of each size in a temporary folder (parts of 100,000 records, outputs of ~0.5 KB that compress as real ones do, 10 %
 * failed), then verifies each in a fresh process and prints its time, records per second, stored MB per second and
 * peak RSS, beside a bare read of the same parts (gunzip + JSON.parse of every line, nothing else) in a fresh process.
 * Memory must not grow with the archive: the peak RSS of the largest size over the smallest is printed too.
 * Asserts nothing; writes nothing but its temporary folder.
 *
 *   npm run bench:verify                          # 100,000 and 1,000,000 records
 *   npm run bench:verify -- --sizes 50000,200000
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { createFileStore } from '../lib/archive/file';
import type { ArchiveRef } from '../lib/archive/layout';
import { LineSplitter } from '../lib/archive/reader';
import { verifyArchive } from '../lib/archive/verify';
import { ecsRecord, instanceId, writeArchive } from '../test/helpers/archive-fixture';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    // Internal: one measurement in this (fresh) process.
    measure: { type: 'string' },
    dir: { type: 'string' },
    id: { type: 'string' },
  },
});

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const int = (n: number) => Math.round(n).toLocaleString('en-US');

interface Figures {
  ms: number;
  peakRssMb: number;
  records: number;
  storedBytes: number;
  verdict?: string;
}

/** One measurement in this process: verify, or the bare read of every part. Prints its figures as JSON. */
async function measure(kind: string, dir: string, id: string): Promise<void> {
  const store = createFileStore(dir);
  const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
  const started = process.hrtime.bigint();
  let figures: Omit<Figures, 'ms' | 'peakRssMb'>;
  if (kind === 'verify') {
    const report = await verifyArchive(store, ref);
    figures = { records: report.records ?? 0, storedBytes: report.objects.reduce((n, o) => n + (o.actual?.bytes ?? 0), 0), verdict: report.verdict };
  } else {
    const manifest = JSON.parse((await store.get(`ecs/cn-hangzhou/${id}/manifest.json`))?.toString('utf8') ?? '{}') as { parts: Array<{ key: string; bytes: number }> };
    let records = 0;
    for (const part of manifest.parts) {
      const lines = new LineSplitter();
      for await (const chunk of createReadStream(join(dir, part.key)).pipe(createGunzip()) as AsyncIterable<Buffer>) {
        for (const line of lines.push(chunk)) {
          if (line !== '') {
            JSON.parse(line);
            records++;
          }
        }
      }
    }
    figures = { records, storedBytes: manifest.parts.reduce((n, p) => n + p.bytes, 0) };
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ ...figures, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

function run(kind: string, dir: string, id: string): Figures {
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--measure', kind, '--dir', dir, '--id', id], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${kind} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
}

const digest = (i: number, salt: string) => createHash('sha256').update(`${salt}${i}`).digest('hex').slice(0, 40);

async function* records(n: number, id: string): AsyncGenerator<Record<string, unknown>> {
  for (let i = 0; i < n; i++) {
    const failed = i % 10 === 0;
    yield ecsRecord({
      InvokeId: id,
      InstanceId: instanceId(i),
      InvocationStatus: failed ? 'Failed' : 'Success',
      ExitCode: failed ? 1 : 0,
      ErrorCode: failed ? 'ExitCodeNonzero' : '',
      // Digests and numbers that differ per record, so the parts compress as real outputs do (~4:1), not 30:1.
      Output: failed
        ? `step ${i % 97} failed: connection to 10.0.${i % 256}.${i % 200} refused (request ${digest(i, 'r')})\n`
        : Array.from({ length: 6 }, (_, k) => `fetched layer sha256:${digest(i, String(k))} (${(i * 7919 + k) % 100_000} bytes)\n`).join(''),
    });
  }
}

async function main(): Promise<void> {
  if (values.measure) return measure(values.measure, values.dir ?? '', values.id ?? '');
  const sizes = (values.sizes ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const root = await mkdtemp(join(tmpdir(), 'bench-verify-'));
  const rows: Array<{ n: number; verify: Figures; bare: Figures }> = [];
  try {
    for (const n of sizes) {
      const id = `t-bench${String(n).padStart(9, '0')}`;
      process.stdout.write(`building an archive of ${int(n)} records…\n`);
      await writeArchive(createFileStore(root), { ref: { source: 'ecs', regionId: 'cn-hangzhou', id }, records: records(n, id), recordsPerPart: 100_000 });
      const verify = run('verify', root, id);
      const bare = run('bare', root, id);
      if (verify.verdict !== 'intact' || verify.records !== n) throw new Error(`verify said ${verify.verdict} for ${verify.records} records`);
      rows.push({ n, verify, bare });
      process.stdout.write(
        `${int(n)} records (${fmt(verify.storedBytes / 1e6)} MB stored): verify ${fmt(verify.ms / 1000, 2)} s (${int((n / verify.ms) * 1000)} records/s, ` +
          `${fmt(verify.storedBytes / 1e3 / verify.ms)} MB/s), peak RSS ${int(verify.peakRssMb)} MB; bare gunzip + parse ${fmt(bare.ms / 1000, 2)} s, ` +
          `peak RSS ${int(bare.peakRssMb)} MB; verify ÷ bare time ${fmt(verify.ms / bare.ms, 2)}\n`,
      );
    }
    const first = rows[0];
    const last = rows.at(-1);
    if (first && last && last !== first) {
      process.stdout.write(`verify peak RSS, ${int(last.n)} ÷ ${int(first.n)} records: ${fmt(last.verify.peakRssMb / first.verify.peakRssMb, 2)}\n`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  process.stdout.write(`(archives in ${pathToFileURL(root).href}, removed)\n`);
}

void main();
