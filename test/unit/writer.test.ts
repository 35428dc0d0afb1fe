import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NdjsonGzipBuffer, sha256Hex } from '../../lib/archive/writer';

function records(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    InstanceId: `i-bp1${String(i).padStart(17, '0')}`,
    Output: i % 7 === 0 ? '中文输出 ✅\r\nline two\n' + 'x'.repeat(i % 300) : `ok ${i}`,
    ExitCode: i % 5,
  }));
}

describe('NdjsonGzipBuffer', () => {
  it('writes one JSON line per record, exactly as given', async () => {
    // Prepare
    const input = records(3);
    const buffer = new NdjsonGzipBuffer();
    // Act
    await buffer.write(input);
    const { body, records: count, sha256 } = await buffer.finish();
    // Assess
    const lines = gunzipSync(body).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual(input);
    expect(count).toBe(3);
    expect(sha256).toBe(sha256Hex(body));
  });

  it('produces the same bytes however the records are split across writes (resume identity)', async () => {
    const input = records(5_000);
    const whole = new NdjsonGzipBuffer();
    await whole.write(input);
    const split = new NdjsonGzipBuffer();
    for (let i = 0; i < input.length; i += 37) await split.write(input.slice(i, i + 37));
    const asyncSplit = new NdjsonGzipBuffer();
    await asyncSplit.write((async function* () { yield* input; })());
    const [a, b, c] = await Promise.all([whole.finish(), split.finish(), asyncSplit.finish()]);
    expect(b.sha256).toBe(a.sha256);
    expect(c.sha256).toBe(a.sha256);
  });

  it('counts uncompressed bytes in UTF-8', async () => {
    const buffer = new NdjsonGzipBuffer();
    await buffer.write([{ s: 'ü' }]);
    expect(buffer.bytes).toBe(Buffer.byteLength('{"s":"ü"}\n'));
  });
});
