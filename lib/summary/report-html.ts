/**
 * `report.html`: one self-contained page (inline CSS, inline SVG, one inline script; no fonts, images or requests)
 * that works offline, from `file://` and when opened from OSS.
 *
 * Safety: every piece of data is HTML-escaped; the data the script needs sits in a
 * `<script type="application/json">` block with every `<` written as `\u003c`; and the page carries a
 * Content-Security-Policy that allows only its own script (by hash) and no network at all, so even a mistake in
 * escaping could not run an injected script or send anything anywhere.
 */
import { createHash } from 'node:crypto';
import type { FailureGroup } from './aggregate';
import { formatCount, formatPercent, formatSeconds, groupLabel, headline, subjectLine } from './markdown';
import type { Summary, Timeline } from './summary';

/** Instance ids rendered into each group's `<details>`; the script adds the rest when the group is opened. */
const IDS_PER_GROUP_HTML = 300;
/** Retry ids rendered into the page; the copy button copies all of them. */
const RETRY_IDS_HTML = 1000;

/** Escapes text for HTML content and quoted attribute values; control characters other than tab and newline are dropped. */
export function escapeHtml(value: string | number): string {
  return String(value)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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

/** The colour of a status in every chart (unknown statuses get a stable colour from a fallback palette). */
export function statusColor(status: string): string {
  const known = STATUS_COLORS[status];
  if (known) return known;
  let h = 0;
  for (const c of status) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return FALLBACK_COLORS[h % FALLBACK_COLORS.length] ?? '#953800';
}

// The page's script. It reads the JSON block, fills the failed-instance table (DOM + textContent only), filters it
// as the person types, completes long instance lists when a group is opened, and copies lists to the clipboard.
const SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var groups = data.groups;
  var rows = [];
  groups.forEach(function (g, gi) {
    g.search = ('#' + (gi + 1) + ' ' + g.status + ' ' + g.label + ' ' + g.title + ' ' + g.signature).toLowerCase();
    var own = Object.create(null);
    g.errors.forEach(function (e) { own[e[0]] = e[1]; });
    g.ids.forEach(function (id) {
      var error = own[id];
      rows.push([id, gi, error === undefined ? null : error, error === undefined ? '' : error.toLowerCase()]);
    });
  });
  var LIMIT = 500;
  var input = document.getElementById('q');
  var cause = document.getElementById('cause');
  var tbody = document.getElementById('instances-body');
  var count = document.getElementById('instances-count');
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function render() {
    if (!tbody) return;
    var q = input.value.trim().toLowerCase();
    var c = cause.value;
    var shown = 0, matched = 0;
    var frag = document.createDocumentFragment();
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], g = groups[r[1]];
      if (c !== '' && String(r[1]) !== c) continue;
      if (q && r[0].toLowerCase().indexOf(q) < 0 && g.search.indexOf(q) < 0 && r[3].indexOf(q) < 0) continue;
      matched++;
      if (shown >= LIMIT) continue;
      shown++;
      var tr = document.createElement('tr');
      cell(tr, r[0], 'mono id');
      var st = cell(tr, '', '');
      var chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = g.status;
      chip.style.setProperty('--c', g.color);
      st.appendChild(chip);
      cell(tr, '#' + (r[1] + 1), 'num');
      // The instance's own error line when the summary kept it; else the cause's title.
      var sig = cell(tr, r[2] !== null ? r[2] || '(no error text)' : g.title || '(no error text)', 'sig mono');
      sig.title = g.signature;
      frag.appendChild(tr);
    }
    tbody.textContent = '';
    tbody.appendChild(frag);
    count.textContent = matched === rows.length && !q && c === ''
      ? rows.length.toLocaleString('en-US') + ' failed instances' + (matched > shown ? ' (first ' + shown + ' shown; search to narrow)' : '')
      : matched.toLocaleString('en-US') + ' of ' + rows.length.toLocaleString('en-US') + ' match' + (matched > shown ? ' (first ' + shown + ' shown)' : '');
  }
  if (input && cause) {
    input.addEventListener('input', render);
    cause.addEventListener('change', render);
    render();
  }
  document.querySelectorAll('details.group').forEach(function (d) {
    d.addEventListener('toggle', function () {
      var list = d.querySelector('.ids[data-group]');
      if (!d.open || !list || list.getAttribute('data-complete') === 'true') return;
      list.textContent = groups[Number(list.getAttribute('data-group'))].ids.join('\n');
      list.setAttribute('data-complete', 'true');
      var more = d.querySelector('.more');
      if (more) more.remove();
    });
  });
  document.querySelectorAll('[data-filter-group]').forEach(function (b) {
    b.addEventListener('click', function () {
      cause.value = b.getAttribute('data-filter-group');
      input.value = '';
      render();
      document.getElementById('instances').scrollIntoView({ behavior: 'smooth' });
    });
  });
  function copy(text, button) {
    function done(ok) {
      var old = button.textContent;
      button.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(function () { button.textContent = old; }, 1500);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      var ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      ta.remove();
      done(ok);
    }
  }
  document.querySelectorAll('[data-copy]').forEach(function (b) {
    b.addEventListener('click', function () {
      var what = b.getAttribute('data-copy');
      var text = what === 'retry' ? data.retry.join('\n') : groups[Number(what)].ids.join('\n');
      copy(text, b);
    });
  });
})();`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

/** The page's Content-Security-Policy: its own script only (by hash), inline styles, no network. */
export const REPORT_CSP = `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;

