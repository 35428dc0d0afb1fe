/**
 * The docs are part of the product: docs/configuration.md's table lists every variable the code reads, as
 * scripts/config-table.ts generates it from lib/config.ts; the README stays short and shows the two set-up commands.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, RUNTIME_VARIABLES } from '../../lib/config';
import { CONFIG_DOC, configTable, documentedTable } from '../../scripts/config-table';
import { present } from '../helpers/present';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Environment variable names the production code reads (`key: 'X'` in the readers, `env.X`, `env['X']`). */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  for (const file of [...sources(join(root, 'lib')), ...sources(join(root, 'functions'))]) {
    // Code only: doc comments name variables in examples.
    const text = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
      .join('\n');
    for (const m of text.matchAll(/\bkey: '([A-Z][A-Z0-9_]+)'/g)) names.add(present(m[1]));
    for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]{2,})\b/g)) names.add(present(m[1]));
    for (const m of text.matchAll(/\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) names.add(present(m[1]));
  }
  // Set by Function Compute itself or by the build, not by the operator.
  for (const fc of ['FC_REGION', 'COLLECTOR_VERSION_BUILD']) names.delete(fc);
  return names;
}

describe('configuration docs', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const documented = new Set(CONFIG_VARIABLES.map((v) => v.name));

  it('documents every variable the code reads', () => {
    // The runtime settings (NODE_OPTIONS, MALLOC_ARENA_MAX) are read only to log what reached the process; their own table documents them.
    const runtime = new Set(RUNTIME_VARIABLES.map((v) => v.name));
    const missing = [...variablesRead()].filter((n) => !documented.has(n) && !runtime.has(n));
    expect(missing).toEqual([]);
  });

  it('lists every documented variable in docs/configuration.md, in the table the script generates', () => {
    const table = documentedTable(doc);
    const missing = [...documented].filter((n) => !table.includes(`| \`${n}\` |`));
    expect(missing).toEqual([]);
    expect(table).toBe(configTable()); // stale: run `npx tsx scripts/config-table.ts`
  });

  it('lists every runtime setting s.yaml gives a function in docs/configuration.md', () => {
    const missing = RUNTIME_VARIABLES.map((v) => v.name).filter((n) => !doc.includes(`| \`${n}\` |`));
    expect(missing).toEqual([]);
  });
});

describe('the README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it('stays short and leads into docs/, every link of it and of docs/ pointing at a file that exists', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    const pages = [['README.md', readme], ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => [join('docs', f), readFileSync(join(root, 'docs', f), 'utf8')])];
    const broken = pages.flatMap(([page, text]) =>
      [...present(text).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
        .map((m) => present(m[1]))
        .filter((target) => !/^[a-z]+:/.test(target))
        .filter((target) => !existsSync(join(root, dirname(present(page)), target)))
        .map((target) => `${page} → ${target}`),
    );
    expect(broken).toEqual([]);
  });
});
