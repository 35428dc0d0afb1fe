/**
 * `report.html`: one self-contained page (inline CSS, inline SVG, one inline script; no fonts, images or requests)
 * that works offline, from `file://` and when opened from OSS.
 *
 * The page's script and styles are written as source files (lib/summary/render/report/client.ts, report.css);
 * scripts/report-assets.ts compiles them into report-assets.generated.ts, whose text is inlined here as is.
 *
 * Safety: every piece of data is HTML-escaped; the data the script needs sits in a
 * `<script type="application/json">` block with every `<` written as `\u003c`; and the page carries a
 * Content-Security-Policy that allows only its own script and its own stylesheet (each by the hash of the text
 * inlined), no style attributes and no network at all, so even a mistake in escaping could not run an injected
 * script or send anything anywhere.
 */
import { createHash } from 'node:crypto';
import { showBidiControls } from '../../causes/secrets';
import { archiveDir, reportPageKey, type ArchiveRef } from '../../archive/layout';
import type { ObjectStore } from '../../archive/store';
import { storeTextObject, TextObjectWriter } from '../../archive/writer';
import { sampleBudgets, type FailureGroup } from '../aggregate';
import type { InstancePages } from '../lists';
import { formatCount, formatPercent, formatSeconds, groupLabel, headline, subjectLine } from './markdown';
import { REPORT_CSS, REPORT_SCRIPT } from './report-assets.generated';
import type { ReportData } from './report/data';
import type { Summary, Timeline } from '../summary';

/** Instance ids rendered into each group's `<details>`; the script adds the rest when the group is opened. */
const IDS_PER_GROUP_HTML = 300;
/** Retry ids rendered into the page; the copy button copies all of them. */
const RETRY_IDS_HTML = 1000;

/**
 * Escapes text for HTML content and quoted attribute values; control characters but tab and newline are dropped,
 * bidirectional controls shown as `\u202e` escapes (never obeyed).
 */
export function escapeHtml(value: string | number): string {
  return showBidiControls(String(value))
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The start of every page the product writes, up to its `<body>`: the document type, the character set, the page's
 * Content-Security-Policy, the viewport, no referrer, its title (escaped here) and its inline stylesheet.
 */
export function pageHead(csp: string, title: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body>`;
}

/** JSON safe to place inside `<script type="application/json">`: no `<` (so no `</script>` or `<!--`), no U+2028/9. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const STATUS_COLORS: Record<string, string> = {
  Success: '#1a7f37',
  Failed: '#cf222e',
  Error: '#a40e26',
  Timeout: '#bc4c00',
  Invalid: '#9a6700',
  Aborted: '#8250df',
  Cancelled: '#6e7781',
  Terminated: '#6639ba',
  Skipped: '#8c959f',
  Running: '#0969da',
  Pending: '#54aeff',
  Scheduled: '#218bff',
  Stopping: '#57606a',
  Waiting: '#0550ae',
  Queued: '#80ccff',
  Started: '#033d8b',
};
const FALLBACK_COLORS = ['#953800', '#7d4e00', '#4d2d00', '#bf3989', '#99286e', '#3e1f79'];
/** The timeline's bars: finished OK, failed. */
const TIMELINE_OK = '#2da44e';
const TIMELINE_FAILED = '#cf222e';

/** The colour of a status in every chart (unknown statuses get a stable colour from a fallback palette). */
export function statusColor(status: string): string {
  const known = STATUS_COLORS[status];
  if (known) return known;
  let h = 0;
  for (const c of status) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return FALLBACK_COLORS[h % FALLBACK_COLORS.length] ?? '#953800';
}

/**
 * The class that gives an element a colour (`--c`, which chips and swatches paint with). The policy allows no
 * style attribute, so each colour of the palette is a rule of the page's one stylesheet.
 */
function tone(color: string): string {
  return `tone-${color.slice(1)}`;
}

/** The tone of a status: {@link statusColor} as a class. */
export function statusTone(status: string): string {
  return tone(statusColor(status));
}

const PALETTE = [...new Set([...Object.values(STATUS_COLORS), ...FALLBACK_COLORS, TIMELINE_OK, TIMELINE_FAILED])];
/** The page's stylesheet as inlined: report.css (minified) and one rule per colour. */
const STYLE = REPORT_CSS + PALETTE.map((color) => `.${tone(color)}{--c:${color}}`).join('');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * The page's Content-Security-Policy (its `<meta>`, and the header the HTTP trigger sends): its own script and
 * stylesheet only, each by the hash of the exact text inlined; nothing else, no network.
 */
export const REPORT_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(REPORT_SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function statusBreakdown(s: Summary): string {
  const entries = Object.entries(s.byStatus);
  if (entries.length === 0) return '<p class="empty">No records.</p>';
  let x = 0;
  const rects = entries
    .map(([status, n]) => {
      const w = (n / s.total) * 1000;
      const box = `x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="28" fill="${statusColor(status)}"`;
      x += w;
      return `<rect ${box}><title>${escapeHtml(status || '(none)')}: ${formatCount(n)}</title></rect>`;
    })
    .join('');
  const label = entries.map(([k, n]) => `${k || '(none)'} ${formatCount(n)}`).join(', ');
  const legend = entries
    .map(([status, n]) =>
      [
        `<li><span class="sw ${statusTone(status)}"></span>${escapeHtml(status || '(none)')} `,
        `<span class="n">${formatCount(n)}</span> <span class="p">${formatPercent(n / s.total)}</span></li>`,
      ].join(''),
    )
    .join('');
  const svg = '<svg class="stack" viewBox="0 0 1000 28" preserveAspectRatio="none" role="img"';
  return `${svg} aria-label="Records by status: ${escapeHtml(label)}">${rects}</svg><ul class="legend">${legend}</ul>`;
}

function timeLabel(iso: string, withDate: boolean): string {
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, iso.endsWith(':00.000Z') ? 16 : 19);
}

function bucketLabel(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${seconds / 60} min`;
  if (seconds < 86_400) return `${seconds / 3600} h`;
  return `${seconds / 86_400} d`;
}

/** An SVG rectangle of the timeline, its numbers rounded to one decimal. */
function bar(x: string, top: number, width: number, height: number, fill: string): string {
  const [y, w, h] = [top, width, height].map((v) => v.toFixed(1));
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}"/>`;
}

