/**
 * Verifying an archive: every object its manifest lists is read through and judged on its own (present, size,
 * sha256, decompresses, every line a JSON object, record count, records of this archive), then the objects under the
 * archive that no manifest names (leftover generations, an unfinished collection's pending objects, stray files) are
 * listed as warnings, then one verdict. A damaged object is a finding, never an exception: {@link verifyArchive}
 * reads on past every damage and never throws.
 *
 * One module for the command line (`execution-archive verify`) and the functions (summarize's `verify` option), so
 * they cannot disagree. It reads with the reader's own scan (reader.ts: the same hash, gunzip and line parsing that
 * summarize's reads verify with), so memory stays bounded by a few objects' read-ahead, not by their size.
 *
 * What is checked follows from the manifest itself: every object of it that names a `key` with its `bytes` and
 * `sha256` (the `parts`, the `related` objects, and whatever other list of objects a later format adds) is an entry,
 * its kind is the field it is listed in, and how its content is read follows from its name (`.ndjson.gz` records,
 * other `.gz` gzip text, anything else bytes as stored).
 */
import type { Source } from '../ids';
import { archiveDir, manifestKey, type ArchiveRef } from './layout';
import type { ObjectEntry } from './manifest';
import { manifestProblem, newScan, openObject, scanObject, type ObjectFormat, type ObjectScan } from './reader';
import type { ObjectStore } from './store';

/** What can be wrong with one listed object. */
export type ObjectProblemKind =
  | 'missing'
  | 'size-differs'
  | 'sha256-differs'
  | 'does-not-decompress'
  | 'not-ndjson'
  | 'record-count-differs'
  | 'foreign-records'
  | 'entry-malformed'
  | 'unreadable';

export interface ObjectProblem {
  kind: ObjectProblemKind;
  /** For people: `sha256 differs (3f2a…, manifest says 9bc1…)`. */
  message: string;
  /** `not-ndjson`: the first line (1-based) that is not a JSON object. */
  line?: number;
}

/** What verify found about one object the manifest lists. */
export interface ObjectCheck {
  key: string;
  /** The manifest field that lists it: `parts`, `related`, or another list of objects. */
  kind: string;
  format: ObjectFormat;
  ok: boolean;
  expected: { bytes: number; sha256: string; records?: number };
  /** What was read; `null` when nothing could be (missing, unreadable). */
  actual: { bytes: number; sha256?: string; records?: number } | null;
  problems: ObjectProblem[];
}

/** What an object under the archive that the manifest does not list is. */
export type UnlistedKind = 'leftover-generation' | 'pending' | 'stray';

/** One warning: an object (or, for a leftover generation, a whole `g-…/` folder) no manifest names. */
export interface UnlistedObject {
  key: string;
  kind: UnlistedKind;
  objects: number;
  bytes: number;
  message: string;
}

/** `intact` (exit 0), `damaged` (1), or `unreadable`: the archive could not be read (no manifest, storage down). */
export type Verdict = 'intact' | 'damaged' | 'unreadable';

export interface VerifyReport {
  archive: ArchiveRef;
  /** Where the manifest is (a URL a person can open). */
  location: string;
  verdict: Verdict;
  /** The one-line verdict for people. */
  summary: string;
  /** What is wrong with manifest.json itself (not JSON, malformed, not complete). */
  manifestProblems: string[];
  /** Primary records the manifest names (`null` when it could not be read). */
  records: number | null;
  objects: ObjectCheck[];
  /** Objects under the archive the manifest does not name: warnings, they do not make the archive damaged. */
  unlisted: UnlistedObject[];
  /** `unreadable`: why (no manifest, storage error). */
  reason?: string;
}

export interface VerifyOptions {
  /** Objects read at once (each streamed, so memory grows with this, not with object sizes). @default 4 */
  concurrency?: number;
  /** Called for each object as its check is ready, in manifest order (a command prints it at once). */
  onObject?: (check: ObjectCheck) => void;
  /** Skip listing what the manifest does not name. @default false */
  skipUnlisted?: boolean;
}

