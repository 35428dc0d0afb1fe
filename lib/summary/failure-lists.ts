/**
 * The id lists of an aggregation, kept out of memory: while records stream in, each failed record's id (with its
 * provisional cause) and each truncated record's id go to temporary files; at the end, when the final causes are
 * known, one pass over those files gives each list in archive order with every id once, the exact counts, and
 * bounded samples, and streams the full lists to archive objects. Memory is O(causes) plus one bucket file's share
 * of the ids (1/{@link BUCKETS} of them) at a time; nothing is held per failure while records stream in.
 *
 * The files: ids are spread over {@link BUCKETS} bucket files by a hash of the id, so an id's every entry is in
 * one bucket. At the end each bucket is read alone, sorted by archive index, and marked (first failure of the id,
 * first time in its cause, first truncation), then written back sorted; a k-way merge of the sorted buckets gives
 * the lists in archive order. A cause's own list (only written when its sample is cut) goes through
 * {@link BUCKETS} cause-partition files, read one at a time after the merge. The files are temp-file.ts's.
 */
import { escapeField, hash32, TempFile, unescapeField } from './temp-file';

/** Bucket files the ids are spread over. */
export const BUCKETS = 32;
/** The list number of truncated records' ids (failure lists are numbered by provisional cause, from 0). */
export const TRUNCATED_LIST = -1;

function bucketOf(id: string): number {
  return hash32(id) % BUCKETS;
}

/** Where the lists wait while records stream in: `add` one entry per failed or truncated record. */
export class IdSpool {
  private buckets: TempFile[] | undefined;
  /** Entries added. */
  entries = 0;

  /**
   * One entry: the record's place in the archive, its list ({@link TRUNCATED_LIST}, or the provisional cause of a
   * failure), its id and the id as the lists show it (`shown`, the caller's `displayText(id)`: masked once, as the
   * record comes, not again for each list at the end; written only when it differs from the id).
   */
  add(index: number, list: number, id: string, shown = id): void {
    // Escaped as every field of the spools' lines (temp-file.ts escapeField): any id comes back as it was, a tab, a line
    // break or a lone surrogate in it included; escaped ids compare as the ids do.
    const field = escapeField(id);
    this.buckets ??= Array.from({ length: BUCKETS }, (_, i) => new TempFile(`ids${i}`));
    this.buckets[bucketOf(field)]?.append(shown === id ? `${index}\t${list}\t${field}\n` : `${index}\t${list}\t${field}\t${escapeField(shown)}\n`);
    this.entries += 1;
  }

  /** The bucket files (none when nothing was added); taken once, by {@link mergeLists}. */
  take(): TempFile[] {
    const taken = this.buckets ?? [];
    this.buckets = undefined;
    return taken;
  }

  /** Closes (and so deletes) the files; called when the aggregation is dropped unfinished. */
  discard(): void {
    for (const b of this.take()) b.close();
  }
}

/**
 * What the merge hands out, in archive order, each id with its form as shown (as {@link IdSpool.add} was given it).
 * Each may return a promise the merge waits for (backpressure).
 */
export interface ListEvents {
  /** Every failed record: its id and its final cause (the index of the cause in the finished list). */
  failure(id: string, cause: number, shown: string): Promise<void> | undefined;
  /** Each failed resource once (its first failure). */
  retry(id: string, shown: string): Promise<void> | undefined;
  /** Each resource of a cause once, `nth` (from 0) its place in the cause's list. */
  causeId(cause: number, id: string, nth: number, shown: string): Promise<void> | undefined;
  /** Each resource with a truncated output once, `nth` its place. */
  truncated(id: string, nth: number, shown: string): Promise<void> | undefined;
}

/** An entry read back: its fields escaped as written; `shown` only when it differs from the id. */
type Entry = [index: number, list: number, id: string, shown: string | undefined];

function parseEntry(line: string): Entry {
  const a = line.indexOf('\t');
  const b = line.indexOf('\t', a + 1);
  // Escaped fields hold no tab: a fourth field is the id as shown.
  const c = line.indexOf('\t', b + 1);
  return c < 0 ? [Number(line.slice(0, a)), Number(line.slice(a + 1, b)), line.slice(b + 1), undefined] : [Number(line.slice(0, a)), Number(line.slice(a + 1, b)), line.slice(b + 1, c), line.slice(c + 1)];
}

/** Flags of a sorted entry. */
const FIRST_FAILURE = 1;
const FIRST_IN_LIST = 2;
/** The entry's id is shown otherwise: its shown form follows the id (its bytes (uint32), then them). */
const SHOWN = 4;

/** Bytes of a sorted entry before its id: index (float64), list (int32), flags (uint8), the id's bytes (uint32). */
const ENTRY_HEAD = 17;

