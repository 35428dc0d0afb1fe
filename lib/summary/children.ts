/**
 * The failed child executions of an OOS archive (`related/failed-child-executions`), joined to its failed records
 * without holding them: a failed record's cause reads the `StatusMessage` of the failed child that names its
 * resource, and an archive of a million records at 30 % failed has 300,000 of them.
 *
 * Which child names a resource: every string in the child's `Parameters` (any key, strings and arrays, nested, JSON
 * held in strings read as JSON), `Outputs` and `Targets`, whole when it is at most 256 characters, and each id-like
 * token of a longer one ({@link childTokens}). OOS names the resource a loop's child acts on in its parameters
 * (`ACS-ECS-BulkyRunCommand`: `instanceId`; a `targets` parameter: `ResourceIds`); an id may also stand only in
 * an output. When several children name one resource, the one that ended last wins (`EndDate`; among equal ends,
 * the one listed last).
 *
 * How it is kept ({@link ChildSpool}): as children are added, each one's `StatusMessage` is appended to a messages
 * file, and each of its tokens, with the child's end and where its message is, to one of {@link PARTITIONS}
 * partition files by a hash of the token. Once the children are complete ({@link ChildSpool.complete}), each
 * partition is read alone (1/{@link PARTITIONS} of the tokens in memory at a time), the winner of each token
 * chosen, and the winners written to an index file grouped in hash buckets; what stays in memory is the buckets'
 * directory (at most {@link MAX_BUCKETS} entries, 12 bytes each, sized for ~16 tokens a bucket). A failed record's
 * lookup reads its bucket (one read of ~1 KB) and the winner's message (one read, usually from a window already
 * read: children and records tend to come in the same or the reverse order). Memory is O(1) in the children;
 * disk is ~60 bytes a token plus the messages.
 *
 * The durations of the failed children (`StartDate` → `EndDate`, each `ExecutionId` once) wait in partition files
 * by a hash of the id, deduplicated a partition at a time at the end, their p50/p90 read from a file (numbers.ts).
 */
import { Float64Spool, spooledDurationStats, type DurationStats } from './numbers';

import { escapeField, hash32, TempFile, unescapeField } from './temp-file';

/** Partition files of the tokens and of the durations. */
export const PARTITIONS = 32;
/** Most buckets of the lookup index (its directory: 12 bytes each in memory). */
export const MAX_BUCKETS = 1 << 18;
/** Tokens per bucket the index is sized for. */
const TOKENS_PER_BUCKET = 16;
/** Characters of a `StatusMessage` kept (the causes read its start). */
const MESSAGE_CHARS = 8192;
/** Bytes of the messages file read at once around a message asked for. */
const MESSAGE_WINDOW = 64 * 1024;

/**
 * An id-like token of a longer string (`i-bp1…`, `exec-…`, `web-17`). The look-behind skips a letter that follows a
 * letter: a match could start there only if one started a letter earlier (both end where the run of letters and
 * digits does), and trying each of them re-scanned the word, quadratic in its length. Read with `exec`, not
 * `matchAll`, and not at all in a text without a `-`.
 */
const ID_LIKE = /(?<![A-Za-z])[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9-]{4,}/g;

/** Strings in a value that might name a resource: whole short strings and id-like tokens of longer ones. */
function resourceTokens(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 6) return;
  if (typeof value === 'string') {
    const t = value.trim();
    if (t === '') return;
    if ((t.startsWith('{') || t.startsWith('[')) && t.length < 1_000_000) {
      try {
        resourceTokens(JSON.parse(t), out, depth + 1);
        return;
      } catch {
        // not JSON: fall through to tokens
      }
    }
    if (t.length <= 256) out.add(t);
    if (!t.includes('-')) return;
    ID_LIKE.lastIndex = 0;
    for (let m = ID_LIKE.exec(t); m; m = ID_LIKE.exec(t)) out.add(m[0]);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) resourceTokens(v, out, depth + 1);
    return;
  }
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) resourceTokens(v, out, depth + 1);
  }
}

/**
 * The strings by which a failed child is found: each string of its `Parameters`, `Outputs` and `Targets` (whole when
 * at most 256 characters, else its id-like tokens), each once.
 * @example childTokens({ Parameters: { instanceId: 'i-1', region: 'cn-shanghai' } }) // ['i-1', 'cn-shanghai']
 */
