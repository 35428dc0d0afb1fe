/**
 * The digest as people read it: one headline, `digest.md`, and `digest.html`, a self-contained page in the report's
 * look (its stylesheet, inlined and allowed by hash; no script, no network: the same Content-Security-Policy rules).
 * What changed since the last digest comes first. Every text comes from the warehouse, whose titles were masked by
 * the summaries; it is escaped here.
 */
import { createHash } from 'node:crypto';
import { REPORT_CSS } from '../summary/render/report-assets.generated';
import { escapeHtml, pageHead } from '../summary/render/report-html';
import { formatCount, formatPercent, mdCode, mdText } from '../summary/render/markdown';
import type { CauseState, DigestCause, DigestCommand, DigestInstance } from './classify';
import type { Digest } from './document';

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;
const rate = (r: number | null) => (r === null ? '–' : formatPercent(r));
const points = (c: number | null) => (c === null ? '–' : `${c > 0 ? '+' : ''}${c.toFixed(1)} pts`);
const commandName = (c: string) => c.replace(/^(oos|ecs):/, '');

/** One line: the window, the runs and their failure rate, then what needs attention. */
export function digestHeadline(d: Pick<Digest, 'window' | 'runs' | 'records' | 'failed' | 'commands' | 'causeCounts' | 'brokenCount' | 'flakyCount'>): string {
  const head = `${d.window.days} days: ${plural(d.runs, 'run')} of ${plural(d.commands.filter((c) => c.runs > 0).length, 'command')}, ${formatCount(d.failed)} of ${formatCount(d.records)} records failed (${rate(d.records ? d.failed / d.records : null)})`;
  const parts = [
    d.causeCounts.new ? plural(d.causeCounts.new, 'new cause') : '',
    d.causeCounts.regressed ? `${formatCount(d.causeCounts.regressed)} regressed` : '',
    d.causeCounts.recurring ? `${formatCount(d.causeCounts.recurring)} recurring` : '',
    d.causeCounts.gone ? `${formatCount(d.causeCounts.gone)} gone` : '',
    d.brokenCount ? plural(d.brokenCount, 'broken instance') : '',
    d.flakyCount ? plural(d.flakyCount, 'flaky instance') : '',
  ].filter(Boolean);
  return parts.length ? `${head}; ${parts.join(', ')}` : head;
}

function changeLines(d: Digest): string[] {
  const c = d.changes;
  const title = (k: string) => d.causes.find((x) => x.key === k)?.title || k;
  return [
    ...c.newCauses.map((k) => `new cause ${k}: ${title(k)}`),
    ...c.regressedCauses.map((k) => `regressed ${k}: ${title(k)}`),
    ...c.goneCauses.map((k) => `gone ${k}: ${title(k)}`),
    ...c.newlyBroken.map((i) => `newly broken: ${i.resourceId} on ${commandName(i.command)}`),
    ...c.recovered.map((i) => `recovered: ${i.resourceId} on ${commandName(i.command)}`),
    ...c.commands.map((x) => `${commandName(x.command)}: failure rate ${rate(x.previousRate)} → ${rate(x.rate)} (${points(x.change)})`),
  ];
}

const LIST_MD = 50;