/**
 * Sorts one bucket by archive index, maps provisional causes to final ones and marks each entry's firsts; writes
 * the result to a new file, binary entries ({@link ENTRY_HEAD} bytes, then the id in UTF-8): the merge reads them
 * back without a string per field or per line.
 */
function sortBucket(bucket: TempFile, finalOf: (provisional: number) => number): TempFile {
  const text = bucket.readAll();
  bucket.close();
  const entries: Entry[] = [];
  let from = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
    const e = parseEntry(text.slice(from, nl));
    if (e[1] !== TRUNCATED_LIST) e[1] = finalOf(e[1]);
    entries.push(e);
    from = nl + 1;
  }
  entries.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const failed = new Set<string>();
  const inList = new Set<string>();
  const out = new TempFile('sorted');
  let bytes = Buffer.allocUnsafe(entries.reduce((n, e) => n + ENTRY_HEAD + e[2].length * 3 + (e[3] === undefined ? 0 : 4 + e[3].length * 3), 0));
  let at = 0;
  for (const [index, list, id, shown] of entries) {
    let flags = shown === undefined ? 0 : SHOWN;
    if (list !== TRUNCATED_LIST && !failed.has(id)) {
      failed.add(id);
      flags |= FIRST_FAILURE;
    }
    const listed = `${list}\t${id}`;
    if (!inList.has(listed)) {
      inList.add(listed);
      flags |= FIRST_IN_LIST;
    }
    bytes.writeDoubleLE(index, at);
    bytes.writeInt32LE(list, at + 8);
    bytes[at + 12] = flags;
    const n = bytes.write(id, at + ENTRY_HEAD, 'utf8');
    bytes.writeUInt32LE(n, at + 13);
    at += ENTRY_HEAD + n;
    if (shown !== undefined) {
      const m = bytes.write(shown, at + 4, 'utf8');
      bytes.writeUInt32LE(m, at);
      at += 4 + m;
    }
  }
  out.appendBytes(bytes.subarray(0, at));
  bytes = Buffer.alloc(0);
  return out;
}

/** Bytes each head of the merge reads of its file at a time (32 heads: 512 KiB in all). */
const HEAD_BYTES = 16 * 1024;

/**
 * A sorted bucket's next entry, read as the merge needs it: from a window of its file's bytes, reused (a head waits
 * for its turn across many entries of the others: a decoded chunk of text per head lived that long, and was promoted
 * to V8's old generation; only the id of the entry in hand is a string here).
 */
class Head {
  index = 0;
  list = 0;
  flags = 0;
  id = '';
  /** The id as shown (the id itself unless the entry says otherwise). */
  shown = '';
  private buffer = Buffer.allocUnsafe(HEAD_BYTES);
  private start = 0;
  private end = 0;
  private position = 0;
  constructor(readonly file: TempFile) {}

