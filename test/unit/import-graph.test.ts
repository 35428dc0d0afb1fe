import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCircles } from '../helpers/import-graph';

const root = resolve(__dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'ea-import-graph-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('import circles, type-only imports included (import-x/no-cycle does not count those)', () => {
  it('finds a circle closed by a type-only import, and one through a folder index', () => {
    // Prepare: a → b by value, b → a by type only; c → d/index by value, d/index → c by a re-export of a type
    mkdirSync(join(scratch, 'src', 'd'), { recursive: true });
    writeFileSync(join(scratch, 'src', 'a.ts'), "import { b } from './b';\nexport interface A { n: number }\nexport const a = b;\n");
    writeFileSync(join(scratch, 'src', 'b.ts'), "import type { A } from './a';\nexport const b = 1;\nexport type B = A;\n");
    writeFileSync(join(scratch, 'src', 'c.ts'), "import { d } from './d';\nexport interface C { d: typeof d }\n");
    writeFileSync(join(scratch, 'src', 'd', 'index.ts'), "export type { C } from '../c';\nexport const d = 2;\n");
    writeFileSync(join(scratch, 'src', 'e.ts'), "import { a } from './a';\nimport { readFileSync } from 'node:fs';\nexport const e = [a, readFileSync];\n");
    // Act
    const found = importCircles(scratch, ['src']);
    // Assess
    expect(found.sort((x, y) => (x[0] ?? '').localeCompare(y[0] ?? ''))).toEqual([
      [join('src', 'a.ts'), join('src', 'b.ts')],
      [join('src', 'c.ts'), join('src', 'd', 'index.ts')],
    ]);
  });

  it('finds none in the product, the scripts, the benchmarks and the local cloud', () => {
    expect(importCircles(root, ['lib', 'functions', 'scripts', 'bench', 'packages/local-cloud/src'])).toEqual([]);
  });
});
