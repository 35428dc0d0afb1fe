/** The README is part of the product: its configuration table must list every variable the code reads. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, RUNTIME_VARIABLES } from '../../lib/config';
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
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const documented = new Set(CONFIG_VARIABLES.map((v) => v.name));

  it('documents every variable the code reads', () => {
    const missing = [...variablesRead()].filter((n) => !documented.has(n));
    expect(missing).toEqual([]);
  });

  it('lists every documented variable in the README table', () => {
    const missing = [...documented].filter((n) => !readme.includes(`| \`${n}\` |`));
    expect(missing).toEqual([]);
  });

  it('lists every runtime setting s.yaml gives a function in the README', () => {
    const missing = RUNTIME_VARIABLES.map((v) => v.name).filter((n) => !readme.includes(`| \`${n}\` |`));
    expect(missing).toEqual([]);
  });
});