function timelineSvg(t: Timeline): string {
  const W = 960;
  const H = 200;
  const left = 44;
  const right = 8;
  const top = 10;
  const bottom = 26;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = Math.max(1, ...t.buckets.map((b) => b.finished));
  const n = t.buckets.length;
  const slot = plotW / n;
  const barW = Math.max(1, slot * 0.78);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const spanDays = (Date.parse(t.end) - Date.parse(t.start)) / 86_400_000;
  const withDate = spanDays >= 1 || t.start.slice(0, 10) !== t.end.slice(0, 10);
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac);
    const yy = y(v).toFixed(1);
    parts.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text x="${left - 6}" y="${(Number(yy) + 4).toFixed(1)}" text-anchor="end">${formatCount(v)}</text>`);
  }
  t.buckets.forEach((b, i) => {
    if (b.finished === 0) return;
    const x = (left + i * slot + (slot - barW) / 2).toFixed(1);
    const ok = b.finished - b.failed;
    const when = escapeHtml(timeLabel(b.start, withDate));
    const counts = `${formatCount(b.finished)} finished, ${formatCount(b.failed)} failed`;
    parts.push(`<g class="bucket"><title>${when} UTC: ${counts}</title>`);
    if (ok > 0) parts.push(bar(x, y(b.finished), barW, y(b.failed) - y(b.finished), TIMELINE_OK));
    if (b.failed > 0) parts.push(bar(x, y(b.failed), barW, top + plotH - y(b.failed), TIMELINE_FAILED));
    parts.push('</g>');
  });
  const ticks = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of ticks) {
    const b = t.buckets[i];
    if (!b) continue;
    const x = left + i * slot + slot / 2;
    const anchor = i === 0 && n > 1 ? 'start' : i === n - 1 && n > 1 ? 'end' : 'middle';
    const tx = anchor === 'start' ? left : anchor === 'end' ? W - right : x;
    const label = escapeHtml(timeLabel(b.start, withDate));
    parts.push(`<text x="${tx.toFixed(1)}" y="${H - 8}" text-anchor="${anchor}">${label}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#afb8c1"/>`);
  const total = t.buckets.reduce((a, b) => a + b.finished, 0);
  const failed = t.buckets.reduce((a, b) => a + b.failed, 0);
  const buckets = `${n} bucket${n === 1 ? '' : 's'} of ${bucketLabel(t.bucketSeconds)}`;
  const aria = [
    `Finishes over time from ${t.start} to ${t.end}: `,
    `${formatCount(total)} records, ${formatCount(failed)} failed, in ${n} buckets of ${bucketLabel(t.bucketSeconds)}`,
  ].join('');
  const svg = `<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(aria)}">`;
  const key = [
    `<span class="sw ${tone(TIMELINE_OK)}"></span> finished OK &nbsp; `,
    `<span class="sw ${tone(TIMELINE_FAILED)}"></span> failed &nbsp;·&nbsp; ${buckets} · times in UTC`,
  ].join('');
  return `<div class="chartwrap">${svg}${parts.join('')}</svg></div>\n<p class="axisnote">${key}</p>`;
}

