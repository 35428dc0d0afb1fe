/**
 * The commands that read an archive: `summarize` (the summarize function's invocation), `report` (the summary as a
 * table, or the HTML report in a browser) and `verify` (every object re-read against the manifest).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import type { ArchiveRef } from '../archive/layout';
import { readManifest } from '../archive/reader';
import type { ObjectEntry } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import { InputError } from '../errors';
import { loadSummary } from '../summary';
import { handleSummaryInvocation, summarizeDeps } from '../summary/invocation';
import { formatPercent } from '../summary/render/markdown';
import type { Summary } from '../summary/summary';
import { sourceOfId } from './collect';
import { EXIT, UsageError, println, type CliIo } from './io';
import { cliRuntime, regionOf, type CommonOptions } from './runtime';

export interface ArchiveCommandOptions extends CommonOptions {
  source?: string;
  force?: boolean;
  open?: boolean;
  top?: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function refOf(id: string | undefined, opts: ArchiveCommandOptions, regionId: string): ArchiveRef {
  if (id === undefined) throw new UsageError('name the archive: an execution id (exec-…) or an invoke id (t-…)');
  return { source: sourceOfId(id, opts.source), regionId, id };
}

/** An archive that is missing or unfinished is the caller's to fix: exit 1 with the reason, as the function answers 404/409. */
function setup(id: string | undefined, opts: ArchiveCommandOptions, io: CliIo) {
  const rt = cliRuntime(io, opts);
  const ref = refOf(id, opts, regionOf(opts, rt));
  return { rt, ref, deps: summarizeDeps(rt) };
}

export async function summarizeCommand(id: string | undefined, opts: ArchiveCommandOptions, io: CliIo): Promise<number> {
  const { ref, deps } = setup(id, opts, io);
  const result = await handleSummaryInvocation({ ...ref, force: opts.force === true }, deps);
  if (opts.json) {
    println(io.stdout, JSON.stringify(result, null, 2));
    return EXIT.ok;
  }
  println(io.stdout, `${ref.source} ${ref.id}: ${result.headline}${result.computed ? '' : ' (stored summary, current)'}`);
  for (const [name, url] of Object.entries(result.links)) println(io.stdout, `  ${name.padEnd(8)} ${url}`);
  return EXIT.ok;
}

/** Cuts at a word boundary (never mid-word) with an ellipsis. */
export function cutAtWord(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}

/** The summary as the operator reads it in a terminal: headline, statuses, the causes as a table, what to re-run. */
export function summaryTable(s: Summary, top: number, width = 120): string {
  const lines: string[] = [];
  const subject = s.subject.name ? `${s.subject.name} (${s.subject.status ?? 'unknown'})` : '';
  lines.push(`${s.source} ${s.id} in ${s.regionId}${subject ? `: ${subject}` : ''}`);
  lines.push(`${fmt(s.total)} records, ${fmt(s.failures)} failed (${formatPercent(s.failureRatio)}), ${fmt(s.succeeded)} succeeded${s.unfinished ? `, ${fmt(s.unfinished)} unfinished` : ''}${s.skipped ? `, ${fmt(s.skipped)} skipped` : ''}`);
  lines.push(`by status: ${Object.entries(s.byStatus).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  if (s.groups.length > 0) {
    lines.push('');
    const head = ['#', 'count', 'share', 'status', 'code', 'exit', 'cause'];
    const rows = s.groups.slice(0, top).map((g, i) => [String(i + 1), fmt(g.count), formatPercent(g.share), g.status, g.errorCode || '-', g.exitCode === null ? '-' : String(g.exitCode), g.title || g.signature || '(no error text)']);
    const widths = head.slice(0, -1).map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
    const causeWidth = Math.max(30, width - widths.reduce((a, b) => a + b + 2, 0));
    const render = (r: string[]) =>
      r.map((cell, c) => {
        const w = widths[c];
        if (w === undefined) return cutAtWord(cell, causeWidth);
        return c === 3 || c === 4 ? cell.padEnd(w) : cell.padStart(w);
      }).join('  ');
    lines.push(render(head));
    for (const r of rows) lines.push(render(r));
    if (s.groups.length > top) lines.push(`… ${fmt(s.groups.length - top)} more causes (--top ${s.groups.length})`);
  } else lines.push('no failures');
  if (s.truncatedOutputs.count > 0) {
    lines.push('');
    lines.push(`${fmt(s.truncatedOutputs.count)} outputs were cut at 24 KB by the API (${fmt(s.truncatedOutputs.bytesDropped)} bytes dropped), e.g. ${s.truncatedOutputs.ids.slice(0, 3).join(', ')}`);
  }
  lines.push('');
  lines.push(`to re-run: ${fmt(s.retry.count)} (${s.links.retry})`);
  lines.push(`report:    ${s.links.report}`);
  return lines.join('\n');
}

/** Opens a file in the browser: $BROWSER, else the platform's opener (xdg-open, open, start). */
async function openInBrowser(path: string, configured: string | undefined): Promise<void> {
  const browser = configured?.trim();
  const [cmd, args] = browser
    ? [browser, [path]]
    : process.platform === 'darwin'
      ? ['open', [path]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', path]]
        : ['xdg-open', [path]];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', (err) => reject(new Error(`could not start ${cmd} to open ${path}: ${err.message}; open it yourself or set BROWSER`)));
    child.on('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

export async function reportCommand(id: string | undefined, opts: ArchiveCommandOptions, io: CliIo): Promise<number> {
  const { rt, ref, deps } = setup(id, opts, io);
  const top = opts.top === undefined ? 10 : Number(opts.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer, not ${JSON.stringify(opts.top)}`);
  if (opts.open) {
    const loaded = await loadSummary({ ...deps, ref }, 'html');
    const location = loaded.summary.links.report;
    let path: string;
    if (location.startsWith('file://')) path = fileURLToPath(location);
    else {
      // An OSS object: a local copy (the report is self-contained, it needs nothing else).
      path = join(await mkdtemp(join(tmpdir(), 'execution-archive-report-')), `${ref.id}.html`);
      await writeFile(path, loaded.body);
    }
    await openInBrowser(path, rt.config.browser);
    println(io.stdout, opts.json ? JSON.stringify({ opened: path, report: location }) : `opened ${path}`);
    return EXIT.ok;
  }
  const { summary } = await loadSummary({ ...deps, ref }, 'json');
  const columns = (io.stdout as NodeJS.WriteStream).columns;
  println(io.stdout, opts.json ? JSON.stringify(summary, null, 2) : summaryTable(summary, top, columns && columns > 60 ? columns : 120));
  return EXIT.ok;
}

