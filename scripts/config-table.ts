// Prints the README's configuration table from lib/config.ts CONFIG_VARIABLES (`npx tsx scripts/config-table.ts`).
import { CONFIG_VARIABLES } from '../lib/config';

const rows = CONFIG_VARIABLES.map(
  (v) => `| \`${v.name}\` | ${v.meaning.replace(/\|/g, '\\|')} | ${v.default === null ? '—' : v.default.replace(/\|/g, '\\|')} | ${v.required ? 'yes' : 'no'} |`,
);
process.stdout.write(['| variable | meaning | default | required |', '|---|---|---|---|', ...rows].join('\n') + '\n');
