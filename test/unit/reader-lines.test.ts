import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineSplitter, readRecords } from '../../lib/archive/reader';
import { storeGzipObject, NdjsonGzipBuffer } from '../../lib/archive/writer';
import { createMemoryStore } from '../helpers/memory-store';

/** Characters `String.prototype.indexOf` looked at while `fn` ran (from its start position to the end). */
async function charactersSearched(fn: () => Promise<void>): Promise<number> {
  const original = String.prototype.indexOf;
  let searched = 0;
  const spy = vi.spyOn(String.prototype, 'indexOf').mockImplementation(function (this: string, search: string, position?: number) {
    searched += this.length - Math.max(0, position ?? 0);
    return original.call(this, search, position);
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return searched;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('LineSplitter', () => {
  it('joins lines across chunks, keeps multi-byte characters split between chunks, and returns the tail', () => {
    // Prepare
    const text = 'first\n中文输出 ✅ over chunks\n\nlast without newline';
    const bytes = Buffer.from(text, 'utf8');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    // Act: three bytes at a time, so every multi-byte character and every line is cut somewhere
    for (let i = 0; i < bytes.length; i += 3) lines.push(...splitter.push(bytes.subarray(i, i + 3)));
    const tail = splitter.end();
    // Assess
    expect(lines).toEqual(['first', '中文输出 ✅ over chunks', '']);
    expect(tail).toBe('last without newline');
  });

  it('returns an empty tail after a final newline', () => {
    const splitter = new LineSplitter();
    expect([...splitter.push(Buffer.from('a\nb\n'))]).toEqual(['a', 'b']);
    expect(splitter.end()).toBe('');
  });
});

describe('readRecords on long lines', () => {
  it('searches each decompressed character about once, however many chunks a line spans', async () => {
    // Prepare: three records of 2 MB each, read back in 4 KB chunks (about 500 chunks per line)
    const store = createMemoryStore({ chunkSize: 4096 });
    const records = [0, 1, 2].map((i) => ({ InstanceId: `i-${i}`, Output: `${i}`.repeat(2 * 1024 * 1024) }));
    const buffer = new NdjsonGzipBuffer();
    await buffer.write(records);
    const entry = await storeGzipObject(store, 'ecs/cn-hangzhou/t-long/part-00000.ndjson.gz', buffer);
    const read: Array<Record<string, unknown>> = [];
    // Act
    const searched = await charactersSearched(async () => {
      for await (const record of readRecords(store, entry)) read.push(record);
    });
    // Assess: the records come back whole, and the work is linear (re-searching each growing line was ~1,500x this)
    expect(read).toEqual(records);
    const total = records.reduce((n, r) => n + JSON.stringify(r).length + 1, 0);
    expect(searched).toBeLessThan(2 * total);
  });
});
