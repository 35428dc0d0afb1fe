/**
 * `npm run bench:secrets`: how fast secret masking is and what it touches.
 *
 * - real log lines: the 16,000 messages of Loghub-2k (../shared/benchmarks/loghub-2k): lines per second, and how many
 *   masking changed (none should: they hold no secrets);
 * - 24 KB outputs (Cloud Assistant's cut-off): outputs per second;
 * - hostile 24 KB inputs built to make backtracking regular expressions explode: the slowest one;
 * - random base64 strings that no named rule matches: the share the entropy rule catches.
 *
 *   npm run bench:secrets -- [--data ../shared/benchmarks/loghub-2k]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { maskSecrets } from '../lib/causes/secrets';

const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/benchmarks/loghub-2k' } } });

function seconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const rows: [string, string][] = [];

const dir = resolve(values.data);
if (existsSync(dir)) {
  const lines: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const content = (JSON.parse(line) as { content?: unknown }).content;
      if (typeof content === 'string') lines.push(content);
    }
  }
  let changed = 0;
  const t = seconds(() => {
    for (let round = 0; round < 5; round++) for (const l of lines) if (maskSecrets(l) !== l && round === 0) changed++;
  });
  rows.push([`Loghub-2k messages (${lines.length.toLocaleString('en-US')})`, `${Math.round((lines.length * 5) / t).toLocaleString('en-US')} lines/s; ${changed} changed`]);
} else {
  rows.push(['Loghub-2k messages', `not found at ${dir}`]);
}

const output = Array.from({ length: 400 }, (_, i) => `[${i}] step ${i}: copying /var/lib/app/data-${i}.db to 10.0.${i % 250}.7 (exit code 0)`).join('\n').slice(0, 24 * 1024);
const outputs = 200;
const t24 = seconds(() => {
  for (let i = 0; i < outputs; i++) maskSecrets(output + i);
});
rows.push(['24 KB outputs', `${Math.round(outputs / t24).toLocaleString('en-US')} outputs/s (${((t24 / outputs) * 1000).toFixed(2)} ms each)`]);

const size = 24 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const hostile = ['a', 'aA1', 'password=', 'password:', 'eyJ', 'eyJa.', '-p', 'mysql -u', 'a://', 'https://a:b', 'Authorization: ', 'Bearer ', 'LTAI', '-----BEGIN ', '--password ', 'a_b.', '密码为', 'access_key_secret ', 'aZ09+/', 'mysql -pa '];
let worst = { unit: '', ms: 0 };
for (const unit of hostile) {
  const text = fill(unit);
  const ms = seconds(() => maskSecrets(text)) * 1000;
  if (ms > worst.ms) worst = { unit, ms };
}
rows.push([`hostile 24 KB inputs (${hostile.length})`, `slowest ${worst.ms.toFixed(1)} ms (${JSON.stringify(worst.unit)} repeated)`]);

let x = 11;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const random = (n: number) => Array.from({ length: n }, () => B64[((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % 64]).join('');
for (const n of [24, 32, 40, 64]) {
  const strings = Array.from({ length: 1000 }, () => random(n));
  const caught = strings.filter((s) => !maskSecrets(`got ${s} back`).includes(s)).length;
  rows.push([`random base64, ${n} characters`, `${(caught / 10).toFixed(1)}% masked`]);
}

const width = Math.max(...rows.map(([k]) => k.length));
console.log('secret masking (lib/causes/secrets.ts)\n');
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
