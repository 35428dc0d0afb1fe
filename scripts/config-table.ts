// docs/configuration.md's table of environment variables, from lib/config.ts CONFIG_VARIABLES:
// `npx tsx scripts/config-table.ts` rewrites it between its markers; test/unit/docs.test.ts fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, defaultInWords } from '../lib/config';

export const CONFIG_DOC = join(__dirname, '..', 'docs', 'configuration.md');
const START = /<!-- config-table:start[^\n]*-->\n/;
const END = '<!-- config-table:end -->';

/** The Markdown table, one row per variable. */
export function configTable(): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const cellOrDash = (text: string | null): string => (text === null ? '—' : cell(text));
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${cell(v.meaning)} | ${cellOrDash(defaultInWords(v))} | ${v.required ? 'yes' : 'no'} |`);
  return ['| variable | meaning | default | required |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** The table as it stands in `doc` between its markers. */
export function documentedTable(doc: string): string {
  const start = START.exec(doc);
  const end = doc.indexOf(END);
  if (!start || end < start.index) throw new Error('docs/configuration.md has no config-table markers');
  return doc.slice(start.index + start[0].length, end);
}

if (require.main === module) {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const old = documentedTable(doc);
  writeFileSync(CONFIG_DOC, doc.replace(old, () => configTable()));
  process.stdout.write(old === configTable() ? 'docs/configuration.md: the table was up to date\n' : 'docs/configuration.md: table rewritten\n');
}
