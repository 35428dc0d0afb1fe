/**
 * `summary.md`: a short human summary — headline numbers, the top causes with an example each, and the retry list
 * (inline when short, else where it is).
 */
import { showBidiControls } from '../../causes/secrets';
import type { FailureGroup } from '../aggregate';
import type { Summary } from '../summary';

/** Groups shown in full in the Markdown summary. */
export const MARKDOWN_TOP_GROUPS = 10;
/** Retry ids listed inline; more are only in retry.txt. */
const INLINE_RETRY_IDS = 20;
/** Characters of each group's example shown. */
const EXAMPLE_CHARS = 600;

/**
 * `1234567` → `1,234,567` (what `toLocaleString('en-US')` writes). Integers are grouped here: the first
 * `toLocaleString` of a process builds ICU's locale tables, ~10 ms of an inline summary's CPU.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** `0.1234` → `12.3%` (`<0.1%` for tiny non-zero shares). */
export function formatPercent(ratio: number): string {
  if (ratio > 0 && ratio < 0.001) return '<0.1%';
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
}

/** Seconds as `850 ms`, `12.5 s`, `4 min 10 s`, `2 h 5 min`. */
export function formatSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  const whole = Math.round(s);
  if (whole < 3600) return whole % 60 === 0 ? `${whole / 60} min` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round((whole % 3600) / 60);
  return minutes === 0 ? `${Math.floor(whole / 3600)} h` : `${Math.floor(whole / 3600)} h ${minutes} min`;
}

/** C0 and C1 control characters except tab and newline: never written into Markdown. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text without control characters, its bidirectional controls shown as `\u202e` escapes (never obeyed). */
function plain(text: string): string {
  return showBidiControls(text.replace(CONTROL, ''));
}