/** A listed object: where it is listed and what it should be. */
interface ListedEntry {
  kind: string;
  entry: ObjectEntry;
  /** For `related` objects: which listing (names the field that ties its records to the archive). */
  name?: string;
  /** Why the entry itself is malformed (its object is still read, to say what is there). */
  problem?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const fmt = (n: number) => n.toLocaleString('en-US');
const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** How an object's content is read, from its name. */
export function formatOf(key: string): ObjectFormat {
  if (key.endsWith('.ndjson.gz')) return 'ndjson';
  if (key.endsWith('.gz')) return 'gzip';
  return 'bytes';
}

/**
 * Every object a manifest lists, wherever it is listed: any JSON object inside the manifest with a string `key` and a
 * `bytes` or `sha256` field is an entry, its kind is the path of fields it is under (`parts`, `related`,
 * `outputs`, …). Entries whose fields are malformed are returned with their problem.
 */
export function listedEntries(manifest: unknown): ListedEntry[] {
  const found: ListedEntry[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, path);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const obj = value as Record<string, unknown>;
    if (typeof obj.key === 'string' && ('bytes' in obj || 'sha256' in obj)) {
      const problem =
        obj.key === '' ? 'key is empty'
        : !isCount(obj.bytes) ? 'bytes is not a non-negative integer'
        : typeof obj.sha256 !== 'string' || !SHA256.test(obj.sha256) ? 'sha256 is not 64 hex digits'
        : obj.records !== undefined && !isCount(obj.records) ? 'records is not a non-negative integer'
        : undefined;
      const entry: ObjectEntry = {
        key: obj.key,
        bytes: isCount(obj.bytes) ? obj.bytes : -1,
        sha256: typeof obj.sha256 === 'string' ? obj.sha256 : '',
        records: isCount(obj.records) ? obj.records : -1,
      };
      found.push({ kind: path || 'object', entry, ...(typeof obj.name === 'string' ? { name: obj.name } : {}), ...(problem ? { problem } : {}) });
      return;
    }
    for (const [field, child] of Object.entries(obj)) walk(child, path ? `${path}.${field}` : field);
  };
  walk(manifest, '');
  return found;
}

/**
 * The record field that names the archive a record belongs to, for the objects whose records carry it: the ECS parts
 * (`InvokeId`) and the related listings. A record whose field names another id is another archive's record, whatever
 * its object's checksum says. OOS parts carry none: their `ExecutionId` is the child execution that acted on the
 * resource, not the archive's execution.
 */
function ownerField(source: Source, listed: ListedEntry): string | undefined {
  if (listed.kind === 'parts') return source === 'ecs' ? 'InvokeId' : undefined;
  if (listed.kind !== 'related') return undefined;
  switch (listed.name) {
    case 'execution':
      return 'ExecutionId';
    case 'failed-child-executions':
      return 'ParentExecutionId';
    case 'invocation':
      return 'InvokeId';
    default:
      return undefined;
  }
}

/** Reads one listed object through and judges it against its entry. Never throws. */
export async function checkObject(store: ObjectStore, listed: ListedEntry, owner?: { field: string; id: string }): Promise<ObjectCheck> {
  const { entry } = listed;
  const format = formatOf(entry.key);
  const expected = { bytes: entry.bytes, sha256: entry.sha256, ...(entry.records >= 0 && format === 'ndjson' ? { records: entry.records } : {}) };
  let foreign: Foreign | undefined;
  const scan = await scanWith(store, entry, format, (batch, records) => {
    if (!owner) return;
    for (let i = 0; i < batch.length; i++) {
      const value = (batch[i] as Record<string, unknown>)[owner.field];
      if (value === undefined || value === owner.id) continue;
      if (foreign) foreign.count += 1;
      else foreign = { index: records - batch.length + i + 1, value, count: 1, field: owner.field };
    }
  });
  // A gzip error stops the read where the damage is: the stored bytes are read once more, as they are, for their
  // size and sha256 (only a damaged object costs a second read).
  let stored: ObjectScan = scan;
  if (scan.undecompressable && !scan.finished) stored = await scanWith(store, entry, 'bytes');
  return judge(listed, format, expected, scan, stored, foreign);
}