const CSS = `
:root{--bg:#f6f8fa;--panel:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#eef1f4;--accent:#0969da;--bad:#cf222e;--good:#1a7f37;--warn:#9a6700;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif}
a{color:var(--accent)}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.wrap{max-width:1200px;margin:0 auto;padding:0 24px}
header.top{background:#fff;border-bottom:1px solid var(--line)}
header.top .wrap{padding-top:20px;padding-bottom:18px}
.eyebrow{font-size:12px;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:var(--muted);margin:0 0 4px}
h1{font-size:22px;line-height:1.3;margin:0 0 6px;word-break:break-word}
h1 .id{font-family:var(--mono);font-size:18px;font-weight:600;color:var(--muted)}
.verdict{font-size:16px;margin:0 0 10px}
.verdict.bad{color:var(--bad)} .verdict.good{color:var(--good)}
.meta{display:flex;flex-wrap:wrap;gap:6px 18px;margin:0;padding:0;list-style:none;color:var(--muted);font-size:13px}
.meta b{color:var(--fg);font-weight:600}
main.wrap{padding-top:20px;padding-bottom:40px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:0 0 20px;padding:0;list-style:none}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:28px;font-weight:650;line-height:1.2;margin-top:4px;font-variant-numeric:tabular-nums}
.card .s{font-size:12px;color:var(--muted);margin-top:2px}
.card.bad{border-top:3px solid var(--bad)} .card.bad .v{color:var(--bad)}
.card.good{border-top:3px solid var(--good)}
.card.info{border-top:3px solid var(--accent)}
.card.warn{border-top:3px solid var(--warn)}
.card.plain{border-top:3px solid #8c959f}
section.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:0 0 20px}
section.panel > h2{font-size:16px;margin:0 0 4px}
.sub{color:var(--muted);font-size:13px;margin:0 0 14px}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:20px;margin:0 0 20px}
.grid2 > section.panel{margin:0}
.stack{width:100%;height:28px;display:block;border-radius:6px;overflow:hidden}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:12px 0 0;padding:0;list-style:none;font-size:13px}
.legend li{display:flex;align-items:center;gap:6px}
.sw{width:10px;height:10px;border-radius:2px;display:inline-block;background:var(--c)}
.legend .n{font-variant-numeric:tabular-nums;font-weight:600}
.legend .p{color:var(--muted)}
.chip{display:inline-block;font-size:12px;font-weight:600;line-height:18px;padding:0 8px;border-radius:999px;color:var(--c);background:color-mix(in srgb,var(--c) 11%,#fff);border:1px solid color-mix(in srgb,var(--c) 35%,#fff);white-space:nowrap}
.tag{display:inline-block;font-family:var(--mono);font-size:12px;line-height:18px;padding:0 6px;border-radius:4px;background:var(--soft);color:var(--fg);white-space:nowrap}
.groups{display:flex;flex-direction:column;gap:8px}
details.group{border:1px solid var(--line);border-radius:8px;background:#fff}
details.group[open]{border-color:#afb8c1;box-shadow:0 1px 3px rgba(31,35,40,.08)}
details.group > summary{list-style:none;cursor:pointer;display:grid;grid-template-columns:32px minmax(0,1fr) minmax(140px,30%) 112px;gap:4px 14px;align-items:center;padding:10px 14px}
details.group > summary::-webkit-details-marker{display:none}
details.group > summary:hover{background:#f6f8fa}
.rank{font-weight:700;color:var(--muted);font-variant-numeric:tabular-nums}
.rank::before{content:"\\25B8";display:inline-block;margin-right:4px;transition:transform .15s;color:#8c959f}
details[open] .rank::before{transform:rotate(90deg)}
.what{min-width:0}
.what .labels{display:flex;flex-wrap:wrap;gap:4px;margin-bottom:3px}
.sig{font-family:var(--mono);font-size:12.5px;color:var(--fg);white-space:normal;overflow-wrap:anywhere}
span.sig{display:block}
.bar{display:block;width:100%;height:14px}
.bar .track{fill:var(--soft)}
.count{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.count b{font-size:15px}
.count span{color:var(--muted);font-size:12px;margin-left:6px}
.gbody{border-top:1px solid var(--line);padding:14px;display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
.gbody h3{font-size:13px;margin:0 0 6px;display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.gbody h3 .mono{font-weight:400;color:var(--muted)}
.fullsig{font-family:var(--mono);font-size:12.5px;background:var(--soft);border-radius:6px;padding:8px 10px;margin:0 0 12px;white-space:pre-wrap;word-break:break-word}
pre{margin:0;font-family:var(--mono);font-size:12.5px;line-height:1.45;background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;max-height:320px;white-space:pre-wrap;word-break:break-word}
pre.ids{max-height:240px;white-space:pre}
.more{color:var(--muted);font-size:12px;margin:6px 0 0}
button{font:inherit;font-size:12px;font-weight:600;color:var(--fg);background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:3px 10px;cursor:pointer}
button:hover{background:#eef1f4;border-color:#afb8c1}
.mono{font-family:var(--mono)}
.num{text-align:right;font-variant-numeric:tabular-nums}
.timeline{width:100%;height:auto;display:block}
.timeline text{font-size:11px;fill:var(--muted);font-family:inherit}
.timeline .grid{stroke:var(--soft)}
.axisnote{font-size:12px;color:var(--muted);margin:6px 0 0}
.durations{display:flex;gap:24px;flex-wrap:wrap;margin:0;padding:0;list-style:none}
.durations li{min-width:90px}
.durations .k{font-size:12px;color:var(--muted);font-weight:600}
.durations .v{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}
.filters{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:end;margin:0 0 12px}
.field{display:flex;flex-direction:column;gap:4px;font-size:12px;font-weight:600;color:var(--muted)}
.field input,.field select{font:inherit;font-size:14px;color:var(--fg);background:#fff;border:1px solid #afb8c1;border-radius:6px;padding:6px 10px;min-width:360px;max-width:100%}
.field select{min-width:220px}
#instances-count{font-size:13px;color:var(--muted);margin-left:auto}
.tablewrap{overflow:auto;max-height:560px;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:7px 12px;border-bottom:1px solid var(--soft);vertical-align:top}
th{position:sticky;top:0;background:#f6f8fa;font-size:12px;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);z-index:1}
tbody tr:hover{background:#f6f8fa}
td.sig{max-width:520px}
td.id{white-space:nowrap}
.nowrap{white-space:nowrap}
.chartwrap{overflow-x:auto}
.note{border-left:3px solid var(--warn);background:#fff8c5;padding:10px 14px;border-radius:6px;margin:0 0 20px;font-size:13px}
.empty{color:var(--muted);margin:0}
.retryhead{display:flex;align-items:center;gap:10px;flex-wrap:wrap;margin:0 0 8px}
details.api{margin-top:12px}
details.api > summary{cursor:pointer;color:var(--accent);font-size:13px}
details.api pre{margin-top:8px}
footer{color:var(--muted);font-size:12px;padding:8px 0 0;word-break:break-all}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:860px){
 .grid2{grid-template-columns:minmax(0,1fr)}
 .gbody{grid-template-columns:minmax(0,1fr)}
 details.group > summary{grid-template-columns:28px minmax(0,1fr) auto}
 details.group > summary .bar{grid-column:2 / 4;grid-row:2}
 .field input,.field select{min-width:0;width:100%}
 .timeline{min-width:620px}
 .field{flex:1 1 220px}
 #instances-count{margin-left:0;width:100%}
}
@media (max-width:520px){
 .wrap{padding:0 14px}
 .card .v{font-size:22px}
 section.panel{padding:14px}
 td.sig{min-width:240px}
}
@media print{details.group > .gbody{display:grid} .tablewrap{max-height:none}}
`;