/**
 * The link from report.html (in the archive's folder) to another object of the archive: its key relative to the
 * folder, so the link works from OSS, from the HTTP trigger's folder view and from a copied folder alike.
 */
function hrefOf(s: Pick<Summary, 'source' | 'regionId' | 'id'>, key: string): string {
  const dir = `${archiveDir(s)}/`;
  const relative = key.startsWith(dir) ? key.slice(dir.length) : key;
  return relative.split('/').map(encodeURIComponent).join('/');
}

/** An example's text, escaped, its error line (0-based `line`) in a `<mark class="error-line">`. */
function exampleHtml(text: string, line: number | null): string {
  if (!text) return '(no output)';
  const lines = text.split('\n');
  if (line === null || line < 0 || line >= lines.length) return escapeHtml(text);
  return lines.map((l, i) => (i === line ? `<mark class="error-line">${escapeHtml(l)}</mark>` : escapeHtml(l))).join('\n');
}

function groupHtml(g: FailureGroup, index: number, maxCount: number, s: Summary): string {
  const width = Math.max(0.5, (g.count / maxCount) * 100).toFixed(2);
  const color = statusColor(g.status);
  const labels = [`<span class="chip ${tone(color)}">${escapeHtml(g.status || '(none)')}</span>`];
  if (g.exitCode !== null) labels.push(`<span class="tag">exit ${escapeHtml(g.exitCode)}</span>`);
  if (g.errorCode) labels.push(`<span class="tag">${escapeHtml(g.errorCode)}</span>`);
  const shownIds = g.resourceIds.slice(0, IDS_PER_GROUP_HTML);
  const more = g.resourceIds.length - shownIds.length;
  const sig = escapeHtml(g.title || g.signature || '(no error text)');
  const what = `<span class="labels">${labels.join('')}</span><span class="sig">${sig}</span>`;
  const barSvg = [
    '<svg class="bar" viewBox="0 0 100 14" preserveAspectRatio="none" aria-hidden="true">',
    '<rect class="track" x="0" y="0" width="100" height="14" rx="2"/>',
    `<rect x="0" y="0" width="${width}" height="14" rx="2" fill="${color}"/></svg>`,
  ].join('');
  const count = `<span class="count"><b>${formatCount(g.count)}</b><span>${formatPercent(g.share)}</span></span>`;
  const example = [
    `<h3>Signature</h3><p class="fullsig">${escapeHtml(g.signature || '(no error text)')}</p>`,
    `<h3>Example <span class="mono">${escapeHtml(g.example.id)}</span></h3>`,
    `<pre class="example-text">${exampleHtml(g.example.text, g.example.line ?? null)}</pre>`,
  ].join('');
  const resources = g.resourceCount ?? g.resourceIds.length;
  const affected = `${formatCount(resources)} affected instance${resources === 1 ? '' : 's'}`;
  const buttons = [
    `<button type="button" data-copy="${index}">Copy</button> `,
    `<button type="button" data-filter-group="${index}">Show in table</button>`,
  ].join('');
  const instances = [
    `<h3>${affected} ${buttons}</h3>`,
    `<pre class="ids" data-group="${index}" data-complete="${more > 0 ? 'false' : 'true'}">`,
    `${escapeHtml(shownIds.join('\n'))}</pre>`,
    more > 0 ? `<p class="more">and ${formatCount(more)} more (shown when JavaScript runs; all are in retry.txt)</p>` : '',
    g.resourceIdsKey
      ? `<p class="more">The first ${formatCount(g.resourceIds.length)} are listed here; all ${formatCount(resources)} are in <a href="${escapeHtml(hrefOf(s, g.resourceIdsKey))}">${escapeHtml(hrefOf(s, g.resourceIdsKey))}</a>.</p>`
      : '',
  ].join('');
  return `<details class="group" id="group-${escapeHtml(g.key)}">
<summary><span class="rank">${index + 1}</span><span class="what">${what}</span>${barSvg}${count}</summary>
<div class="gbody">
<div class="example">${example}</div>
<div class="instances">${instances}</div>
</div>
</details>`;
}

