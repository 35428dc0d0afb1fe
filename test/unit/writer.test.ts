import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFileStore } from '../../lib/archive/file';
import { spooledChunks, type SpooledBody } from '../../lib/archive/store';
import { NdjsonGzipBuffer, sha256Hex } from '../../lib/archive/writer';
import { rawTextOf, scanJson } from '../../lib/cloud/raw-json';

const bytesOf = async (body: SpooledBody, start?: number, end?: number) => Buffer.concat((await body.read(start, end).toArray()) as Buffer[]);
/** This process's spool files that still have a name in the temporary folder (none should: they are unlinked at once). */
const namedSpools = async () => (await readdir(tmpdir())).filter((f) => f.startsWith(`execution-archive-${process.pid}-`));

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
    const bytes = await bytesOf(body);
    const lines = gunzipSync(bytes).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual(input);
    expect(count).toBe(3);
    expect(body.size).toBe(bytes.length);
    expect(sha256).toBe(sha256Hex(bytes));
    await buffer.discard();
  });

  it('keeps the compressed bytes in a spool that reads back any range, as often as asked, until discarded', async () => {
    // Prepare: enough records for many zlib chunks
    const buffer = new NdjsonGzipBuffer();
    await buffer.write(records(20_000));
    const { body } = await buffer.finish();
    const whole = await bytesOf(body);
    // Act: ranges read side by side (a multipart upload's parts), then the whole again (a retry)
    const mid = Math.floor(body.size / 3);
    const [head, tail] = await Promise.all([bytesOf(body, 0, mid), bytesOf(body, mid)]);
    const again = await bytesOf(body);
    const empty = await bytesOf(body, mid, mid);
    // ... and as many times as a multipart upload with retries may read it, without warnings
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    for (let i = 0; i < 24; i++) expect((await bytesOf(body, i * 1000, i * 1000 + 5000)).equals(whole.subarray(i * 1000, i * 1000 + 5000))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    await buffer.discard();
    // Assess
    expect(whole.length).toBeGreaterThan(64 * 1024);
    expect(Buffer.concat([head, tail]).equals(whole)).toBe(true);
    expect(again.equals(whole)).toBe(true);
    expect(empty.length).toBe(0);
    expect(warnings).toEqual([]);
    expect(() => body.read()).toThrow(/not open/);
    expect(await namedSpools()).toEqual([]);
    await buffer.discard(); // a second discard does nothing
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
    expect((await bytesOf(b.body)).equals(await bytesOf(a.body))).toBe(true);
    await Promise.all([whole.discard(), split.discard(), asyncSplit.discard()]);
  });

  it('makes the same bytes of records added one at a time (add), waiting only when it returns a promise', async () => {
    // Prepare: more records than a batch, and a scanned record among them
    const input: unknown[] = records(2_500);
    const body = Buffer.from('{"RequestId":"r","Items":[{"a":1},{"b":[2,3]}]}');
    const scanned = scanJson(body, 3, (t) => Number(t));
    const items = (scanned as { Items?: unknown[] } | undefined)?.Items ?? [];
    input.splice(1_200, 0, ...items.map((item) => rawTextOf(item as object) ?? item));
    const whole = new NdjsonGzipBuffer();
    await whole.write(input);
    const one = new NdjsonGzipBuffer();
    // Act
    let waits = 0;
    for (const record of input) {
      const handed = one.add(record);
      if (handed) (waits++, await handed);
    }
    const [a, b] = await Promise.all([whole.finish(), one.finish()]);
    // Assess
    expect(waits).toBeGreaterThanOrEqual(2);
    expect(waits).toBeLessThan(input.length / 100);
    expect(b.records).toBe(input.length);
    expect(b.sha256).toBe(a.sha256);
    expect(gunzipSync(await bytesOf(b.body)).toString('utf8').split('\n')[1_200]).toBe('{"a":1}');
    await Promise.all([whole.discard(), one.discard()]);
  });

  it('counts the uncompressed bytes of every write at once, while its lines still wait in a batch spanning writes', async () => {
    // Prepare: pages far smaller than a batch (1,000 lines or 1 MiB), so nothing is handed to zlib before finish
    const pages = [records(10), records(25), records(3)];
    const buffer = new NdjsonGzipBuffer();
    let expected = 0;
    for (const page of pages) {
      // Act
      await buffer.write(page);
      // Assess: the part limits are checked against these numbers between pages
      expected += page.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)) + 1, 0);
      expect(buffer.bytes).toBe(expected);
    }
    const { body, records: count } = await buffer.finish();
    expect(count).toBe(38);
    expect(gunzipSync(await bytesOf(body)).length).toBe(expected);
    await buffer.discard();
  });

  it('keeps the order of a list that mixes records and stored texts', async () => {
    const stored = rawTextOf(scanJson(Buffer.from('{ "Invocation": { "InvokeId": "t-1" } }'), 4, Number) as object);
    const buffer = new NdjsonGzipBuffer();
    await buffer.write([{ n: 1 }]);
    await buffer.write([{ n: 2 }, stored, { n: 3 }]);
    const { body } = await buffer.finish();
    expect(gunzipSync(await bytesOf(body)).toString('utf8')).toBe('{"n":1}\n{"n":2}\n{"Invocation":{"InvokeId":"t-1"}}\n{"n":3}\n');
    expect(buffer.bytes).toBe(Buffer.byteLength('{"n":1}\n{"n":2}\n{"Invocation":{"InvokeId":"t-1"}}\n{"n":3}\n'));
    await buffer.discard();
  });

  it('hands the grown encoding buffer of a finished object to the next objects, which write only their own lines', async () => {
    // Prepare: a first object whose lines grow its buffer, then objects open side by side, written in turns
    const big = Array.from({ length: 1_500 }, (_, i) => ({ i, Output: 'x'.repeat(700) }));
    const first = new NdjsonGzipBuffer();
    await first.write(big);
    await first.finish();
    await first.discard();
    const objects = [new NdjsonGzipBuffer(), new NdjsonGzipBuffer(), new NdjsonGzipBuffer()];
    const inputs = objects.map((_, k) => records(50 + k));
    // Act
    for (let step = 0; step < 50; step++) {
      for (const [k, object] of objects.entries()) await object.write([inputs[k]?.[step]]);
    }
    for (const [k, object] of objects.entries()) await object.write(inputs[k]?.slice(50) ?? []);
    const finished = await Promise.all(objects.map((o) => o.finish()));
    // Assess
    for (const [k, { body }] of finished.entries()) {
      const lines = gunzipSync(await bytesOf(body)).toString('utf8').split('\n').filter(Boolean);
      expect(lines.map((l) => JSON.parse(l))).toEqual(inputs[k]);
    }
    await Promise.all(objects.map((o) => o.discard()));
  });

  it('counts uncompressed bytes in UTF-8', async () => {
    const buffer = new NdjsonGzipBuffer();
    await buffer.write([{ s: 'ü' }]);
    expect(buffer.bytes).toBe(Buffer.byteLength('{"s":"ü"}\n'));
    await buffer.discard();
  });
});