function statusBreakdown(s: Summary): string {
  const entries = Object.entries(s.byStatus);
  if (entries.length === 0) return '<p class="empty">No records.</p>';
  let x = 0;
  const rects = entries
    .map(([status, n]) => {
      const w = (n / s.total) * 1000;
      const rect = `<rect x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="28" fill="${statusColor(status)}"><title>${escapeHtml(status || '(none)')}: ${formatCount(n)}</title></rect>`;
      x += w;
      return rect;
    })
    .join('');
  const label = entries.map(([k, n]) => `${k || '(none)'} ${formatCount(n)}`).join(', ');
  const legend = entries
    .map(
      ([status, n]) =>
        `<li><span class="sw" style="--c:${statusColor(status)}"></span>${escapeHtml(status || '(none)')} <span class="n">${formatCount(n)}</span> <span class="p">${formatPercent(n / s.total)}</span></li>`,
    )
    .join('');
  return `<svg class="stack" viewBox="0 0 1000 28" preserveAspectRatio="none" role="img" aria-label="Records by status: ${escapeHtml(label)}">${rects}</svg><ul class="legend">${legend}</ul>`;
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
    const title = `<title>${escapeHtml(timeLabel(b.start, withDate))} UTC: ${formatCount(b.finished)} finished, ${formatCount(b.failed)} failed</title>`;
    parts.push(`<g class="bucket">${title}`);
    if (ok > 0) parts.push(`<rect x="${x}" y="${y(b.finished).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(b.failed) - y(b.finished)).toFixed(1)}" fill="#2da44e"/>`);
    if (b.failed > 0) parts.push(`<rect x="${x}" y="${y(b.failed).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(b.failed)).toFixed(1)}" fill="#cf222e"/>`);
    parts.push('</g>');
  });
  const ticks = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of ticks) {
    const b = t.buckets[i];
    if (!b) continue;
    const x = left + i * slot + slot / 2;
    const anchor = i === 0 && n > 1 ? 'start' : i === n - 1 && n > 1 ? 'end' : 'middle';
    const tx = anchor === 'start' ? left : anchor === 'end' ? W - right : x;
    parts.push(`<text x="${tx.toFixed(1)}" y="${H - 8}" text-anchor="${anchor}">${escapeHtml(timeLabel(b.start, withDate))}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#afb8c1"/>`);
  const total = t.buckets.reduce((a, b) => a + b.finished, 0);
  const failed = t.buckets.reduce((a, b) => a + b.failed, 0);
  const aria = `Finishes over time from ${t.start} to ${t.end}: ${formatCount(total)} records, ${formatCount(failed)} failed, in ${n} buckets of ${bucketLabel(t.bucketSeconds)}`;
  return `<div class="chartwrap"><svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(aria)}">${parts.join('')}</svg></div>
<p class="axisnote"><span class="sw" style="--c:#2da44e"></span> finished OK &nbsp; <span class="sw" style="--c:#cf222e"></span> failed &nbsp;·&nbsp; ${n} bucket${n === 1 ? '' : 's'} of ${bucketLabel(t.bucketSeconds)} · times in UTC</p>`;
}