interface Foreign {
  /** The first foreign record (1-based), what it names, and how many there are. */
  index: number;
  value: unknown;
  count: number;
  field: string;
}

/** Scans one object through (closed whatever happens), handing each batch of records and the count so far to `each`. */
async function scanWith(store: ObjectStore, entry: ObjectEntry, format: ObjectFormat, each?: (batch: Record<string, unknown>[], records: number) => void): Promise<ObjectScan> {
  const scan = newScan();
  const open = openObject(store, entry, format);
  try {
    for await (const batch of scanObject(open, scan)) each?.(batch, scan.records);
  } catch (err) {
    scan.readError ??= err;
  } finally {
    open.close();
  }
  return scan;
}

function judge(listed: ListedEntry, format: ObjectFormat, expected: ObjectCheck['expected'], scan: ObjectScan, stored: ObjectScan, foreign: Foreign | undefined): ObjectCheck {
  const { entry, kind } = listed;
  const problems: ObjectProblem[] = [];
  if (listed.problem) problems.push({ kind: 'entry-malformed', message: `its manifest entry is malformed: ${listed.problem}` });
  const base = { key: entry.key, kind, format, expected };
  const unread = scan.readError ?? stored.readError;
  if (scan.missing || stored.missing) {
    problems.push({ kind: 'missing', message: 'missing' });
    return { ...base, ok: false, actual: null, problems };
  }
  if (unread !== undefined) {
    problems.push({ kind: 'unreadable', message: `could not be read: ${unread instanceof Error ? unread.message : String(unread)}` });
    return { ...base, ok: false, actual: null, problems };
  }
  if (stored.bytes !== entry.bytes) problems.push({ kind: 'size-differs', message: `size differs (${fmt(stored.bytes)} bytes, manifest says ${fmt(entry.bytes)})` });
  if (stored.sha256 !== entry.sha256) problems.push({ kind: 'sha256-differs', message: `sha256 differs (${short(stored.sha256 ?? '')}, manifest says ${short(entry.sha256)})` });
  if (scan.undecompressable) problems.push({ kind: 'does-not-decompress', message: `does not decompress (${scan.undecompressable.message})` });
  else if (scan.badLine) problems.push({ kind: 'not-ndjson', line: scan.badLine.line, message: `not valid NDJSON at line ${fmt(scan.badLine.line)} (${scan.badLine.reason})` });
  else if (expected.records !== undefined && scan.records !== expected.records) {
    problems.push({ kind: 'record-count-differs', message: `record count differs (${fmt(scan.records)}, manifest says ${fmt(expected.records)})` });
  }
  if (foreign) {
    const more = foreign.count > 1 ? ` and ${fmt(foreign.count - 1)} more` : '';
    problems.push({ kind: 'foreign-records', message: `holds another archive's records (record ${fmt(foreign.index)}${more}: ${foreign.field} ${JSON.stringify(foreign.value)})` });
  }
  const actual = { bytes: stored.bytes, ...(stored.sha256 ? { sha256: stored.sha256 } : {}), ...(format === 'ndjson' && !scan.undecompressable ? { records: scan.records } : {}) };
  return { ...base, ok: problems.length === 0, actual, problems };
}

/**
 * Objects under an archive whose presence is expected without a manifest entry: the manifest, what summarize writes
 * (summary.json, summary.md, report.html and its pages report/…, retry.txt, failures.ndjson.gz, truncated.txt,
 * causes/<key>.txt; see layout.ts), the event consumer's claims and their takeover markers, and the notification and
 * switch bookkeeping.
 */
