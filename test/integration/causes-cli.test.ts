import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causeKey } from '../../lib/causes/signature';

const BIN = join(__dirname, '..', '..', 'bin', 'execution-archive.cjs');

/** Runs the bin as a user would (`npx execution-archive …` runs this file), feeding `stdin`. */
function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const letters = (n: number) => Array.from({ length: 14 }, (_, k) => String.fromCharCode(97 + ((n * 7 + k * 3) % 26))).join('');

/** 3,000 failures of one cause (ids, IPs and times differ, some ids all letters), 20 of another, one with a secret. */
function messages(): string[] {
  const lines: string[] = [];
  for (let n = 0; n < 3000; n++) {
    lines.push(`2024-05-01T10:${String(n % 60).padStart(2, '0')}:00Z invoke t-${letters(n)} on i-bp1${String(n).padStart(17, '0')}: curl: (7) Failed to connect to 10.0.${n % 250}.${(n * 7) % 250} port 8080: Connection refused`);
    if (n % 150 === 0) lines.push(`yum: Cannot find a valid baseurl for repo: base/7/x86_64 (attempt ${n})`);
  }
  lines.push('mysql -uroot --password=hunter2 -h db-1: ERROR 1045 (28000): Access denied');
  return lines;
}

describe('execution-archive causes (spawned)', () => {
  let dir = '';
  let input = '';
  const lines = messages();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'causes-cli-'));
    input = join(dir, 'errors.txt');
    await writeFile(input, lines.join('\n') + '\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--json prints one cause per message, in input order, with keys derived from the template', async () => {
    const { code, stdout, stderr } = await run(['causes', '--input', input, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { cause: string; template: string });
    expect(out).toHaveLength(lines.length);
    const refused = out[0] ?? { cause: '', template: '' };
    expect(refused.template).toBe('<*> invoke t-<*> on i-<*>: curl: (<*>) Failed to connect to <*> port <*>: Connection refused');
    expect(refused.cause).toBe(causeKey('', '', null, refused.template));
    expect(out.filter((o) => o.cause === refused.cause)).toHaveLength(3000);
    expect(out[1]).toEqual({ cause: causeKey('', '', null, 'yum: Cannot find a valid baseurl for repo: base/7/x86_64 (attempt <*>)'), template: 'yum: Cannot find a valid baseurl for repo: base/7/x86_64 (attempt <*>)' });
    expect(out[out.length - 1]?.template).toContain('--password=<redacted>');
    expect(stdout).not.toContain('hunter2');
  });

  it('prints a table of the causes, largest first, from stdin', async () => {
    const { code, stdout } = await run(['causes'], lines.join('\n'));
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^count\s+cause\s+template$/);
    expect(rows[1]).toMatch(/^3,000 {2}[0-9a-f]{12} {2}<\*> invoke t-<\*> on i-<\*>: curl: \(<\*>\) Failed to connect/);
    expect(rows[2]).toMatch(/^ {3}20 {2}[0-9a-f]{12} {2}yum: Cannot find a valid baseurl for repo: base\/7\/x86_64/);
    expect(rows[3]).toContain('--password=<redacted>');
    expect(rows[rows.length - 1]).toBe('3,021 messages, 3 causes');
    expect(stdout).not.toContain('hunter2');
  });

  it('gives the same keys whatever else the input holds', async () => {
    const alone = await run(['causes', '--json'], lines.slice(0, 40).reverse().join('\n'));
    const full = await run(['causes', '--input', input, '--json']);
    const keys = (s: string) => new Set(s.trimEnd().split('\n').map((l) => (JSON.parse(l) as { cause: string }).cause));
    for (const key of keys(alone.stdout)) expect(keys(full.stdout).has(key)).toBe(true);
  });

  it('refuses unknown options (exit 2) and unreadable input (exit 1)', async () => {
    const bad = await run(['causes', '--jsn']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--jsn'/i);
    const missing = await run(['causes', '--input', join(dir, 'nope.txt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    expect(missing.stdout).toBe('');
  });
});
