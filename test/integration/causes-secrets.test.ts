/**
 * The secret corpus through `execution-archive causes` (the bin, spawned as a user runs it): no secret value in its
 * output, as JSON per message or as the table of causes.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SECRET_LINES } from '../fixtures/secret-corpus';

const BIN = join(__dirname, '..', '..', 'bin', 'execution-archive.cjs');

function run(args: string[], stdin: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(stdin);
  });
}

describe('execution-archive causes shows no secret', () => {
  // One message per line: the multi-line key block is given as its lines.
  const input = SECRET_LINES.map((s) => s.line).join('\n') + '\n';
  const secrets = SECRET_LINES.flatMap((s) => s.secrets);

  it.each([[['causes', '--json']], [['causes']]])('%j', async (args) => {
    // Act
    const { code, stdout } = await run(args, input);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('<redacted>');
    for (const secret of secrets) {
      expect(stdout.includes(secret) || stdout.includes(JSON.stringify(secret).slice(1, -1)), secret).toBe(false);
    }
  }, 60_000);
});