function card(kind: string, key: string, value: string, sub = ''): string {
  const note = sub ? `<div class="s">${sub}</div>` : '';
  return `<li class="card ${kind}"><div class="k">${escapeHtml(key)}</div><div class="v">${value}</div>${note}</li>`;
}

/** What the script reads from the page's JSON block (lib/summary/render/report/data.ts). */
function reportData(s: Summary): ReportData {
  return {
    groups: s.groups.map((g) => ({
      key: g.key,
      status: g.status || '(none)',
      label: groupLabel(g),
      title: g.title || g.signature,
      signature: g.signature,
      tone: statusTone(g.status),
      ids: g.resourceIds,
      errors: g.instanceErrors.map((e): [string, string] => [e.id, e.error]),
    })),
    retry: s.retry.ids,
  };
}

function cardsHtml(s: Summary): string {
  const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
  const cut = s.truncatedOutputs;
  return [
    card('info', 'Records', formatCount(s.total), plural(s.manifest.parts, 'part')),
    card(s.failures > 0 ? 'bad' : 'plain', 'Failed', formatCount(s.failures), `${formatPercent(s.failureRatio)} of records`),
    card('good', 'Succeeded', formatCount(s.succeeded), s.total ? formatPercent(s.succeeded / s.total) : ''),
    card(
      'plain',
      'Causes',
      formatCount(s.groups.length),
      s.groups.length ? `largest ${formatPercent(s.groups[0]?.share ?? 0)}` : 'no failures',
    ),
    card(
      s.unfinished > 0 ? 'warn' : 'plain',
      'Unfinished',
      formatCount(s.unfinished),
      s.skipped > 0 ? `${formatCount(s.skipped)} skipped` : 'still running or queued',
    ),
    card(
      cut.count > 0 ? 'warn' : 'plain',
      'Truncated outputs',
      formatCount(cut.count),
      cut.count ? `${formatCount(cut.bytesDropped)} bytes dropped` : 'none cut by the API',
    ),
  ].join('');
}

function durationsHtml(s: Summary): string {
  if (!s.durations) return '<p class="empty">No start and end times in this archive.</p>';
  const d = s.durations;
  const item = (k: string, v: string) => `<li><div class="k">${k}</div><div class="v">${v}</div></li>`;
  const items = [
    item('p50', formatSeconds(d.p50)),
    item('p90', formatSeconds(d.p90)),
    item('max', formatSeconds(d.max)),
    item('measured', formatCount(d.count)),
  ];
  const basis =
    d.basis === 'records'
      ? 'StartTime → FinishedTime of each record'
      : 'StartDate → EndDate of the failed child executions';
  return `<ul class="durations">${items.join('')}</ul><p class="axisnote">${basis}</p>`;
}

/** Links to the pages of every failed instance (when the summary holds only the first ids of some cause). */
function pagesHtml(s: Summary, pages: number): string {
  if (pages === 0) return '';
  const links = Array.from({ length: pages }, (_, i) => `<a href="${escapeHtml(hrefOf(s, reportPageKey(s, i + 1)))}">${i + 1}</a>`).join(' ');
  return [
    '<p class="note">The table holds the first instances of each cause (the ones this page carries). ',
    `Every failed instance, in archive order, is on ${formatCount(pages)} page${pages === 1 ? '' : 's'} next to this report `,
    `(they open offline from a copy of the archive's folder too): ${links}</p>`,
  ].join('');
}

