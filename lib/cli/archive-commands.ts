/**
 * The commands that read an archive: `summarize` (the summarize function's invocation), `report` (the summary as a
 * table, or the HTML report in a browser) and `verify` (every object re-read against the manifest).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArchiveRef } from '../archive/layout';
import { verifyArchive, type ObjectCheck, type Verdict } from '../archive/verify';
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
export async function openInBrowser(path: string, configured: string | undefined): Promise<void> {
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
      await writeFile(path, await loaded.read());
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

/** The exit code of a verification: intact 0, damaged 1, could not be read 4. */
export function verifyExitCode(verdict: Verdict): number {
  return verdict === 'intact' ? EXIT.ok : verdict === 'damaged' ? EXIT.failure : EXIT.unreadable;
}

/** One object's line: `ok` with its figures, or `DAMAGED` with every problem found. */
export function objectLine(check: ObjectCheck): string {
  if (!check.ok) return `DAMAGED  ${check.key}: ${check.problems.map((p) => p.message).join('; ')}`;
  const records = check.actual?.records === undefined ? '' : `${fmt(check.actual.records)} records, `;
  return `ok       ${check.key} (${records}${fmt(check.actual?.bytes ?? 0)} bytes)`;
}

/**
 * `verify`: every object the manifest lists on its own line (as it is read), the manifest's own problems, the objects
 * the manifest does not list as warnings, then the verdict; `--json` prints the report as one document instead.
 * The exit code is the verdict's ({@link verifyExitCode}); the checks are lib/archive/verify.ts, as the functions'.
 */
export async function verifyCommand(id: string | undefined, opts: ArchiveCommandOptions, io: CliIo): Promise<number> {
  const { rt, ref } = setup(id, opts, io);
  const print = !opts.json;
  const report = await verifyArchive(rt.store, ref, {
    onObject: (check) => {
      if (print && (!check.ok || !opts.quiet)) println(io.stdout, objectLine(check));
    },
  });
  if (opts.json) {
    println(io.stdout, JSON.stringify(report, null, 2));
    return verifyExitCode(report.verdict);
  }
  for (const problem of report.manifestProblems) println(io.stdout, `DAMAGED  ${problem}`);
  for (const w of report.unlisted) println(io.stdout, `warning  ${w.key}: ${w.kind === 'stray' ? '' : `${w.kind.replace('-', ' ')}: `}${w.message}`);
  println(io.stdout, report.summary);
  return verifyExitCode(report.verdict);
}