export function childTokens(child: Record<string, unknown>): string[] {
  const tokens = new Set<string>();
  resourceTokens(child.Parameters, tokens);
  resourceTokens(child.Outputs, tokens);
  resourceTokens(child.Targets, tokens);
  return [...tokens];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** A child's duration in seconds (`StartDate` → `EndDate`), if both parse and it ended after it started. */
function durationOf(child: Record<string, unknown>): number | undefined {
  const start = str(child.StartDate);
  const end = str(child.EndDate);
  const s = start ? Date.parse(start) : NaN;
  const e = end ? Date.parse(end) : NaN;
  return Number.isFinite(s) && Number.isFinite(e) && e >= s ? (e - s) / 1000 : undefined;
}

/** The lookup index: winners by bucket, and where each bucket is. */
interface Lookup {
  file: TempFile;
  /** Buckets per partition. */
  buckets: number;
  start: Float64Array;
  length: Uint32Array;
}

/**
 * The failed children of one archive, spooled: {@link add} each as it is listed, {@link complete} once the listing
 * is, then {@link statusMessage} per failed record and {@link durations}. Drop with {@link discard}.
 * @example
 *   const children = await spoolChildren(readRelated(store, manifest, 'failed-child-executions'));
 *   children.statusMessage('i-bp1…') // the StatusMessage of the child that names it, or undefined
 */
export class ChildSpool {
  /** Children added. */
  count = 0;
  private messages: TempFile | undefined;
  private messageBytes = 0;
  private tokens: TempFile[] | undefined;
  private tokenEntries = 0;
  private runs: TempFile[] | undefined;
  private lookup: Lookup | undefined;
  private stats: DurationStats | null = null;
  private done = false;
  /** complete() under way (no child may be added): the token partitions still to index, and the next one. */
  private completing: { partitions: TempFile[]; next: number } | undefined;
  /** The part of the messages file last read, and where it starts. */
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private bucketBuffer = Buffer.allocUnsafe(4096);

  /** Whether it is complete (after {@link complete}, or the last of {@link completeStep}). */
  get completed(): boolean {
    return this.done;
  }

  /** Adds one failed child execution (in listing order). */
  add(child: Record<string, unknown>): void {
    if (this.done || this.completing) throw new Error('the failed children are complete: no child can be added');
    this.messages ??= new TempFile('child-messages');
    this.tokens ??= Array.from({ length: PARTITIONS }, (_, i) => new TempFile(`child-tokens${i}`));
    this.runs ??= Array.from({ length: PARTITIONS }, (_, i) => new TempFile(`child-runs${i}`));
    this.count += 1;
    // Escaped (escapeField): UTF-8 gives back any text then, a surrogate cut from its pair too.
    const message = escapeField(str(child.StatusMessage).slice(0, MESSAGE_CHARS));
    const at = this.messageBytes;
    const bytes = Buffer.byteLength(message);
    this.messages.append(message);
    this.messageBytes += bytes;
    const place = `${escapeField(str(child.EndDate))}\t${at}\t${bytes}\t`;
    for (const token of childTokens(child)) {
      const key = escapeField(token);
      this.tokens[hash32(key) % PARTITIONS]?.append(`${place}${key}\n`);
      this.tokenEntries += 1;
    }
    const id = escapeField(str(child.ExecutionId));
    const seconds = durationOf(child);
    this.runs[hash32(id) % PARTITIONS]?.append(`${seconds === undefined ? '' : String(seconds)}\t${id}\n`);
  }

  /**
   * The children are all there: builds the lookup index (a partition of the tokens at a time) and the durations. Once;
   * later calls do nothing.
   */
  complete(): void {
    while (!this.completeStep());
  }

  /**
   * One step of {@link complete}: the durations with the index's start, then one partition of the tokens indexed per
   * call; true once complete. For a caller that must not stop for long at once (collect's walk: a step after each
   * page, while the next page is on the wire). No child can be added after the first step.
   */
  completeStep(): boolean {
    if (this.done) return true;
    if (!this.completing) {
      this.stats = this.settleDurations();
      const partitions = this.tokens;
      this.tokens = undefined;
      if (!partitions) {
        this.done = true;
        return true;
      }
      const buckets = Math.max(1, Math.min(MAX_BUCKETS / PARTITIONS, Math.ceil(this.tokenEntries / PARTITIONS / TOKENS_PER_BUCKET)));
      this.lookup = { file: new TempFile('child-index'), buckets, start: new Float64Array(PARTITIONS * buckets), length: new Uint32Array(PARTITIONS * buckets) };
      this.completing = { partitions, next: 0 };
      return false;
    }
    const p = this.completing.next++;
    const partition = this.completing.partitions[p];
    if (partition && this.lookup) this.indexPartition(this.lookup, partition, p);
    if (this.completing.next >= this.completing.partitions.length) {
      this.completing = undefined;
      this.done = true;
    }
    return this.done;
  }

  /** The winners of partition `p`'s tokens, by bucket, appended to the index. */
  private indexPartition(lookup: Lookup, partition: TempFile, p: number): void {
    const { buckets } = lookup;
    // The winner of each token of the partition: the child that ended last, the one listed last among equals.
    const winners = new Map<string, [end: string, line: string]>();
    const text = partition.readAll();
    partition.close();
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; from = nl + 1, nl = text.indexOf('\n', from)) {
      const a = text.indexOf('\t', from);
      const c = text.indexOf('\t', text.indexOf('\t', a + 1) + 1);
      const key = text.slice(c + 1, nl);
      const end = unescapeField(text.slice(from, a));
      const prev = winners.get(key);
      if (!prev || end >= prev[0]) winners.set(key, [end, text.slice(a + 1, nl + 1)]);
    }
    const byBucket: string[][] = Array.from({ length: buckets }, () => []);
    for (const [key, [, line]] of winners) byBucket[bucketOf(key, buckets)]?.push(line);
    byBucket.forEach((lines, b) => {
      if (lines.length === 0) return;
      const bytes = Buffer.from(lines.join(''), 'utf8');
      lookup.start[p * buckets + b] = lookup.file.size;
      lookup.length[p * buckets + b] = bytes.length;
      lookup.file.appendBytes(bytes);
    });
  }

  /**
   * The `StatusMessage` of the failed child that names `resourceId` (see the module's comment), `undefined` when none
   * does. After {@link complete}.
   */
  statusMessage(resourceId: string): string | undefined {
    const lookup = this.lookup;
    if (!this.done) throw new Error('the failed children are not complete yet');
    if (!lookup) return undefined;
    const key = escapeField(resourceId);
    const h = hash32(key);
    const i = (h % PARTITIONS) * lookup.buckets + bucketOf(key, lookup.buckets, h);
    const length = lookup.length[i] ?? 0;
    if (length === 0) return undefined;
    if (this.bucketBuffer.length < length) this.bucketBuffer = Buffer.allocUnsafe(Math.max(length, this.bucketBuffer.length * 2));
    const n = lookup.file.readInto(lookup.start[i] ?? 0, length, this.bucketBuffer);
    const text = this.bucketBuffer.toString('utf8', 0, n);
    // Lines `at \t bytes \t key`: a key holds no raw tab or line feed, so `\t key \n` is a whole last field.
    const found = text.indexOf(`\t${key}\n`);
    if (found < 0) return undefined;
    const lineStart = text.lastIndexOf('\n', found - 1) + 1;
    const tab = text.indexOf('\t', lineStart);
    return this.message(Number(text.slice(lineStart, tab)), Number(text.slice(tab + 1, found)));
  }

  /** Durations of the failed children, each `ExecutionId` once (`null` when none has both dates). After {@link complete}. */
  get durations(): DurationStats | null {
    return this.stats;
  }

  /** Closes (and so deletes) every file. */
  discard(): void {
    for (const f of [this.messages, this.lookup?.file, ...(this.tokens ?? []), ...(this.runs ?? []), ...(this.completing?.partitions.slice(this.completing.next) ?? [])]) f?.close();
    this.completing = undefined;
    this.messages = undefined;
    this.lookup = undefined;
    this.tokens = undefined;
    this.runs = undefined;
    this.window = Buffer.alloc(0);
  }

  /** The message of `bytes` bytes at `at` in the messages file, through a window of the file around it. */
  private message(at: number, bytes: number): string {
    if (bytes === 0 || !this.messages) return '';
    if (at < this.windowStart || at + bytes > this.windowStart + this.window.length) {
      // Centred on the message: records and children come in the same order or the reverse one, as a rule.
      const size = Math.max(bytes, MESSAGE_WINDOW);
      const start = Math.max(0, Math.min(at - (size - bytes) / 2, this.messageBytes - size));
      if (this.window.length < size) this.window = Buffer.allocUnsafe(size);
      const n = this.messages.readInto(Math.floor(start), Math.min(size, this.messageBytes - Math.floor(start)), this.window);
      this.window = this.window.subarray(0, n);
      this.windowStart = Math.floor(start);
    }
    return unescapeField(this.window.toString('utf8', at - this.windowStart, at - this.windowStart + bytes));
  }

  /** The durations: each partition of the runs read alone, each ExecutionId once (the first listed). */
  private settleDurations(): DurationStats | null {
    const partitions = this.runs;
    this.runs = undefined;
    if (!partitions) return null;
    const values = new Float64Spool(1);
    try {
      for (const partition of partitions) {
        const seen = new Set<string>();
        for (const line of partition.lines()) {
          if (line === '') continue;
          const tab = line.indexOf('\t');
          const id = line.slice(tab + 1);
          if (seen.has(id)) continue;
          seen.add(id);
          if (tab > 0) values.push(Number(line.slice(0, tab)));
        }
        partition.close();
      }
      return spooledDurationStats(values, 'failed-child-executions');
    } finally {
      values.discard();
    }
  }
}

/** The bucket of a key within its partition (`h`: its {@link hash32}). */
function bucketOf(key: string, buckets: number, h = hash32(key)): number {
  return Math.floor(h / PARTITIONS) % buckets;
}

/**
 * Spools every failed child of a listing and completes the spool.
 * @example const children = await spoolChildren(readRelated(store, manifest, 'failed-child-executions'));
 */
export async function spoolChildren(children: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>): Promise<ChildSpool> {
  const spool = new ChildSpool();
  try {
    for await (const child of children) spool.add(child);
    spool.complete();
    return spool;
  } catch (err) {
    spool.discard();
    throw err;
  }
}
