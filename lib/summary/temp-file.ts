/**
 * Temporary files of a summary in the making: what would otherwise be held per record or per failure while an
 * archive streams in (the id lists, failure-lists.ts; the failed children, children.ts; the durations and finish
 * times, numbers.ts) waits in them instead. Every file is unlinked as soon as it is open, so a killed process
 * leaves nothing behind; written and read with synchronous calls (small, local, page-cached).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Bytes gathered per file before a write: a buffer of this size per file (allocated at its first line), reused for
 * every write. The lines are encoded into it as they come, so a line's string dies young, at once; gathered as
 * strings, they lived until the write (a partition file of a spool fills over many pages), were promoted to V8's old
 * generation and waited there, dead, for a full GC: every byte a spool wrote went through the old generation.
 */
const FLUSH_BYTES = 32 * 1024;
const READ_BYTES = 64 * 1024;

/** A temporary file, unlinked once open: lines of text appended (`append`) or bytes (`appendBytes`), read back. */
export class TempFile {
  readonly fd: number;
  /** Bytes written to the file (what `append` still gathers is not counted until {@link flush}). */
  size = 0;
  /** The lines gathered since the last write, encoded (UTF-8); allocated at the first line. */
  private buffer: Buffer | undefined;
  private used = 0;

  constructor(name: string) {
    const path = join(tmpdir(), `execution-archive-${process.pid}-${name}-${randomBytes(6).toString('hex')}.tmp`);
    this.fd = fs.openSync(path, 'wx+', 0o600);
    try {
      fs.unlinkSync(path);
    } catch {
      // Where an open file cannot be removed it stays until the process ends.
    }
  }

  append(line: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, 4).
    const most = line.length * 3;
    const buffer = (this.buffer ??= Buffer.allocUnsafe(FLUSH_BYTES));
    if (this.used + most > buffer.length) {
      this.flush();
      if (most > buffer.length) {
        this.write(Buffer.from(line, 'utf8'));
        return;
      }
    }
    this.used += buffer.write(line, this.used, 'utf8');
  }

  /** Bytes gathered and not yet written (the file's length is {@link size} + this). */
  get pending(): number {
    return this.used;
  }

  /** Appends bytes `from`..`to` of `bytes`, gathered with the lines (copied into the file's buffer: `bytes` may be reused at once). */
  appendCopy(bytes: Uint8Array, from: number, to: number): void {
    const length = to - from;
    const buffer = (this.buffer ??= Buffer.allocUnsafe(FLUSH_BYTES));
    if (this.used + length > buffer.length) {
      this.flush();
      if (length > buffer.length) {
        this.write(bytes.subarray(from, to));
        return;
      }
    }
    buffer.set(bytes.subarray(from, to), this.used);
    this.used += length;
  }

  /** Appends bytes (after the text gathered so far). */
  appendBytes(bytes: Uint8Array): void {
    this.flush();
    this.write(bytes);
  }

  /** Writes what {@link append} gathered. */
  flush(): void {
    if (this.used === 0 || !this.buffer) return;
    const used = this.used;
    this.used = 0;
    this.write(this.buffer.subarray(0, used));
  }

  private write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.size + done);
    this.size += bytes.length;
  }

  /** `length` bytes from `position` into `into` (from its start); returns how many were read. */
  readInto(position: number, length: number, into: Uint8Array): number {
    this.flush();
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, into, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /** The whole file as text (one partition of a spool: a share of what it holds). */
  readAll(): string {
    this.flush();
    const buffer = Buffer.allocUnsafe(this.size);
    const n = this.readInto(0, this.size, buffer);
    return buffer.toString('utf8', 0, n);
  }

  /**
   * The whole file's bytes, read into `into` when it is large enough, else into a new buffer of the file's size
   * (returned as `buffer` to be passed for the next file): reused from one file to the next. Size `into` for the
   * largest file when the sizes are known: a buffer grown file after file leaves the smaller ones behind as garbage.
   * @returns the buffer read into and the file's bytes in it.
   */
  readAllInto(into: Buffer): { buffer: Buffer; bytes: Buffer } {
    this.flush();
    const buffer = into.length >= this.size ? into : Buffer.allocUnsafe(this.size);
    return { buffer, bytes: buffer.subarray(0, this.readInto(0, this.size, buffer)) };
  }

  /**
   * The file's bytes, {@link READ_BYTES} at a time, each chunk read into `buffer` (from its start; by default a buffer
   * of its own): valid until the next is asked for.
   */
  *chunks(chunkBytes = READ_BYTES, buffer: Buffer = Buffer.allocUnsafe(chunkBytes)): Generator<Buffer> {
    this.flush();
    for (let position = 0; position < this.size; ) {
      const n = this.readInto(position, Math.min(chunkBytes, this.size - position), buffer);
      if (n === 0) break;
      position += n;
      yield buffer.subarray(0, n);
    }
  }

  /** The file's lines, read 64 KiB at a time. */
  *lines(): Generator<string> {
    let rest = '';
    for (const buffer of this.chunks()) {
      const n = buffer.length;
      // Lines end with \n and what is written holds no raw newline inside a line, so a chunk's text is decoded whole
      // only up to its last newline.
      const end = buffer.lastIndexOf(0x0a, n - 1);
      if (end < 0) {
        rest += buffer.toString('utf8', 0, n);
        continue;
      }
      const text = rest + buffer.toString('utf8', 0, end);
      rest = buffer.toString('utf8', end + 1, n);
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        yield text.slice(from, nl);
        from = nl + 1;
      }
      yield text.slice(from);
    }
    if (rest) yield rest;
  }

  close(): void {
    this.buffer = undefined;
    this.used = 0;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/**
 * 32-bit FNV-1a of a string's UTF-16 code units: which partition or bucket of a spool a key goes to.
 * @example hash32('i-bp1') % 32
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What {@link escapeField} escapes: `\`, tab, line feed, and a surrogate without its pair (UTF-8 has no form for it). */
const TO_ESCAPE = /[\\\t\n]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Whether a text may need it (a cheap test first: most texts hold none of these characters). */
const MAY_ESCAPE = /[\\\t\n\uD800-\uDFFF]/;

/**
 * A text as one field of a tab-separated line of a UTF-8 file: `\`, tab and line feed escaped (`\\`, `\t`, `\n`), and
 * a surrogate without its pair as `\uXXXX` (UTF-8 would turn it into U+FFFD). Injective, so escaped keys compare as
 * the texts do; {@link unescapeField} gives the text back exactly.
 * @example escapeField('a\tb') // 'a\\tb'
 */
export function escapeField(text: string): string {
  if (!MAY_ESCAPE.test(text)) return text;
  return text.replace(TO_ESCAPE, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The text {@link escapeField} escaped. */
export function unescapeField(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\(u[0-9a-f]{4}|[\s\S])/g, (_, c: string) =>
    c === 't' ? '\t' : c === 'n' ? '\n' : c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : c,
  );
}