/** What verify found about one object. */
export interface ObjectCheck {
  key: string;
  ok: boolean;
  expected: { bytes: number; sha256: string; records: number };
  actual: { bytes: number; sha256: string; records: number } | null;
  problems: string[];
}

/** Streams one object: its size and SHA-256 as stored, and its NDJSON lines after gunzip. */
async function measure(store: ObjectStore, entry: ObjectEntry): Promise<ObjectCheck> {
  const expected = { bytes: entry.bytes, sha256: entry.sha256, records: entry.records };
  const stream = await store.getStream(entry.key);
  if (!stream) return { key: entry.key, ok: false, expected, actual: null, problems: ['missing'] };
  const hash = createHash('sha256');
  let bytes = 0;
  let records = 0;
  let last = 0x0a;
  const gunzip = createGunzip();
  const counted = new Promise<void>((resolve, reject) => {
    gunzip.on('data', (chunk: Buffer) => {
      for (const b of chunk) if (b === 0x0a) records++;
      last = chunk.at(-1) ?? last;
    });
    gunzip.on('end', resolve);
    gunzip.on('error', reject);
  });
  const problems: string[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once('drain', r));
    }
    gunzip.end();
    await counted;
    if (last !== 0x0a) records++;
  } catch (err) {
    problems.push(`not gzip NDJSON: ${(err as Error).message}`);
  }
  const actual = { bytes, sha256: hash.digest('hex'), records };
  if (actual.bytes !== expected.bytes) problems.push(`${fmt(actual.bytes)} bytes, manifest says ${fmt(expected.bytes)}`);
  if (actual.sha256 !== expected.sha256) problems.push(`sha256 ${actual.sha256.slice(0, 12)}…, manifest says ${expected.sha256.slice(0, 12)}…`);
  if (problems.length === 0 && actual.records !== expected.records) problems.push(`${fmt(actual.records)} records, manifest says ${fmt(expected.records)}`);
  return { key: entry.key, ok: problems.length === 0, expected, actual, problems };
}

export async function verifyCommand(id: string | undefined, opts: ArchiveCommandOptions, io: CliIo): Promise<number> {
  const { rt, ref } = setup(id, opts, io);
  const manifest = await readManifest(rt.store, ref);
  if (!manifest?.complete) {
    throw new InputError('ArchiveNotFound', `no complete archive of ${ref.source} ${ref.id} in ${ref.regionId} at ${rt.store.url} (no manifest.json saying complete)`, 404);
  }
  const checks: ObjectCheck[] = [];
  for (const entry of [...manifest.parts, ...manifest.related]) {
    const check = await measure(rt.store, entry);
    checks.push(check);
    if (!opts.json && !opts.quiet) println(io.stderr, `${check.ok ? 'ok      ' : 'MISMATCH'} ${entry.key}${check.ok ? ` (${fmt(entry.records)} records, ${fmt(entry.bytes)} bytes)` : `: ${check.problems.join('; ')}`}`);
  }
  const partRecords = checks.slice(0, manifest.parts.length).reduce((n, c) => n + (c.actual?.records ?? 0), 0);
  const problems = checks.filter((c) => !c.ok).map((c) => `${c.key}: ${c.problems.join('; ')}`);
  if (partRecords !== manifest.records && problems.length === 0) problems.push(`the parts hold ${fmt(partRecords)} records, the manifest says ${fmt(manifest.records)}`);
  const ok = problems.length === 0;
  if (opts.json) println(io.stdout, JSON.stringify({ archive: ref, location: rt.store.locate(`${ref.source}/${ref.regionId}/${ref.id}/manifest.json`), ok, records: manifest.records, objects: checks }, null, 2));
  else if (ok) println(io.stdout, `${ref.source} ${ref.id}: verified ${manifest.parts.length + manifest.related.length} objects, ${fmt(manifest.records)} records match the manifest`);
  else {
    println(io.stdout, `${ref.source} ${ref.id}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    for (const p of problems) println(io.stdout, `  ${p}`);
  }
  return ok ? EXIT.ok : EXIT.failure;
}
