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
import { detached } from '../cloud/paginate';
import { str } from '../fields';

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
/** Tokens named by many children (a region, a command type) whose winner so far is kept in memory, at most. */
const HOT_TOKENS = 1024;
/** Fingerprints of the tokens seen, by which a token is known to repeat (a power of 2). */
const SEEN_SLOTS = 1 << 14;

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
  /** Lines written to each partition of the tokens (what its index needs room for). */
  private tokenLines = new Int32Array(PARTITIONS);
  /** Tokens seen more than once, each with its winner so far (written to its partition once the children are complete). */
  private readonly hot = new HotTokens();
  private runs: TempFile[] | undefined;
  private lookup: Lookup | undefined;
  private stats: DurationStats | null = null;
  private done = false;
  /** complete() under way (no child may be added): the token partitions still to index, and the next one. */
  private completing: { partitions: TempFile[]; next: number; work: IndexWork } | undefined;
  /** The part of the messages file last read, and where it starts. */
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private bucketBuffer = Buffer.allocUnsafe(4096);
  /** Where {@link statusMessage} encodes the bytes it looks for. */
  private needle = Buffer.allocUnsafe(256);

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
    const end = str(child.EndDate);
    const place = `${escapeField(end)}\t${at}\t${bytes}\t`;
    for (const token of childTokens(child)) {
      const key = escapeField(token);
      const h = hash32(key);
      if (this.hot.offer(key, h, end, at, bytes)) continue;
      this.appendToken(h % PARTITIONS, `${place}${key}\n`);
    }
    const id = escapeField(str(child.ExecutionId));
    const seconds = durationOf(child);
    this.runs[hash32(id) % PARTITIONS]?.append(`${seconds === undefined ? '' : String(seconds)}\t${id}\n`);
  }

  private appendToken(p: number, line: string): void {
    this.tokens?.[p]?.append(line);
    this.tokenLines[p] = (this.tokenLines[p] ?? 0) + 1;
    this.tokenEntries += 1;
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
      // The repeated tokens' winners go last: each stands for children listed after its lines already written.
      for (const [key, w] of this.hot.drain()) this.appendToken(hash32(key) % PARTITIONS, `${escapeField(w.end)}\t${w.at}\t${w.bytes}\t${key}\n`);
      this.stats = this.settleDurations();
      const partitions = this.tokens;
      this.tokens = undefined;
      if (!partitions) {
        this.done = true;
        return true;
      }
      const buckets = Math.max(1, Math.min(MAX_BUCKETS / PARTITIONS, Math.ceil(this.tokenEntries / PARTITIONS / TOKENS_PER_BUCKET)));
      this.lookup = { file: new TempFile('child-index'), buckets, start: new Float64Array(PARTITIONS * buckets), length: new Uint32Array(PARTITIONS * buckets) };
      // Room for the largest partition, made once: grown partition after partition, the buffers left behind (a
      // doubling each time) waited, dead, for a full GC: ~20 MB of peak RSS at 150,000 failed children.
      let bytes = 0;
      for (const partition of partitions) {
        partition.flush();
        bytes = Math.max(bytes, partition.size);
      }
      this.completing = { partitions, next: 0, work: new IndexWork(bytes, Math.max(...this.tokenLines), buckets) };
      return false;
    }
    const p = this.completing.next++;
    const partition = this.completing.partitions[p];
    if (partition && this.lookup) this.indexPartition(this.lookup, partition, p, this.completing.work);
    if (this.completing.next >= this.completing.partitions.length) {
      this.completing = undefined;
      this.done = true;
    }
    return this.done;
  }

  /** The winners of partition `p`'s tokens, by bucket, appended to the index. */
  private indexPartition(lookup: Lookup, partition: TempFile, p: number, work: IndexWork): void {
    const { buckets } = lookup;
    const { buffer, bytes } = partition.readAllInto(work.input);
    work.input = buffer;
    partition.close();
    winnersByBucket(bytes, buckets, work);
    // The winners' lines (from after the end field), bucket after bucket, through the index file's own buffer.
    let offset = lookup.file.size + lookup.file.pending;
    for (let b = 0; b < buckets; b++) {
      let length = 0;
      for (let j = work.bucketHead[b] ?? -1; j >= 0; j = work.next[j] ?? -1) {
        const from = bytes.indexOf(TAB, work.lineStart[j] ?? 0) + 1;
        const to = (work.lineEnd[j] ?? 0) + 1;
        lookup.file.appendCopy(bytes, from, to);
        length += to - from;
      }
      if (length === 0) continue;
      lookup.start[p * buckets + b] = offset;
      lookup.length[p * buckets + b] = length;
      offset += length;
    }
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
    // Lines `at \t bytes \t key`: a key holds no raw tab or line feed, so `\t key \n` is a whole last field. Searched
    // as bytes (the bucket is not decoded: a string of it per failed record was most of what a lookup allocated).
    const needle = `\t${key}\n`;
    if (this.needle.length < needle.length * 3) this.needle = Buffer.allocUnsafe(needle.length * 3);
    const needleBytes = this.needle.subarray(0, this.needle.write(needle, 'utf8'));
    const bucket = this.bucketBuffer.subarray(0, n);
    const found = bucket.indexOf(needleBytes);
    if (found < 0) return undefined;
    const lineStart = found === 0 ? 0 : bucket.lastIndexOf(LF, found - 1) + 1;
    const tab = bucket.indexOf(TAB, lineStart);
    return this.message(Number(bucket.toString('latin1', lineStart, tab)), Number(bucket.toString('latin1', tab + 1, found)));
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

/** The winner so far of a token: the end of the child that names it and where that child's message is. */
interface Winner {
  end: string;
  at: number;
  bytes: number;
}

/**
 * Tokens that many children name (the region, the command type, a shared output line): each would add a line per
 * child to one partition (150,000 lines of `cn-hangzhou` in the one partition it hashes to: the largest partition,
 * for which the index's buffers are sized). A token is admitted on its second sighting (a table of fingerprints says
 * whether it came before; a token seen once, such as an instance id, leaves only its fingerprint) and then its winner
 * so far is kept here instead, at most {@link HOT_TOKENS} of them; {@link drain} hands them over at the end. The
 * winner rule is the index's: the later end wins, among equal ends the later child (the one offered later).
 */
class HotTokens {
  private readonly winners = new Map<string, Winner>();
  private readonly seen = new Uint32Array(SEEN_SLOTS);

  /** Takes a child's token (`h`: its hash32) when it is kept here; false: write its line as always. */
  offer(key: string, h: number, end: string, at: number, bytes: number): boolean {
    const kept = this.winners.get(key);
    if (kept !== undefined) {
      // Ends compare as texts, as the index compares them (children.ts endsAtOrAfter).
      if (end >= kept.end) {
        kept.end = end;
        kept.at = at;
        kept.bytes = bytes;
      }
      return true;
    }
    const print = (h | 1) >>> 0;
    const slot = (h >>> 1) & (SEEN_SLOTS - 1);
    if (this.seen[slot] !== print) {
      this.seen[slot] = print;
      return false;
    }
    if (this.winners.size >= HOT_TOKENS) return false;
    // Own copies: a token may be a slice of a larger string (an output) that it must not keep alive.
    this.winners.set(detached(key), { end: detached(end), at, bytes });
    return true;
  }

  /** The tokens kept and their winners; empties it. */
  *drain(): Generator<[string, Winner]> {
    const all = [...this.winners];
    this.winners.clear();
    yield* all;
  }
}

/**
 * What building the lookup index reuses from one partition to the next: the partition's bytes, the index's bytes, and
 * per line and per slot arrays. The partition is read as bytes, not as a string: its tokens as strings, a map of
 * them and their lines, all alive while the partition was read, were promoted to V8's old generation (a partition is
 * ~1/32 of every child's tokens) and died there, ~140 MB of heap at 300,000 failed children before a full GC.
 */
class IndexWork {
  input: Buffer;
  /** Per line: where it starts, where its key starts, its line feed. */
  lineStart: Int32Array;
  keyStart: Int32Array;
  lineEnd: Int32Array;
  /** Per line: its key's {@link hash32} (when its key is ASCII; else computed from the text), its bucket. */
  hash: Uint32Array;
  /** Open addressing: a line per slot, -1 for none. */
  slots: Int32Array;
  /** Per line: the next winner of its bucket (-1: none), in the order of the slots. */
  next: Int32Array;
  /** Per bucket: its first and last winner (-1: none). */
  bucketHead: Int32Array;
  bucketTail: Int32Array;

  /**
   * Room for partitions of up to `bytes` bytes and `lines` lines and for `buckets` buckets, made at once (the caller
   * knows the largest partition): nothing is grown and left behind from one partition to the next.
   */
  constructor(bytes: number, lines: number, buckets: number) {
    this.input = Buffer.allocUnsafe(bytes);
    this.lineStart = new Int32Array(lines);
    this.keyStart = new Int32Array(lines);
    this.lineEnd = new Int32Array(lines);
    this.hash = new Uint32Array(lines);
    this.slots = new Int32Array(slotsFor(lines));
    this.next = new Int32Array(lines);
    this.bucketHead = new Int32Array(buckets);
    this.bucketTail = new Int32Array(buckets);
  }

  /** Makes room for `lines` lines and `buckets` buckets; returns the slots to use (a power of 2, all empty). */
  size(lines: number, buckets: number): number {
    // Only when a partition holds more than it was sized for (it cannot: the sizes are counted as lines are written).
    if (this.lineStart.length < lines) {
      const n = lines;
      this.lineStart = new Int32Array(n);
      this.keyStart = new Int32Array(n);
      this.lineEnd = new Int32Array(n);
      this.hash = new Uint32Array(n);
      this.next = new Int32Array(n);
    }
    const slots = slotsFor(lines);
    if (this.slots.length < slots) this.slots = new Int32Array(slots);
    this.slots.fill(-1, 0, slots);
    if (this.bucketHead.length < buckets) {
      this.bucketHead = new Int32Array(buckets);
      this.bucketTail = new Int32Array(buckets);
    }
    this.bucketHead.fill(-1, 0, buckets);
    return slots;
  }
}

/** Slots of the open-addressing table for `lines` lines: the power of 2 at least twice as many. */
function slotsFor(lines: number): number {
  let slots = 1;
  while (slots < lines * 2) slots *= 2;
  return slots;
}

const TAB = 0x09;
const LF = 0x0a;
const BACKSLASH = 0x5c;

/** Whether bytes `from`..`to` of `b` are ASCII without a backslash (then they compare, escaped, as their text does). */
function plain(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i] ?? 0;
    if (c >= 0x80 || c === BACKSLASH) return false;
  }
  return true;
}