  /** Whether `need` bytes are in the window (reading more of the file when they are not). */
  private fill(need: number): boolean {
    if (this.end - this.start >= need) return true;
    this.buffer.copy(this.buffer, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    if (need > this.buffer.length) {
      const grown = Buffer.allocUnsafe(need);
      this.buffer.copy(grown, 0, 0, this.end);
      this.buffer = grown;
    }
    while (this.end < need && this.position < this.file.size) {
      const n = this.file.readInto(this.position, Math.min(this.buffer.length - this.end, this.file.size - this.position), this.buffer.subarray(this.end));
      if (n === 0) break;
      this.position += n;
      this.end += n;
    }
    return this.end - this.start >= need;
  }

  next(): boolean {
    if (!this.fill(ENTRY_HEAD)) return false;
    const idBytes = this.buffer.readUInt32LE(this.start + 13);
    if (!this.fill(ENTRY_HEAD + idBytes)) throw new Error('a sorted id list ends inside an entry');
    const b = this.buffer;
    const s = this.start;
    this.index = b.readDoubleLE(s);
    this.list = b.readInt32LE(s + 8);
    this.flags = b[s + 12] ?? 0;
    this.id = unescapeField(b.toString('utf8', s + ENTRY_HEAD, s + ENTRY_HEAD + idBytes));
    this.start = s + ENTRY_HEAD + idBytes;
    this.shown = this.id;
    if (this.flags & SHOWN) {
      if (!this.fill(4)) throw new Error('a sorted id list ends inside an entry');
      const shownBytes = this.buffer.readUInt32LE(this.start);
      if (!this.fill(4 + shownBytes)) throw new Error('a sorted id list ends inside an entry');
      this.shown = unescapeField(this.buffer.toString('utf8', this.start + 4, this.start + 4 + shownBytes));
      this.start += 4 + shownBytes;
    }
    return true;
  }
}

/** What {@link mergeLists} counted. */
export interface ListCounts {
  /** Distinct failed resources. */
  retry: number;
  /** Distinct resources per final cause. */
  perCause: number[];
  /** Distinct resources with a truncated output. */
  truncated: number;
}

/**
 * The end of an aggregation's lists: sorts and marks every bucket, then merges them in archive order into `events`.
 * `causes` is the number of final causes; `finalOf` maps a provisional cause to its final index.
 * `mayBeCut(c)`: whether cause `c` could hold more ids than its sample (it has more records): its ids then wait in
 * partition files, and after the merge `causeList` gets each such cause's ids as shown, in order (it skips the causes
 * whose sample turned out whole).
 */
export async function mergeLists(
  spool: IdSpool,
  causes: number,
  finalOf: (provisional: number) => number,
  events: ListEvents,
  mayBeCut: (cause: number) => boolean,
  causeList: (cause: number, ids: Iterable<string>) => Promise<void>,
): Promise<ListCounts> {
  const counts: ListCounts = { retry: 0, perCause: new Array<number>(causes).fill(0), truncated: 0 };
  const sorted: TempFile[] = [];
  const partitions: TempFile[] = [];
  const partitionCauses: Array<Set<number> | undefined> = [];
  try {
    for (const bucket of spool.take()) sorted.push(sortBucket(bucket, finalOf));
    const heads: Head[] = [];
    for (const file of sorted) {
      const head = new Head(file);
      if (head.next()) heads.push(head);
    }
    while (heads.length > 0) {
      let at = 0;
      for (let i = 1; i < heads.length; i++) {
        const h = heads[i] as Head;
        const best = heads[at] as Head;
        if (h.index < best.index || (h.index === best.index && h.list < best.list)) at = i;
      }
      const h = heads[at] as Head;
      const { list, id, flags, shown } = h;
      // A promise is awaited only when one is returned (backpressure); most calls return none.
      if (list === TRUNCATED_LIST) {
        if (flags & FIRST_IN_LIST) await events.truncated(id, counts.truncated++, shown);
      } else {
        const wrote = events.failure(id, list, shown);
        if (wrote) await wrote;
        if (flags & FIRST_FAILURE) {
          counts.retry += 1;
          const listed = events.retry(id, shown);
          if (listed) await listed;
        }
        if (flags & FIRST_IN_LIST) {
          const nth = counts.perCause[list] ?? 0;
          counts.perCause[list] = nth + 1;
          const written = events.causeId(list, id, nth, shown);
          if (written) await written;
          if (mayBeCut(list)) {
            // Its object shows the ids: the shown form is what waits here.
            partitions[list % BUCKETS] ??= new TempFile('cause');
            partitions[list % BUCKETS]?.append(`${list}\t${escapeField(shown)}\n`);
            (partitionCauses[list % BUCKETS] ??= new Set()).add(list);
          }
        }
      }
      if (!h.next()) heads.splice(at, 1);
    }
    for (const f of sorted) f.close();
    sorted.length = 0;
    for (const [p, partition] of partitions.entries()) {
      if (!partition) continue;
      // A cause's ids streamed from its partition (one pass per cause it holds, usually one): a cause's ids held in an
      // array were ~50 bytes each of old generation (a cut cause holds more than its sample, up to every failure).
      for (const cause of [...(partitionCauses[p] ?? [])].sort((a, b) => a - b)) await causeList(cause, idsOf(partition, cause));
      partition.close();
    }
    return counts;
  } finally {
    spool.discard();
    for (const f of sorted) f.close();
    for (const p of partitions) p?.close();
  }
}

/** The ids of `cause` in a partition file of lines `cause \t id`, in the order written. */
function* idsOf(partition: TempFile, cause: number): Generator<string> {
  const prefix = `${cause}\t`;
  for (const line of partition.lines()) if (line.startsWith(prefix)) yield unescapeField(line.slice(prefix.length));
}

/**
 * Failed records that wait for something before they can be aggregated (OOS: the complete list of failed child
 * executions), kept in a temporary file as JSON lines, not in memory; read back in the order they came.
 */
export class RecordSpool {
  private file: TempFile | undefined;
  /** Characters written (what waiting costs on disk). */
  chars = 0;

  push(index: number, record: Record<string, unknown>): void {
    const line = `${index}\t${JSON.stringify(record)}\n`;
    this.file ??= new TempFile('waiting');
    this.file.append(line);
    this.chars += line.length;
  }

  /** The records in the order they were pushed, with their index; the file is closed at the end. */
  *drain(): Generator<[index: number, record: Record<string, unknown>]> {
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    try {
      for (const line of file.lines()) {
        if (line === '') continue;
        const tab = line.indexOf('\t');
        yield [Number(line.slice(0, tab)), JSON.parse(line.slice(tab + 1)) as Record<string, unknown>];
      }
    } finally {
      file.close();
    }
  }

  discard(): void {
    this.file?.close();
    this.file = undefined;
  }
}