function groupHtml(g: FailureGroup, index: number, maxCount: number): string {
  const width = Math.max(0.5, (g.count / maxCount) * 100).toFixed(2);
  const color = statusColor(g.status);
  const labels = [`<span class="chip" style="--c:${color}">${escapeHtml(g.status || '(none)')}</span>`];
  if (g.exitCode !== null) labels.push(`<span class="tag">exit ${escapeHtml(g.exitCode)}</span>`);
  if (g.errorCode) labels.push(`<span class="tag">${escapeHtml(g.errorCode)}</span>`);
  const shownIds = g.resourceIds.slice(0, IDS_PER_GROUP_HTML);
  const more = g.resourceIds.length - shownIds.length;
  return `<details class="group" id="group-${escapeHtml(g.key)}">
<summary><span class="rank">${index + 1}</span><span class="what"><span class="labels">${labels.join('')}</span><span class="sig">${escapeHtml(g.title || g.signature || '(no error text)')}</span></span><svg class="bar" viewBox="0 0 100 14" preserveAspectRatio="none" aria-hidden="true"><rect class="track" x="0" y="0" width="100" height="14" rx="2"/><rect x="0" y="0" width="${width}" height="14" rx="2" fill="${color}"/></svg><span class="count"><b>${formatCount(g.count)}</b><span>${formatPercent(g.share)}</span></span></summary>
<div class="gbody">
<div class="example"><h3>Signature</h3><p class="fullsig">${escapeHtml(g.signature || '(no error text)')}</p><h3>Example <span class="mono">${escapeHtml(g.example.id)}</span></h3><pre class="example-text">${escapeHtml(g.example.text || '(no output)')}</pre></div>
<div class="instances"><h3>${formatCount(g.resourceIds.length)} affected instance${g.resourceIds.length === 1 ? '' : 's'} <button type="button" data-copy="${index}">Copy</button> <button type="button" data-filter-group="${index}">Show in table</button></h3><pre class="ids" data-group="${index}" data-complete="${more > 0 ? 'false' : 'true'}">${escapeHtml(shownIds.join('\n'))}</pre>${more > 0 ? `<p class="more">and ${formatCount(more)} more (shown when JavaScript runs; all are in retry.txt)</p>` : ''}</div>
</div>
</details>`;
}