/** Whether the end (first field) of line `i` is at least that of line `j`: as the unescaped texts compare. */
function endsAtOrAfter(b: Buffer, w: IndexWork, i: number, j: number): boolean {
  const si = w.lineStart[i] ?? 0;
  const ei = b.indexOf(TAB, si);
  const sj = w.lineStart[j] ?? 0;
  const ej = b.indexOf(TAB, sj);
  if (plain(b, si, ei) && plain(b, sj, ej)) return b.compare(b, sj, ej, si, ei) >= 0;
  return unescapeField(b.toString('utf8', si, ei)) >= unescapeField(b.toString('utf8', sj, ej));
}

/**
 * One partition of the tokens (lines `end \t at \t bytes \t key`) to its part of the lookup index: the winner of
 * each key (the child that ended last, the one listed last among equals), listed by bucket in `w` (`bucketHead`,
 * `next`: lines of `b`, whose text from after the end field is what the index holds). Valid until the next partition.
 */
function winnersByBucket(b: Buffer, buckets: number, w: IndexWork): void {
  let lines = 0;
  for (let nl = b.indexOf(LF); nl >= 0; nl = b.indexOf(LF, nl + 1)) lines += 1;
  const mask = w.size(lines, buckets) - 1;
  const slots = w.slots;
  let line = 0;
  for (let from = 0, nl = b.indexOf(LF); nl >= 0; from = nl + 1, nl = b.indexOf(LF, from), line++) {
    const tab1 = b.indexOf(TAB, from);
    const tab3 = b.indexOf(TAB, b.indexOf(TAB, tab1 + 1) + 1);
    const ks = tab3 + 1;
    w.lineStart[line] = from;
    w.keyStart[line] = ks;
    w.lineEnd[line] = nl;
    // FNV-1a over the key's bytes: for an ASCII key, its hash32 (which hashes UTF-16 code units).
    let h = 0x811c9dc5;
    let ascii = true;
    for (let k = ks; k < nl; k++) {
      const c = b[k] ?? 0;
      if (c >= 0x80) ascii = false;
      h = Math.imul(h ^ c, 0x01000193);
    }
    h >>>= 0;
    w.hash[line] = ascii ? h : hash32(b.toString('utf8', ks, nl));
    let slot = h & mask;
    for (;;) {
      const j = slots[slot] ?? -1;
      if (j < 0) {
        slots[slot] = line;
        break;
      }
      const js = w.keyStart[j] ?? 0;
      const je = w.lineEnd[j] ?? 0;
      if (je - js === nl - ks && b.compare(b, js, je, ks, nl) === 0) {
        if (endsAtOrAfter(b, w, line, j)) slots[slot] = line;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  // The winners by bucket, each bucket's in the order of the slots: lists through `next`.
  const { next, bucketHead: head, bucketTail: tail } = w;
  for (let s = 0; s <= mask; s++) {
    const j = slots[s] ?? -1;
    if (j < 0) continue;
    const bucket = Math.floor((w.hash[j] ?? 0) / PARTITIONS) % buckets;
    next[j] = -1;
    if ((head[bucket] ?? -1) < 0) head[bucket] = j;
    else next[tail[bucket] ?? 0] = j;
    tail[bucket] = j;
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
