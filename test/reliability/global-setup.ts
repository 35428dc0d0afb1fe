/**
 * The reliability suite's global set-up: a fresh figures file for the test files to add to, and at the end the one
 * line of figures (see figures.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figuresLine, sumFigures } from './figures';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ea-reliability-'));
  const file = join(dir, 'figures.ndjson');
  process.env.RELIABILITY_FIGURES = file;
  return () => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // no test file added figures
    }
    process.stdout.write(`\n${figuresLine(sumFigures(text))}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