describe('spooledChunks', () => {
  it("reads a spool's range through the one buffer it is given, and a body without readInto through its stream", async () => {
    // Prepare: a spool of several 64 KiB chunks, and a body that only streams
    const gz = new NdjsonGzipBuffer();
    await gz.write(records(20_000));
    const { body } = await gz.finish();
    const whole = await bytesOf(body);
    const buffer = Buffer.allocUnsafe(10_000);
    const streamed: SpooledBody = { size: whole.length, read: (start = 0, end = whole.length) => Readable.from([whole.subarray(start, end)]) };
    // Act
    const sameMemory: boolean[] = [];
    const copies: Buffer[] = [];
    for await (const chunk of spooledChunks(body, 1_000, whole.length - 5, buffer)) {
      sameMemory.push(chunk.buffer === buffer.buffer && chunk.byteOffset === buffer.byteOffset);
      copies.push(Buffer.from(chunk));
    }
    const fallback: Buffer[] = [];
    for await (const chunk of spooledChunks(streamed, 3, 70_000, buffer)) fallback.push(Buffer.from(chunk));
    await gz.discard();
    // Assess
    expect(whole.length).toBeGreaterThan(64 * 1024);
    expect(sameMemory.length).toBe(Math.ceil((whole.length - 1_005) / 10_000));
    expect(sameMemory.every(Boolean)).toBe(true);
    expect(Buffer.concat(copies).equals(whole.subarray(1_000, whole.length - 5))).toBe(true);
    expect(Buffer.concat(fallback).equals(whole.subarray(3, 70_000))).toBe(true);
  });

  it('fails when the body ends before the range does', async () => {
    const short: SpooledBody = { size: 100, read: () => Readable.from([]), readInto: async () => 0 };
    await expect(async () => {
      for await (const chunk of spooledChunks(short, 0, 100, Buffer.alloc(16))) expect(chunk).toBeDefined();
    }).rejects.toThrow(/ended at 0 of 100/);
  });

  it('is how the file store copies a spooled body: never through its stream', async () => {
    // Prepare: a body whose stream must not be used
    const dir = await mkdtemp(join(tmpdir(), 'ea-spool-copy-'));
    const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    const body: SpooledBody = {
      size: data.length,
      read: () => {
        throw new Error('streamed');
      },
      readInto: async (position, length, into) => data.copy(into, 0, position, position + Math.min(length, into.length)),
    };
    try {
      // Act
      await createFileStore(dir).put('a/object.bin', body);
      // Assess
      expect((await readFile(join(dir, 'a', 'object.bin'))).equals(data)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