const BOOKKEEPING =
  /^(?:manifest\.json|summary[.-][^/]+|summary\/.+|report\.html|report\/.+|retry(?:[.-][^/]+)?\.txt|failures\.ndjson\.gz|truncated\.txt|causes\/[^/]+\.txt|_notified\.json|_claim(?:\.[^/]+)?\.json|_switch(?:\.[^/]+)?\.json)$/;
/** An unfinished (re-)collection's resume state and pending records. */
const PENDING = /^(?:g-[^/]+\/)?(?:_checkpoint\.json|_pending(?:-[a-z-]+)?\.ndjson\.gz)$/;

/** Lists what lies under the archive and is neither listed nor bookkeeping. A listing that fails is thrown. */
async function unlistedObjects(store: ObjectStore, ref: ArchiveRef, listed: ReadonlySet<string>, generation: string | undefined): Promise<UnlistedObject[]> {
  const dir = `${archiveDir(ref)}/`;
  const found: UnlistedObject[] = [];
  const generations = new Map<string, UnlistedObject>();
  for await (const obj of store.list(dir)) {
    if (listed.has(obj.key)) continue;
    const rel = obj.key.slice(dir.length);
    if (BOOKKEEPING.test(rel)) continue;
    if (PENDING.test(rel)) {
      found.push({ key: obj.key, kind: 'pending', objects: 1, bytes: obj.size, message: `an unfinished collection's ${rel.endsWith('.json') ? 'resume state' : 'pending records'}` });
      continue;
    }
    const g = /^g-([^/]+)\//.exec(rel);
    if (g && g[1] !== generation) {
      const folder = `${dir}g-${g[1]}/`;
      const seen = generations.get(folder);
      if (seen) {
        seen.objects += 1;
        seen.bytes += obj.size;
      } else {
        const leftover: UnlistedObject = { key: folder, kind: 'leftover-generation', objects: 1, bytes: obj.size, message: 'a generation no manifest names' };
        generations.set(folder, leftover);
        found.push(leftover);
      }
      continue;
    }
    found.push({ key: obj.key, kind: 'stray', objects: 1, bytes: obj.size, message: 'not listed in the manifest' });
  }
  for (const g of generations.values()) g.message = `a generation no manifest names (${fmt(g.objects)} object${g.objects === 1 ? '' : 's'}, ${fmt(g.bytes)} bytes)`;
  return found;
}

/** Runs `check` over `items` with at most `concurrency` at once, handing each result to `each` in the items' order. */
async function inOrder<T, R>(items: readonly T[], concurrency: number, check: (item: T) => Promise<R>, each: (result: R) => void): Promise<R[]> {
  const results: R[] = [];
  const running: Promise<R>[] = [];
  let next = 0;
  while (results.length < items.length) {
    while (next < items.length && running.length < concurrency) running.push(check(items[next++] as T));
    const result = await (running.shift() as Promise<R>);
    results.push(result);
    each(result);
  }
  return results;
}

/** The verdict line for people. */
function verdictLine(report: Omit<VerifyReport, 'summary'>): string {
  const { archive, verdict, objects, unlisted, manifestProblems } = report;
  const name = `${archive.source} ${archive.id}`;
  const warnings = unlisted.length > 0 ? `; ${fmt(unlisted.length)} warning${unlisted.length === 1 ? '' : 's'} (objects the manifest does not list)` : '';
  if (verdict === 'unreadable') return `${name}: could not verify: ${report.reason ?? 'the archive could not be read'}`;
  if (verdict === 'intact') return `${name}: intact: ${fmt(objects.length)} objects, ${fmt(report.records ?? 0)} records match the manifest${warnings}`;
  const bad = objects.filter((o) => !o.ok).length;
  const what = [
    ...(manifestProblems.length > 0 ? [`the manifest is damaged (${fmt(manifestProblems.length)} problem${manifestProblems.length === 1 ? '' : 's'})`] : []),
    ...(bad > 0 ? [`${fmt(bad)} of ${fmt(objects.length)} objects differ from the manifest`] : []),
  ];
  return `${name}: damaged: ${what.join(', ')}${warnings}`;
}