/** Escapes the Markdown punctuation that could format plain text (and `<` so HTML renderers show it as text). */
export function mdText(text: string): string {
  return plain(text).replace(/[\\`*_[\]|<>~]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
}

/** An inline code span that survives backticks in `text`. */
export function mdCode(text: string): string {
  const flat = plain(text).replace(/\s+/g, ' ');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block that survives backtick runs in `text`. */
export function mdBlock(raw: string): string {
  const text = plain(raw);
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text.replace(/\n+$/, '')}\n${fence}`;
}

/** What ran, in words: `OOS execution exec-… (cn-hangzhou)`. */
export function subjectLine(s: Summary): string {
  const kind = s.source === 'oos' ? 'OOS execution' : 'Cloud Assistant invocation';
  const name = s.subject.name ? ` ${s.subject.name}` : '';
  return `${kind}${name} ${s.id} (${s.regionId})`;
}

/** The one-line verdict: `27 of 2,000 failed (1.4%) in 3 causes`. */
export function headline(s: Summary): string {
  if (s.total === 0) return 'The archive holds no records.';
  const parts = [`${formatCount(s.failures)} of ${formatCount(s.total)} failed (${formatPercent(s.failureRatio)})`];
  if (s.failures > 0) parts.push(`in ${formatCount(s.groups.length)} cause${s.groups.length === 1 ? '' : 's'}`);
  let line = parts.join(' ');
  if (s.unfinished > 0) line += `; ${formatCount(s.unfinished)} unfinished`;
  return line;
}

/** `Failed · exit 1 · ExitCodeNonzero`. */
export function groupLabel(g: FailureGroup): string {
  const bits = [g.status];
  if (g.exitCode !== null) bits.push(`exit ${g.exitCode}`);
  if (g.errorCode) bits.push(g.errorCode);
  return bits.join(' · ');
}

/**
 * At most `chars` characters of an example: its error line (0-based `line`, marked `▶ `) with what precedes it and a
 * little of what follows; without one, its end (where errors are). Cuts are marked `…`.
 */
function exampleChars(text: string, line: number | null, chars: number): string {
  const lines = text.split('\n');
  if (line === null || line < 0 || line >= lines.length) return text.length <= chars ? text : '…' + text.slice(-chars);
  lines[line] = `▶ ${lines[line] ?? ''}`;
  const marked = lines.join('\n');
  if (marked.length <= chars) return marked;
  const at = lines.slice(0, line).join('\n').length;
  const end = Math.min(marked.length, Math.max(at + (lines[line]?.length ?? 0) + 1, at + Math.floor(chars / 3)));
  const start = Math.max(0, end - chars);
  return `${start > 0 ? '…' : ''}${marked.slice(start, end)}${end < marked.length ? '…' : ''}`;
}

/**
 * Renders `summary.md`.
 * @example await store.put(summaryMarkdownKey(ref), renderMarkdown(summary));
 */
export function renderMarkdown(s: Summary): string {
  const out: string[] = [];
  out.push(`# ${mdText(subjectLine(s))}`, '');
  out.push(`**${mdText(headline(s))}**`, '');
  const statusCells = Object.entries(s.byStatus).map(([k, v]) => `${mdText(k || '(none)')} ${formatCount(v)}`);
  out.push('| Records | Succeeded | Failed | Unfinished | Skipped | Truncated outputs |');
  out.push('|---:|---:|---:|---:|---:|---:|');
  out.push(
    `| ${formatCount(s.total)} | ${formatCount(s.succeeded)} | ${formatCount(s.failures)} | ${formatCount(s.unfinished)} | ${formatCount(s.skipped)} | ${formatCount(s.truncatedOutputs.count)} |`,
  );
  out.push('');
  if (statusCells.length > 0) out.push(`By status: ${statusCells.join(' · ')}`, '');
  if (s.durations) {
    const d = s.durations;
    const basis = d.basis === 'records' ? '' : ' (failed child executions)';
    out.push(`Duration${basis}: p50 ${formatSeconds(d.p50)}, p90 ${formatSeconds(d.p90)}, max ${formatSeconds(d.max)}`, '');
  }

  if (s.groups.length > 0) {
    out.push('## Top causes', '');
    s.groups.slice(0, MARKDOWN_TOP_GROUPS).forEach((g, i) => {
      const title = g.title || g.signature;
      out.push(`${i + 1}. **${formatCount(g.count)} × ${mdText(groupLabel(g))}** (${formatPercent(g.share)}) — ${title ? mdCode(title) : '_no error text_'}`);
      if (g.signature && g.signature !== title) out.push(`   Signature: ${mdCode(g.signature)}`);
      const resources = g.resourceCount ?? g.resourceIds.length;
      out.push(`   Example ${mdCode(g.example.id)}${resources > 1 ? ` and ${formatCount(resources - 1)} more` : ''}:`);
      if (g.example.text.trim()) out.push('', mdBlock(exampleChars(g.example.text, g.example.line ?? null, EXAMPLE_CHARS)).replace(/^/gm, '   '));
      out.push('');
    });
    if (s.groups.length > MARKDOWN_TOP_GROUPS) {
      out.push(`…and ${formatCount(s.groups.length - MARKDOWN_TOP_GROUPS)} more causes in the report.`, '');
    }
  }

  out.push('## Retry', '');
  if (s.retry.count === 0) {
    out.push('Nothing to re-run.', '');
  } else if (s.retry.count <= INLINE_RETRY_IDS) {
    out.push(`${formatCount(s.retry.count)} resource${s.retry.count === 1 ? '' : 's'} to re-run:`, '', mdBlock(s.retry.ids.join('\n')), '');
    if (s.retry.idsKey) out.push(`(the first ${formatCount(s.retry.ids.length)}; every one is in ${mdCode(s.retry.idsKey)})`, '');
  } else {
    out.push(`${formatCount(s.retry.count)} resources to re-run, one per line in ${mdCode(s.links.retry)}.`, '');
  }
  if (s.fullOutputs) {
    const c = s.fullOutputs.counts;
    const stillCut = s.fullOutputs.items.filter((item) => item.state !== 'stored');
    out.push(
      `Full outputs: ${formatCount(s.truncatedOutputs.count)} output${s.truncatedOutputs.count === 1 ? ' was' : 's were'} truncated by the API (${formatCount(s.truncatedOutputs.bytesDropped)} bytes dropped); ${formatCount(c.stored)} full output${c.stored === 1 ? ' is' : 's are'} in the archive under ${mdCode('outputs/')}, and the causes are mined from them.`,
      '',
    );
    if (stillCut.length > 0) {
      out.push('Still cut:', '');
      for (const item of stillCut.slice(0, 20)) out.push(`- ${mdCode(item.id)} (run ${item.run}, ${item.state}): ${item.reason ?? ''}`);
      if (stillCut.length > 20) out.push(`- … ${formatCount(stillCut.length - 20)} more in summary.json`);
      out.push('');
    }
  } else if (s.truncatedOutputs.count > 0) {
    out.push(
      `Note: ${formatCount(s.truncatedOutputs.count)} output${s.truncatedOutputs.count === 1 ? ' was' : 's were'} truncated by the API (${formatCount(s.truncatedOutputs.bytesDropped)} bytes dropped); their last lines may be missing.`,
      '',
    );
  }
  out.push('---', '');
  out.push(`Report: ${mdCode(s.links.report)} · Summary: ${mdCode(s.links.summary)}`);
  out.push(`Computed ${s.generatedAt} from ${mdCode(s.manifest.key)} (${formatCount(s.manifest.records)} records, archived ${s.manifest.finishedAt}).`, '');
  return out.join('\n');
}
