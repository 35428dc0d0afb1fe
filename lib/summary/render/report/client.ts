/**
 * The script of report.html, run in the browser. scripts/report-assets.ts compiles it (esbuild, one IIFE for
 * ES2020 browsers) into lib/summary/render/report-assets.generated.ts, which report-html.ts inlines as the page's only
 * script; the Content-Security-Policy allows it by its hash and allows no request at all.
 *
 * It reads the JSON block, fills the failed-instance table (DOM nodes and textContent only, never markup), filters
 * it as the person types, completes a cause's instance list when it is opened, and copies lists to the clipboard.
 * Without it the page still shows everything but the table (each cause's first instances are in its HTML).
 */
import type { ReportData } from './data';

/** Rows the table shows at most; a search or a cause narrows them. */
const LIMIT = 500;

interface Row {
  id: string;
  /** Index of the row's cause in `data.groups`. */
  group: number;
  /** The instance's own error line, or null when the summary did not keep it (the cause's title is shown). */
  error: string | null;
  errorLower: string;
}

function element<T extends HTMLElement>(id: string, type: new () => T): T | null {
  const found = document.getElementById(id);
  return found instanceof type ? found : null;
}

const data = JSON.parse(document.getElementById('report-data')?.textContent ?? '{"groups":[],"retry":[]}') as ReportData;
const groups = data.groups;
/** What a search matches a cause by: its number, status, label, title and signature. */
const groupSearch = groups.map((g, gi) => `#${gi + 1} ${g.status} ${g.label} ${g.title} ${g.signature}`.toLowerCase());
const rows: Row[] = [];
groups.forEach((g, gi) => {
  const own = new Map(g.errors);
  for (const id of g.ids) {
    const error = own.get(id);
    rows.push({ id, group: gi, error: error ?? null, errorLower: error === undefined ? '' : error.toLowerCase() });
  }
});

const input = element('q', HTMLInputElement);
const cause = element('cause', HTMLSelectElement);
const tbody = element('instances-body', HTMLTableSectionElement);
const count = document.getElementById('instances-count');

function cell(tr: HTMLTableRowElement, text: string, className: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  tr.appendChild(td);
  return td;
}

/** Redraws the table for the search text and the chosen cause; the count says how many match. */
function render(): void {
  if (!tbody || !input || !cause) return;
  const q = input.value.trim().toLowerCase();
  const chosen = cause.value;
  let shown = 0;
  let matched = 0;
  const rendered = document.createDocumentFragment();
  for (const r of rows) {
    const g = groups[r.group];
    const search = groupSearch[r.group] ?? '';
    if (!g) continue;
    if (chosen !== '' && String(r.group) !== chosen) continue;
    if (q && !r.id.toLowerCase().includes(q) && !search.includes(q) && !r.errorLower.includes(q)) continue;
    matched++;
    if (shown >= LIMIT) continue;
    shown++;
    const tr = document.createElement('tr');
    cell(tr, r.id, 'mono id');
    const chip = document.createElement('span');
    chip.className = `chip ${g.tone}`;
    chip.textContent = g.status;
    cell(tr, '', '').appendChild(chip);
    cell(tr, `#${r.group + 1}`, 'num');
    // The instance's own error line when the summary kept it; else the cause's title.
    const text = r.error !== null ? r.error || '(no error text)' : g.title || '(no error text)';
    cell(tr, text, 'sig mono').title = g.signature;
    rendered.appendChild(tr);
  }
  tbody.replaceChildren(rendered);
  if (!count) return;
  const all = rows.length.toLocaleString('en-US');
  count.textContent =
    matched === rows.length && !q && chosen === ''
      ? `${all} failed instances${matched > shown ? ` (first ${shown} shown; search to narrow)` : ''}`
      : `${matched.toLocaleString('en-US')} of ${all} match${matched > shown ? ` (first ${shown} shown)` : ''}`;
}

if (input && cause) {
  input.addEventListener('input', render);
  cause.addEventListener('change', render);
  render();
}

// A cause's list in the HTML stops after its first instances; opening the cause completes it.
for (const details of document.querySelectorAll<HTMLDetailsElement>('details.group')) {
  details.addEventListener('toggle', () => {
    const list = details.querySelector<HTMLElement>('.ids[data-group]');
    if (!details.open || !list || list.dataset.complete === 'true') return;
    const group = groups[Number(list.dataset.group)];
    if (!group) return;
    list.textContent = group.ids.join('\n');
    list.dataset.complete = 'true';
    details.querySelector('.more')?.remove();
  });
}

// "Show in table": the table narrowed to one cause.
for (const button of document.querySelectorAll<HTMLElement>('[data-filter-group]')) {
  button.addEventListener('click', () => {
    if (!input || !cause) return;
    cause.value = button.dataset.filterGroup ?? '';
    input.value = '';
    render();
    document.getElementById('instances')?.scrollIntoView({ behavior: 'smooth' });
  });
}

/** Copies text, and says on the button whether it worked. */
function copy(text: string, button: HTMLElement): void {
  const done = (ok: boolean): void => {
    const before = button.textContent;
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => {
      button.textContent = before;
    }, 1500);
  };
  // Absent where the page is not a secure context (e.g. served over plain HTTP).
  const clipboard = navigator.clipboard as Clipboard | undefined;
  if (clipboard) {
    clipboard.writeText(text).then(
      () => done(true),
      () => done(false),
    );
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  done(ok);
}

for (const button of document.querySelectorAll<HTMLElement>('[data-copy]')) {
  button.addEventListener('click', () => {
    const what = button.dataset.copy;
    const ids = what === 'retry' ? data.retry : (groups[Number(what)]?.ids ?? []);
    copy(ids.join('\n'), button);
  });
}
