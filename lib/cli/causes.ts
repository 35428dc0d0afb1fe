/**
 * `execution-archive causes [--input FILE] [--json]`: groups messages, one per line (a file or stdin), into failure
 * causes with exactly the grouping summarize uses (secrets masked, variables masked, templates mined; see
 * lib/causes/miner.ts). With `--json`, one line per message in input order: `{"cause":"<key>","template":"…"}`;
 * without, a table of the causes, largest first: count, key, template. The key is the one summarize gives a cause
 * with the same template (status, error code and exit code empty).
 *
 * Groups may merge until the last message is read, so the output is written at the end; what is kept meanwhile is
 * the miner's bounded state and one group id (4 bytes) per message.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { OVERFLOW, TemplateMiner } from '../causes/miner';
import { OVERFLOW_GROUP_KEY } from '../summary/aggregate';
import { maskSecrets } from '../causes/secrets';
import { causeKey, prepareMessage } from '../causes/signature';
import type { CommandIo } from './io';

const USAGE = `usage: execution-archive causes [--input FILE] [--json]

Groups messages (one per line, from FILE or stdin) into failure causes, exactly as summarize does.
  --input FILE   read FILE instead of stdin
  --json         one line per message, in input order: {"cause":"<key>","template":"<template>"}
                 (default: a table of the causes, largest first: count, key, template)
`;

const OVERFLOW_TEMPLATE = '(causes beyond the group limit)';

/** Grows like an array of group ids, 4 bytes each. */
class IdList {
  private data = new Int32Array(4096);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i] ?? OVERFLOW;
  }
}

/** Writes text, waiting when the stream asks to (so a huge output does not pile up in memory). */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

/**
 * Runs the command; resolves to its exit code (0 ok, 1 the input cannot be read, 2 usage).
 * @example await causesCommand(['--input', 'errors.txt', '--json'], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr })
 */
export async function causesCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: { input?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { input: { type: 'string', short: 'i' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    io.stderr.write(`execution-archive causes: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }

  const miner = new TemplateMiner();
  const ids = new IdList();
  const source = values.input !== undefined ? createReadStream(values.input) : io.stdin;
  try {
    const lines = createInterface({ input: source, crlfDelay: Infinity });
    for await (const line of lines) ids.push(miner.add(prepareMessage(line)));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr.write(`execution-archive causes: cannot read ${values.input ?? 'stdin'}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  miner.settle();

  // Each final group once: its key and template (masked again on the way out, as everything summarize shows).
  const causes = new Map<number, { key: string; template: string; count: number }>();
  const causeOf = (id: number) => {
    const root = miner.resolve(id);
    let cause = causes.get(root);
    if (!cause) {
      const template = root === OVERFLOW ? OVERFLOW_TEMPLATE : maskSecrets(miner.template(root));
      cause = { key: root === OVERFLOW ? OVERFLOW_GROUP_KEY : causeKey('', '', null, template), template, count: 0 };
      causes.set(root, cause);
    }
    return cause;
  };

  if (values.json) {
    let chunk = '';
    for (let i = 0; i < ids.length; i++) {
      const cause = causeOf(ids.at(i));
      chunk += `${JSON.stringify({ cause: cause.key, template: cause.template })}\n`;
      if (chunk.length >= 65_536) {
        await write(io.stdout, chunk);
        chunk = '';
      }
    }
    if (chunk) await write(io.stdout, chunk);
    return 0;
  }

  for (let i = 0; i < ids.length; i++) causeOf(ids.at(i)).count += 1;
  // Templates that ended up equal are one cause (their keys are equal).
  const byKey = new Map<string, { key: string; template: string; count: number }>();
  for (const c of causes.values()) {
    const seen = byKey.get(c.key);
    if (seen) seen.count += c.count;
    else byKey.set(c.key, { ...c });
  }
  const rows = [...byKey.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  const width = Math.max(5, ...rows.map((r) => r.count.toLocaleString('en-US').length));
  let out = `${'count'.padStart(width)}  ${'cause'.padEnd(12)}  template\n`;
  for (const r of rows) out += `${r.count.toLocaleString('en-US').padStart(width)}  ${r.key.padEnd(12)}  ${r.template}\n`;
  out += `${ids.length.toLocaleString('en-US')} messages, ${rows.length.toLocaleString('en-US')} causes\n`;
  await write(io.stdout, out);
  return 0;
}