function card(kind: string, key: string, value: string, sub = ''): string {
  return `<li class="card ${kind}"><div class="k">${escapeHtml(key)}</div><div class="v">${value}</div>${sub ? `<div class="s">${sub}</div>` : ''}</li>`;
}

/**
 * Renders `report.html` for a summary.
 * @example await store.put(reportKey(ref), renderReportHtml(summary), { contentType: 'text/html; charset=utf-8' });
 */
export function renderReportHtml(s: Summary): string {
  const maxCount = Math.max(1, ...s.groups.map((g) => g.count));
  const data = {
    groups: s.groups.map((g) => ({
      key: g.key,
      status: g.status || '(none)',
      label: groupLabel(g),
      title: g.title || g.signature,
      signature: g.signature,
      color: statusColor(g.status),
      ids: g.resourceIds,
      errors: g.instanceErrors.map((e) => [e.id, e.error]),
    })),
    retry: s.retry.ids,
  };
  const verdictClass = s.failures > 0 ? 'bad' : s.total > 0 ? 'good' : '';
  const kind = s.source === 'oos' ? 'OOS execution' : 'Cloud Assistant invocation';
  const title = `${s.failures > 0 ? `${formatCount(s.failures)} failed` : 'No failures'} · ${s.id}`;

  const cards = [
    card('info', 'Records', formatCount(s.total), `${formatCount(s.manifest.parts)} part${s.manifest.parts === 1 ? '' : 's'}`),
    card(s.failures > 0 ? 'bad' : 'plain', 'Failed', formatCount(s.failures), `${formatPercent(s.failureRatio)} of records`),
    card('good', 'Succeeded', formatCount(s.succeeded), s.total ? formatPercent(s.succeeded / s.total) : ''),
    card('plain', 'Causes', formatCount(s.groups.length), s.groups.length ? `largest ${formatPercent(s.groups[0]?.share ?? 0)}` : 'no failures'),
    card(s.unfinished > 0 ? 'warn' : 'plain', 'Unfinished', formatCount(s.unfinished), s.skipped > 0 ? `${formatCount(s.skipped)} skipped` : 'still running or queued'),
    card(s.truncatedOutputs.count > 0 ? 'warn' : 'plain', 'Truncated outputs', formatCount(s.truncatedOutputs.count), s.truncatedOutputs.count ? `${formatCount(s.truncatedOutputs.bytesDropped)} bytes dropped` : 'none cut by the API'),
  ].join('');

  const meta = [
    s.subject.name ? `<li>${s.source === 'oos' ? 'Template' : 'Command'} <b>${escapeHtml(s.subject.name)}</b></li>` : '',
    s.subject.status ? `<li>Status <b>${escapeHtml(s.subject.status)}</b></li>` : '',
    `<li>Region <b>${escapeHtml(s.regionId)}</b></li>`,
    `<li>Archived <b>${escapeHtml(s.manifest.finishedAt)}</b></li>`,
    `<li>Report computed <b>${escapeHtml(s.generatedAt)}</b></li>`,
  ].join('');

  const durations = s.durations
    ? `<ul class="durations"><li><div class="k">p50</div><div class="v">${formatSeconds(s.durations.p50)}</div></li><li><div class="k">p90</div><div class="v">${formatSeconds(s.durations.p90)}</div></li><li><div class="k">max</div><div class="v">${formatSeconds(s.durations.max)}</div></li><li><div class="k">measured</div><div class="v">${formatCount(s.durations.count)}</div></li></ul><p class="axisnote">${s.durations.basis === 'records' ? 'StartTime → FinishedTime of each record' : 'StartDate → EndDate of the failed child executions'}</p>`
    : '<p class="empty">No start and end times in this archive.</p>';

  const groupsSection =
    s.groups.length > 0
      ? `<div class="groups">${s.groups.map((g, i) => groupHtml(g, i, maxCount)).join('\n')}</div>`
      : '<p class="empty">No failures: nothing to group.</p>';

  const options = s.groups
    .map((g, i) => `<option value="${i}">#${i + 1} ${escapeHtml(groupLabel(g))} (${formatCount(g.count)})</option>`)
    .join('');
  const instances =
    s.failures > 0
      ? `<div class="filters"><div class="field"><label for="q">Search failed instances</label><input id="q" type="search" placeholder="Instance id, status or error text" autocomplete="off" spellcheck="false"></div><div class="field"><label for="cause">Cause</label><select id="cause"><option value="">All causes</option>${options}</select></div><span id="instances-count" role="status" aria-live="polite"></span></div>
<div class="tablewrap"><table><caption class="vh">Failed instances</caption><thead><tr><th scope="col">Instance</th><th scope="col">Status</th><th scope="col" class="num">Cause</th><th scope="col">Error</th></tr></thead><tbody id="instances-body"></tbody></table></div>
<noscript><p class="empty">The searchable table needs JavaScript; the instance lists of each cause above work without it.</p></noscript>`
      : '<p class="empty">No failed instances.</p>';

  const retryIds = s.retry.ids.slice(0, RETRY_IDS_HTML);
  const apiJson = JSON.stringify(s.retry.runCommand ?? s.retry.startExecution ?? {}, null, 2);
  const retry =
    s.retry.count > 0
      ? `<div class="retryhead"><span><b>${formatCount(s.retry.count)}</b> resource${s.retry.count === 1 ? '' : 's'} to re-run (also in <span class="mono">retry.txt</span>)</span><button type="button" data-copy="retry">Copy all ids</button></div><pre class="ids">${escapeHtml(retryIds.join('\n'))}</pre>${s.retry.count > retryIds.length ? `<p class="more">and ${formatCount(s.retry.count - retryIds.length)} more; "Copy all ids" copies every one.</p>` : ''}
<details class="api"><summary>${s.source === 'ecs' ? 'RunCommand / InvokeCommand parameters' : 'StartExecution parameters'}</summary><pre>${escapeHtml(apiJson)}</pre></details>`
      : '<p class="empty">Nothing to re-run.</p>';

  const truncNote =
    s.truncatedOutputs.count > 0
      ? `<p class="note"><b>${formatCount(s.truncatedOutputs.count)} output${s.truncatedOutputs.count === 1 ? ' was' : 's were'} truncated</b> by the API (${formatCount(s.truncatedOutputs.bytesDropped)} bytes dropped): their last lines, where errors usually are, may be missing. Instances: ${s.truncatedOutputs.ids.slice(0, 20).map((id) => `<span class="mono nowrap">${escapeHtml(id)}</span>`).join(', ')}${s.truncatedOutputs.ids.length > 20 ? ', …' : ''}</p>`
      : '';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<p class="eyebrow">${escapeHtml(kind)} report</p>
<h1>${escapeHtml(s.subject.name ?? kind)} <span class="id">${escapeHtml(s.id)}</span></h1>
<p class="verdict ${verdictClass}" id="headline">${escapeHtml(headline(s))}</p>
<ul class="meta">${meta}</ul>
</div></header>
<main class="wrap">
<ul class="cards" id="numbers">${cards}</ul>
${truncNote}
<div class="grid2">
<section class="panel" aria-labelledby="h-status"><h2 id="h-status">Status breakdown</h2><p class="sub">Every record of the archive by its ${s.source === 'oos' ? '<span class="mono">Status</span>' : '<span class="mono">InvocationStatus</span>'}.</p>${statusBreakdown(s)}</section>
<section class="panel" aria-labelledby="h-dur"><h2 id="h-dur">Durations</h2><p class="sub">How long each run took.</p>${durations}</section>
</div>
<section class="panel" aria-labelledby="h-groups" id="causes"><h2 id="h-groups">Failure causes</h2><p class="sub">Failures grouped by status, exit code, error code and the error text with instance-specific details (ids, addresses, numbers, times) masked. Open a cause for an example and its instances.</p>${groupsSection}</section>
<section class="panel" aria-labelledby="h-time"><h2 id="h-time">Finishes over time</h2><p class="sub">When records reached their final status.</p>${s.timeline ? timelineSvg(s.timeline) : '<p class="empty">No finish times in this archive.</p>'}</section>
<section class="panel" aria-labelledby="h-inst" id="instances"><h2 id="h-inst">Failed instances</h2><p class="sub">Filter by instance id, status, cause number or error text.</p>${instances}</section>
<section class="panel" aria-labelledby="h-retry" id="retry"><h2 id="h-retry">Retry</h2><p class="sub">The failed resources, ready to re-run.</p>${retry}</section>
<footer>Computed from <span class="mono">${escapeHtml(s.manifest.key)}</span> (${formatCount(s.manifest.records)} records) · ${escapeHtml(subjectLine(s))}</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