function instancesHtml(s: Summary, pages: number): string {
  if (s.failures === 0) return '<p class="empty">No failed instances.</p>';
  const options = s.groups
    .map((g, i) => `<option value="${i}">#${i + 1} ${escapeHtml(groupLabel(g))} (${formatCount(g.count)})</option>`)
    .join('');
  const search = [
    '<div class="field"><label for="q">Search failed instances</label>',
    '<input id="q" type="search" placeholder="Instance id, status or error text" autocomplete="off" spellcheck="false">',
    '</div>',
  ].join('');
  const causes = [
    '<div class="field"><label for="cause">Cause</label>',
    `<select id="cause"><option value="">All causes</option>${options}</select></div>`,
  ].join('');
  const head = ['Instance', 'Status', 'Cause', 'Error']
    .map((h) => `<th scope="col"${h === 'Cause' ? ' class="num"' : ''}>${h}</th>`)
    .join('');
  return [
    pagesHtml(s, pages),
    `<div class="filters">${search}${causes}<span id="instances-count" role="status" aria-live="polite"></span></div>`,
    '<div class="tablewrap"><table><caption class="vh">Failed instances</caption>'
      + `<thead><tr>${head}</tr></thead><tbody id="instances-body"></tbody></table></div>`,
    '<noscript><p class="empty">The searchable table needs JavaScript; '
      + 'the instance lists of each cause above work without it.</p></noscript>',
  ].filter(Boolean).join('\n');
}

function retryHtml(s: Summary): string {
  if (s.retry.count === 0) return '<p class="empty">Nothing to re-run.</p>';
  const ids = s.retry.ids.slice(0, RETRY_IDS_HTML);
  const apiJson = JSON.stringify(s.retry.runCommand ?? s.retry.startExecution ?? {}, null, 2);
  const resources = `<b>${formatCount(s.retry.count)}</b> resource${s.retry.count === 1 ? '' : 's'}`;
  const head = [
    `<div class="retryhead"><span>${resources} to re-run (also in <span class="mono">retry.txt</span>)</span>`,
    '<button type="button" data-copy="retry">Copy all ids</button></div>',
  ].join('');
  const rest = s.retry.count - ids.length;
  const copies = s.retry.idsKey
    ? `"Copy all ids" copies the first ${formatCount(s.retry.ids.length)}; every one is in <a href="${escapeHtml(hrefOf(s, s.retry.idsKey))}">retry.txt</a>.`
    : '"Copy all ids" copies every one.';
  const more = rest > 0 ? `<p class="more">and ${formatCount(rest)} more; ${copies}</p>` : '';
  const api = s.source === 'ecs' ? 'RunCommand / InvokeCommand parameters' : 'StartExecution parameters';
  return [
    `${head}<pre class="ids">${escapeHtml(ids.join('\n'))}</pre>${more}`,
    `<details class="api"><summary>${api}</summary><pre>${escapeHtml(apiJson)}</pre></details>`,
  ].join('\n');
}

function truncationNote(s: Summary): string {
  const cut = s.truncatedOutputs;
  const full = s.fullOutputs;
  if (cut.count === 0 && !full?.items.length) return '';
  if (!full) {
    const ids = cut.ids.slice(0, 20).map((id) => `<span class="mono nowrap">${escapeHtml(id)}</span>`);
    return [
      `<p class="note"><b>${formatCount(cut.count)} output${cut.count === 1 ? ' was' : 's were'} truncated</b> `,
      `by the API (${formatCount(cut.bytesDropped)} bytes dropped): `,
      'their last lines, where errors usually are, may be missing (Cloud Assistant\'s OSS output delivery is not read: see OUTPUT_DELIVERY_ALLOW). ',
      `Instances: ${ids.join(', ')}${cut.ids.length > 20 ? ', …' : ''}</p>`,
    ].join('');
  }
  const c = full.counts;
  const still = c.pending + c.failed + c.refused + c.unreadable + c['not-delivered'];
  const rows = full.items.slice(0, FULL_OUTPUT_ROWS).map((item) => {
    const where = item.href
      ? `<a class="mono" href="${escapeHtml(item.href)}">${escapeHtml(item.href)}</a>${item.omittedBytes ? ` (its first ${formatCount(item.omittedBytes)} bytes not kept)` : ''}`
      : escapeHtml(item.reason ?? '');
    return `<tr><td class="mono nowrap">${escapeHtml(item.id)}</td><td>${escapeHtml(item.run)}</td><td>${escapeHtml(item.status)}</td><td>${formatCount(item.dropped)}</td><td>${escapeHtml(item.state)}</td><td>${where}</td></tr>`;
  });
  const listed = full.items.length;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  return [
    `<p class="note"><b>${formatCount(cut.count)} output${cut.count === 1 ? ' was' : 's were'} truncated by the API</b> (${formatCount(cut.bytesDropped)} bytes dropped). `,
    `${formatCount(c.stored)} full output${c.stored === 1 ? ' is' : 's are'} in the archive (the causes above are mined from them); `,
    still === 0 ? 'none is still cut.' : `${formatCount(still)} ${still === 1 ? 'is' : 'are'} still cut: ${formatCount(c.pending)} pending, ${formatCount(c.failed)} failed delivery, ${formatCount(c.refused)} refused, ${formatCount(c.unreadable)} unreadable, ${formatCount(c['not-delivered'])} not delivered.`,
    '</p>',
    `<details class="api"><summary>Full outputs (${formatCount(Math.min(listed, FULL_OUTPUT_ROWS))} of ${formatCount(total)})</summary>`,
    '<table class="instances"><thead><tr><th>Instance</th><th>Run</th><th>Status</th><th>Dropped</th><th>Full output</th><th>Where / why still cut</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table></details>`,
  ].join('');
}