/**
 * Verifies an archive. Never throws: a store that cannot be reached or a missing manifest is the verdict
 * `unreadable`, any damage of the manifest or an object is `damaged`, with every finding in the report.
 * @example const report = await verifyArchive(store, { source: 'ecs', regionId: 'cn-hangzhou', id: 't-abc123' });
 *          if (report.verdict !== 'intact') console.log(report.summary);
 */
export async function verifyArchive(store: ObjectStore, ref: ArchiveRef, options: VerifyOptions = {}): Promise<VerifyReport> {
  const key = manifestKey(ref);
  const base = { archive: ref, location: store.locate(key), manifestProblems: [] as string[], records: null as number | null, objects: [] as ObjectCheck[], unlisted: [] as UnlistedObject[] };
  const finish = (report: Omit<VerifyReport, 'summary'>): VerifyReport => ({ ...report, summary: verdictLine(report) });
  const unreadable = (reason: string) => finish({ ...base, verdict: 'unreadable', reason });

  let body: Buffer | undefined;
  try {
    body = await store.get(key);
  } catch (err) {
    return unreadable(`reading ${key} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (body === undefined) return unreadable(`no manifest.json at ${base.location} (not collected, or not finished)`);

  let manifest: unknown;
  try {
    manifest = JSON.parse(body.toString('utf8'));
  } catch (err) {
    base.manifestProblems.push(`manifest.json is not valid JSON (${(err as Error).message})`);
    return finish({ ...base, verdict: 'damaged' });
  }
  const problem = manifestProblem(manifest);
  if (problem) base.manifestProblems.push(`manifest.json is malformed: ${problem}`);
  const m = (typeof manifest === 'object' && manifest !== null ? manifest : {}) as { complete?: unknown; records?: unknown; source?: unknown; id?: unknown; regionId?: unknown; generation?: unknown };
  if (m.complete !== true) base.manifestProblems.push('manifest.json does not say complete: true');
  if (m.source !== ref.source || m.id !== ref.id || m.regionId !== ref.regionId) {
    base.manifestProblems.push(`manifest.json names another archive (${String(m.source)} ${String(m.id)} in ${String(m.regionId)})`);
  }
  base.records = isCount(m.records) ? m.records : null;

  const listed = listedEntries(manifest);
  const owner = (l: ListedEntry) => {
    const field = ownerField(ref.source, l);
    return field ? { field, id: ref.id } : undefined;
  };
  base.objects = await inOrder(listed, Math.max(1, options.concurrency ?? 4), (l) => checkObject(store, l, owner(l)), (c) => options.onObject?.(c));

  let listingFailed: string | undefined;
  if (!options.skipUnlisted) {
    try {
      base.unlisted = await unlistedObjects(store, ref, new Set(listed.map((l) => l.entry.key)), typeof m.generation === 'string' ? m.generation : undefined);
    } catch (err) {
      listingFailed = `listing ${archiveDir(ref)}/ failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const damaged = base.manifestProblems.length > 0 || base.objects.some((o) => !o.ok && o.problems.some((p) => p.kind !== 'unreadable'));
  if (damaged) return finish({ ...base, verdict: 'damaged' });
  const unread = base.objects.filter((o) => !o.ok);
  if (unread.length > 0) return finish({ ...base, verdict: 'unreadable', reason: `${fmt(unread.length)} of ${fmt(base.objects.length)} objects could not be read (${unread[0]?.problems[0]?.message ?? ''})` });
  if (listingFailed) return finish({ ...base, verdict: 'unreadable', reason: listingFailed });
  return finish({ ...base, verdict: 'intact' });
}