export function renderDigestMarkdown(d: Digest): string {
  const out = [`# Fleet digest ${d.date}`, '', `**${mdText(d.headline)}**`, '', `Window ${d.window.from} → ${d.window.to}; history from ${d.historyFrom}.`, ''];
  const changes = changeLines(d);
  out.push(`## What changed since ${d.changes.since ? `the digest of ${d.changes.since}` : 'the start (first digest)'}`, '');
  out.push(...(changes.length ? changes.slice(0, LIST_MD).map((l) => `- ${mdText(l)}`) : ['Nothing.']), '');
  out.push('## Causes', '', '| state | key | cause | instance-runs | previous | trend | runs | first seen | last seen |', '|---|---|---|---:|---:|---|---:|---|---|');
  for (const c of d.causes.slice(0, LIST_MD)) out.push(`| ${c.state} | \`${c.key}\` | ${c.title ? mdCode(c.title) : c.status} | ${formatCount(c.instances)} | ${formatCount(c.previousInstances)} | ${c.trend} | ${c.runs} | ${c.firstSeen.slice(0, 10)} | ${c.lastSeen.slice(0, 10)} |`);
  if (d.causes.length === 0) out.push('| – | | no failures | | | | | | |');
  const instances = (title: string, list: DigestInstance[], total: number) => {
    out.push('', `## ${title} (${formatCount(total)})`, '');
    if (list.length === 0) return out.push('None.');
    out.push('| instance | command | runs | failed | succeeded | causes |', '|---|---|---:|---:|---:|---|');
    for (const i of list.slice(0, LIST_MD)) out.push(`| ${mdText(i.resourceId)} | ${mdText(commandName(i.command))} | ${i.runs} | ${i.failedRuns} | ${i.succeededRuns} | ${i.causes.map((k) => `\`${k}\``).join(' ')} |`);
    if (total > LIST_MD) out.push('', `…and ${formatCount(total - LIST_MD)} more (digest.json)`);
    return out.length;
  };
  instances('Broken instances: failed every run (at least 3)', d.broken, d.brokenCount);
  instances('Flaky instances: succeeded and failed on the same command', d.flaky, d.flakyCount);
  out.push('', '## Commands', '', '| command | runs | failure rate | previous window | change |', '|---|---:|---:|---:|---:|');
  for (const c of d.commands) out.push(`| ${mdText(commandName(c.command))} | ${c.runs} | ${rate(c.rate)} | ${rate(c.previousRate)} | ${points(c.change)} |`);
  return `${out.join('\n')}\n`;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');
/** The page's own rules beside the report's stylesheet. */
const DIGEST_CSS = `${REPORT_CSS}.state{--c:#57606a}.state-new{--c:#cf222e}.state-regressed{--c:#bc4c00}.state-recurring{--c:#9a6700}.state-gone{--c:#1a7f37}.spark{display:inline-flex;gap:1px;align-items:flex-end;height:18px}.spark i{display:inline-block;width:5px;background:#cf222e;min-height:1px}.h0{height:1px}.h1{height:4px}.h2{height:8px}.h3{height:12px}.h4{height:16px}.h5{height:18px}ul.changes{margin:0;padding-left:20px}ul.changes li{margin:2px 0}`;
export const DIGEST_CSP = ["default-src 'none'", `style-src 'sha256-${sha256(DIGEST_CSS)}'`, "base-uri 'none'", "form-action 'none'"].join('; ');

const LIST_HTML = 200;

function spark(perDay: number[]): string {
  const max = Math.max(1, ...perDay);
  return `<span class="spark" title="${escapeHtml(perDay.join(', '))}">${perDay.map((n) => `<i class="h${n === 0 ? 0 : Math.max(1, Math.round((n / max) * 5))}"></i>`).join('')}</span>`;
}

const chip = (state: CauseState) => `<span class="chip state state-${state}">${state}</span>`;

function causeRows(list: DigestCause[]): string {
  return list
    .slice(0, LIST_HTML)
    .map(
      (c) =>
        `<tr><td>${chip(c.state)}</td><td class="mono">${escapeHtml(c.key)}</td><td class="sig">${escapeHtml(c.title || c.status)}<br><span class="tag">${escapeHtml(c.status)}${c.errorCode ? ` ${escapeHtml(c.errorCode)}` : ''}${c.exitCode !== null ? ` exit ${c.exitCode}` : ''}</span> ${c.commands.map((x) => `<span class="tag">${escapeHtml(commandName(x))}</span>`).join(' ')}</td><td class="num">${formatCount(c.instances)}</td><td class="num">${formatCount(c.previousInstances)}</td><td>${escapeHtml(c.trend)} ${spark(c.perDay)}</td><td class="nowrap">${escapeHtml(c.firstSeen.slice(0, 10))}</td><td class="nowrap">${escapeHtml(c.lastSeen.slice(0, 10))}</td></tr>`,
    )
    .join('');
}

function instanceTable(list: DigestInstance[], total: number): string {
  if (list.length === 0) return '<p class="empty">None.</p>';
  const rows = list
    .slice(0, LIST_HTML)
    .map((i) => `<tr><td class="mono id">${escapeHtml(i.resourceId)}</td><td>${escapeHtml(commandName(i.command))}</td><td class="num">${i.runs}</td><td class="num">${i.failedRuns}</td><td class="num">${i.succeededRuns}</td><td class="mono">${i.causes.map(escapeHtml).join(' ')}</td></tr>`)
    .join('');
  const more = total > LIST_HTML ? `<p class="more">…and ${formatCount(total - LIST_HTML)} more in digest.json</p>` : '';
  return `<div class="tablewrap"><table><thead><tr><th>instance</th><th>command</th><th>runs</th><th>failed</th><th>succeeded</th><th>causes</th></tr></thead><tbody>${rows}</tbody></table></div>${more}`;
}

function commandTable(list: DigestCommand[]): string {
  if (list.length === 0) return '<p class="empty">No runs.</p>';
  const days = list[0]?.perDay.map((d) => d.date.slice(5)) ?? [];
  const head = `<tr><th>command</th><th>runs</th><th>rate</th><th>previous</th><th>change</th>${days.map((d) => `<th class="num">${escapeHtml(d)}</th>`).join('')}</tr>`;
  const rows = list
    .map((c) => `<tr><td>${escapeHtml(commandName(c.command))} <span class="tag">${escapeHtml(c.command.split(':')[0] ?? '')}</span></td><td class="num">${c.runs}</td><td class="num">${rate(c.rate)}</td><td class="num">${rate(c.previousRate)}</td><td class="num">${points(c.change)}</td>${c.perDay.map((d) => `<td class="num">${rate(d.rate)}</td>`).join('')}</tr>`)
    .join('');
  return `<div class="tablewrap"><table><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
}

export function renderDigestHtml(d: Digest): string {
  const changes = changeLines(d);
  const card = (k: string, v: number | string, cls: string, s = '') => `<li class="card ${cls}"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div>${s ? `<div class="s">${escapeHtml(s)}</div>` : ''}</li>`;
  return `${pageHead(DIGEST_CSP, `Fleet digest ${d.date}`, DIGEST_CSS)}
<header class="top"><div class="wrap">
<p class="eyebrow">execution-archive · fleet digest</p>
<h1>Digest of ${escapeHtml(d.date)}</h1>
<p class="verdict ${d.causeCounts.new + d.causeCounts.regressed + d.brokenCount > 0 ? 'bad' : 'good'}" id="headline">${escapeHtml(d.headline)}</p>
<ul class="meta"><li>window <b>${escapeHtml(d.window.from.slice(0, 16).replace('T', ' '))}</b> → <b>${escapeHtml(d.window.to.slice(0, 16).replace('T', ' '))}</b> UTC</li><li>history from <b>${escapeHtml(d.historyFrom.slice(0, 10))}</b></li><li>generated ${escapeHtml(d.generatedAt)}</li></ul>
</div></header>
<main class="wrap">
<section class="panel" id="changes"><h2>What changed since ${d.changes.since ? `the digest of ${escapeHtml(d.changes.since)}` : 'the start (first digest)'}</h2>
${changes.length ? `<ul class="changes">${changes.slice(0, LIST_HTML).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '<p class="empty">Nothing changed.</p>'}
</section>
<ul class="cards">
${card('runs', formatCount(d.runs), 'info', `${formatCount(d.records)} records`)}
${card('failure rate', rate(d.records ? d.failed / d.records : null), d.failed ? 'bad' : 'good', `${formatCount(d.failed)} failed`)}
${card('new causes', d.causeCounts.new, d.causeCounts.new ? 'bad' : 'plain')}
${card('regressed', d.causeCounts.regressed, d.causeCounts.regressed ? 'warn' : 'plain')}
${card('recurring', d.causeCounts.recurring, 'plain')}
${card('gone', d.causeCounts.gone, 'good')}
${card('broken instances', d.brokenCount, d.brokenCount ? 'bad' : 'plain')}
${card('flaky instances', d.flakyCount, d.flakyCount ? 'warn' : 'plain')}
</ul>
<section class="panel" id="causes"><h2>Causes</h2><p class="sub">Per cause key across runs: its state, the instance-runs it cost in the window and the one before, per day.</p>
${d.causes.length ? `<div class="tablewrap"><table><thead><tr><th>state</th><th>key</th><th>cause</th><th>instance-runs</th><th>previous</th><th>trend</th><th>first seen</th><th>last seen</th></tr></thead><tbody>${causeRows(d.causes)}</tbody></table></div>` : '<p class="empty">No failures in the history.</p>'}
</section>
<section class="panel" id="broken"><h2>Broken instances (${formatCount(d.brokenCount)})</h2><p class="sub">Failed every one of at least 3 runs of a command in the window.</p>${instanceTable(d.broken, d.brokenCount)}</section>
<section class="panel" id="flaky"><h2>Flaky instances (${formatCount(d.flakyCount)})</h2><p class="sub">Succeeded and failed on the same command within the window.</p>${instanceTable(d.flaky, d.flakyCount)}</section>
<section class="panel" id="commands"><h2>Commands</h2><p class="sub">Failure rate of the records per day of the window, and the change since the previous window.</p>${commandTable(d.commands)}</section>
<footer>digest.json: ${escapeHtml(d.links.json)}</footer>
</main>
</body>
</html>
`;
}