/** Rows of the full-outputs table in the report (summary.json lists more). */
const FULL_OUTPUT_ROWS = 200;

/** A panel of the page: its heading, a line under it, the content. */
function panel(id: string, heading: string, sub: string, content: string, sectionId = ''): string {
  const attrs = `aria-labelledby="h-${id}"${sectionId ? ` id="${sectionId}"` : ''}`;
  const top = `<h2 id="h-${id}">${heading}</h2><p class="sub">${sub}</p>`;
  return `<section class="panel" ${attrs}>${top}${content}</section>`;
}

/**
 * Renders `report.html` for a summary.
 * @example await store.put(reportKey(ref), renderReportHtml(summary), { contentType: 'text/html; charset=utf-8' });
 */
export function renderReportHtml(s: Summary, options: { pages?: number } = {}): string {
  const maxCount = Math.max(1, ...s.groups.map((g) => g.count));
  const verdictClass = s.failures > 0 ? 'bad' : s.total > 0 ? 'good' : '';
  const kind = s.source === 'oos' ? 'OOS execution' : 'Cloud Assistant invocation';
  const title = `${s.failures > 0 ? `${formatCount(s.failures)} failed` : 'No failures'} · ${s.id}`;

  const meta = [
    s.subject.name ? `<li>${s.source === 'oos' ? 'Template' : 'Command'} <b>${escapeHtml(s.subject.name)}</b></li>` : '',
    s.subject.status ? `<li>Status <b>${escapeHtml(s.subject.status)}</b></li>` : '',
    `<li>Region <b>${escapeHtml(s.regionId)}</b></li>`,
    `<li>Archived <b>${escapeHtml(s.manifest.finishedAt)}</b></li>`,
    `<li>Report computed <b>${escapeHtml(s.generatedAt)}</b></li>`,
  ].join('');

  const groupsSection =
    s.groups.length > 0
      ? `<div class="groups">${s.groups.map((g, i) => groupHtml(g, i, maxCount, s)).join('\n')}</div>`
      : '<p class="empty">No failures: nothing to group.</p>';
  const statusField = `<span class="mono">${s.source === 'oos' ? 'Status' : 'InvocationStatus'}</span>`;
  const causesSub = [
    'Failures grouped by status, exit code, error code and the error text with instance-specific details ',
    '(ids, addresses, numbers, times) masked. Open a cause for an example and its instances.',
  ].join('');
  const instancesSub = 'Filter by instance id, status, cause number or error text.';
  const timeline = s.timeline ? timelineSvg(s.timeline) : '<p class="empty">No finish times in this archive.</p>';
  const from = `<span class="mono">${escapeHtml(s.manifest.key)}</span> (${formatCount(s.manifest.records)} records)`;

  return `${pageHead(REPORT_CSP, title, STYLE)}
<header class="top"><div class="wrap">
<p class="eyebrow">${escapeHtml(kind)} report</p>
<h1>${escapeHtml(s.subject.name ?? kind)} <span class="id">${escapeHtml(s.id)}</span></h1>
<p class="verdict ${verdictClass}" id="headline">${escapeHtml(headline(s))}</p>
<ul class="meta">${meta}</ul>
</div></header>
<main class="wrap">
<ul class="cards" id="numbers">${cardsHtml(s)}</ul>
${truncationNote(s)}
<div class="grid2">
${panel('status', 'Status breakdown', `Every record of the archive by its ${statusField}.`, statusBreakdown(s))}
${panel('dur', 'Durations', 'How long each run took.', durationsHtml(s))}
</div>
${panel('groups', 'Failure causes', causesSub, groupsSection, 'causes')}
${panel('time', 'Finishes over time', 'When records reached their final status.', timeline)}
${panel('inst', 'Failed instances', instancesSub, instancesHtml(s, options.pages ?? 0), 'instances')}
${panel('retry', 'Retry', 'The failed resources, ready to re-run.', retryHtml(s), 'retry')}
<footer>Computed from ${from} · ${escapeHtml(subjectLine(s))}</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(reportData(s))}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

/** Rows of one page of failed instances. */
export const INSTANCES_PER_PAGE = 5_000;
/** The pages' policy: the report's stylesheet, nothing else (no script, no network). */
const PAGE_CSP = ["default-src 'none'", `style-src 'sha256-${sha256(STYLE)}'`, "base-uri 'none'", "form-action 'none'"].join('; ');

/**
 * The pages of every failed instance, `report/instances-00001.html`, … : static tables (no script), 5,000 rows a
 * page, in archive order, each row the instance, its status and its cause; linked from report.html and from one to
 * the next, so they work offline from a copied folder. Written while the aggregation reads its lists back, and only
 * when report.html cannot carry every failed instance (some cause has more records than its sample in summary.json).
 */
export function createInstancePages(store: ObjectStore, ref: ArchiveRef, title: string): InstancePages {
  let groups: readonly FailureGroup[] = [];
  let page = 0;
  let rows = 0;
  let writer: TextObjectWriter | undefined;
  // The page being stored (one at a time: each holds its spool's file until stored), not awaited by the rows that
  // follow it: the last page's store is stored()'s, so a summary is rendered while it is written.
  let storing: Promise<void> = Promise.resolve();
  // Only when report.html cannot carry every failed instance: some cause has more records than its sample holds.
  let needed = false;
  const href = (n: number) => `instances-${String(n).padStart(5, '0')}.html`;

  const open = async () => {
    page += 1;
    rows = 0;
    writer = new TextObjectWriter();
    const nav = `<a href="../report.html">Report</a>${page > 1 ? ` · <a href="${href(page - 1)}">Page ${page - 1}</a>` : ''}`;
    await writer.write(`${pageHead(PAGE_CSP, `Failed instances, page ${page} · ${title}`, STYLE)}
<main class="wrap">
<p class="eyebrow">${nav}</p>
<h1>Failed instances, page ${page} <span class="id">${escapeHtml(title)}</span></h1>
<div class="tablewrap"><table><thead><tr><th scope="col">Instance</th><th scope="col">Status</th><th scope="col" class="num">Cause</th><th scope="col">What failed</th></tr></thead><tbody>
`);
  };

  const close = async (next: boolean) => {
    if (!writer) return;
    const nav = next ? `<p><a href="${href(page + 1)}">Page ${page + 1}</a></p>` : '<p>Last page.</p>';
    await writer.write(`</tbody></table></div>\n${nav}\n</main>\n</body>\n</html>\n`);
    const done = writer;
    writer = undefined;
    await storing;
    storing = storeTextObject(store, reportPageKey(ref, page), done, 'text/html; charset=utf-8').then(() => undefined);
    storing.catch(() => undefined);
  };

  return {
    start(final) {
      groups = final;
      const counts = final.map((g) => g.count);
      needed = sampleBudgets(counts).some((budget, i) => (counts[i] ?? 0) > budget);
    },
    row(cause, id) {
      return needed ? writeRow(cause, id) : undefined;
    },
    async end() {
      await close(false);
      return page;
    },
    stored() {
      return storing;
    },
    async discard() {
      await writer?.discard();
      writer = undefined;
      await storing.catch(() => undefined);
    },
  };

  async function writeRow(cause: number, id: string): Promise<void> {
    if (writer && rows >= INSTANCES_PER_PAGE) await close(true);
    if (!writer) await open();
    rows += 1;
    const g = groups[cause];
    const status = g?.status || '(none)';
    const chip = `<span class="chip ${statusTone(g?.status ?? '')}">${escapeHtml(status)}</span>`;
    const what = escapeHtml(g ? g.title || g.signature || '(no error text)' : '');
    await writer?.write(`<tr><td class="mono id">${escapeHtml(id)}</td><td>${chip}</td><td class="num"><a href="../report.html#group-${escapeHtml(g?.key ?? '')}">#${cause + 1}</a></td><td class="sig mono">${what}</td></tr>\n`);
  }
}
