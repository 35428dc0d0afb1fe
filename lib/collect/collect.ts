/**
 * The collector's walk: every page of the source's listing → gzip NDJSON parts → related objects → manifest.
 *
 * Exactly once: part boundaries fall only at page boundaries and depend only on the records, checkpoints are
 * written only after the objects they name are stored, and the manifest (the commit point) is written last with
 * forbid-overwrite. A walk cut short by the deadline, an error or a kill resumes from its checkpoint and produces
 * the same bytes as an uninterrupted walk.
 */
import { InputError, isAlreadyExists, StorageError } from '../errors';
import type { Deadline } from '../deadline';
import type { Logger } from '../log';
import {
  archiveDir,
  checkpointKey,
  FORMAT_VERSION,
  manifestKey,
  partKey,
  relatedKey,
  type ArchiveRef,
} from '../archive/layout';
import type { Manifest, ObjectEntry, RelatedEntry } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import { readManifest, readRecords } from '../archive/reader';
import { DEFAULT_PART_LIMITS, NdjsonGzipBuffer, storeGzipObject, writeGzipRecords, type PartLimits } from '../archive/writer';
import { readAhead } from '../cloud/paginate';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint';
import type { CollectRequest } from './request';
import type { RecordPage, SourceAdapter } from './sources';

export interface CollectDeps {
  store: ObjectStore;
  adapter: SourceAdapter;
  deadline: Deadline;
  logger: Logger;
  now?: () => Date;
  limits?: PartLimits;
  collector: { name: string; version: string };
  /** Called after every page read (and once before the first), e.g. for a progress display. */
  onProgress?: (progress: CollectProgress) => void;
}

/** Where a walk is: what is in the archive so far (resumed work included) and what the API calls cost. */
export interface CollectProgress {
  /** `records`: the primary listing; `related`: what explains it (execution, failed children, invocation). */
  phase: 'records' | 'related';
  records: number;
  pages: number;
  /** Primary records the listing will return, when the execution/invocation says; else undefined. */
  expectedRecords: number | undefined;
  /** Records and pages read by this invocation (a resume starts at 0), for rates. */
  recordsThisRun: number;
  apiCalls: number;
  retries: number;
  throttles: number;
  /** This is a resume of an unfinished collection. */
  resumed: boolean;
}

export type CollectStatus =
  /** This invocation wrote the manifest. */
  | 'committed'
  /** A complete archive already existed; nothing was read or written. */
  | 'already-complete'
  /** A racing collector committed first; this one's identical objects were left as they are. */
  | 'committed-by-other'
  /** The deadline came first: progress is checkpointed; invoke again with the same payload to resume. */
  | 'checkpointed';

export interface CollectResult {
  source: string;
  regionId: string;
  id: string;
  status: CollectStatus;
  complete: boolean;
  /** Archive-root-relative key of the manifest (or of the checkpoint when not complete). */
  manifestKey: string;
  /** Where a person finds it (oss://… or file://…). */
  location: string;
  records: number;
  parts: number;
  pages: number;
  apiCalls: number;
  retries: number;
  truncatedOutputs: number;
  invocations: number;
}

const PENDING = '_pending.ndjson.gz';

export async function collect(req: CollectRequest, deps: CollectDeps): Promise<CollectResult> {
  const { store, adapter, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const limits = deps.limits ?? DEFAULT_PART_LIMITS;
  const ref: ArchiveRef = { source: req.source, regionId: req.regionId, id: req.id };
  const log = logger.child({ source: ref.source, regionId: ref.regionId, id: ref.id });

  // 1. A complete archive is final unless the caller forces a new one.
  const existing = await readManifest(store, ref);
  if (existing?.complete && !req.force) {
    assertSameParameters(existing.api.parameters, adapter.api.parameters, 'a complete archive');
    log.info('archive already complete', { records: existing.records });
    return resultOf(ref, 'already-complete', existing, store);
  }

  // 2. Check existence and finality before writing anything.
  let subject = await adapter.describe();
  if (!subject) {
    throw new InputError(
      req.source === 'oos' ? 'ExecutionNotFound' : 'InvocationNotFound',
      req.source === 'oos'
        ? `OOS execution ${req.id} does not exist in ${req.regionId}`
        : `Cloud Assistant invocation ${req.id} does not exist in ${req.regionId}`,
      404,
    );
  }
  if (!subject.finished) {
    throw new InputError(
      'NotFinished',
      `${req.source === 'oos' ? 'execution' : 'invocation'} ${req.id} is still ${subject.status}; collect it once it has finished`,
      409,
    );
  }

  let cp: Checkpoint | undefined;
  if (req.force) {
    await discardArchive(store, ref, existing);
  } else {
    cp = await loadCheckpoint(store, ref);
    if (cp) assertSameParameters(cp.parameters, adapter.api.parameters, 'an unfinished collection');
  }
  const started = now().toISOString();
  const state: Checkpoint = cp
    ? { ...cp, invocations: cp.invocations + 1 }
    : {
        format: FORMAT_VERSION,
        source: ref.source,
        regionId: ref.regionId,
        id: ref.id,
        parameters: adapter.api.parameters,
        phase: 'records',
        nextToken: undefined,
        parts: [],
        pending: undefined,
        related: [],
        records: 0,
        pages: 0,
        truncatedOutputs: 0,
        apiCalls: 0,
        retries: 0,
        invocations: 1,
        startedAt: started,
        updatedAt: started,
      };
  // The subject is stored first and released: only its status and size were needed, and it can be as large as the
  // records' pages.
  if (!state.related.some((r) => r.name === adapter.subjectName)) {
    const entry = await writeGzipRecords(store, relatedKey(ref, adapter.subjectName, 0), [subject.record]);
    state.related.push({ name: adapter.subjectName, ...entry } satisfies RelatedEntry);
  }
  const expectedRecords = subject.expectedRecords;
  subject = undefined;
  const base = { apiCalls: state.apiCalls, retries: state.retries, records: state.records };
  const syncStats = () => {
    state.apiCalls = base.apiCalls + adapter.stats.apiCalls;
    state.retries = base.retries + adapter.stats.retries;
    state.updatedAt = now().toISOString();
  };
  const checkpoint = async () => {
    syncStats();
    await saveCheckpoint(store, ref, state);
  };
  const report = () => {
    if (!deps.onProgress) return;
    syncStats();
    deps.onProgress({
      phase: state.phase,
      records: state.records,
      pages: state.pages,
      expectedRecords,
      recordsThisRun: state.records - base.records,
      apiCalls: state.apiCalls,
      retries: state.retries,
      throttles: adapter.stats.throttles,
      resumed: cp !== undefined,
    });
  };
  report();
  log.info(cp ? 'resuming collection' : 'starting collection', {
    records: state.records,
    parts: state.parts.length,
    phase: state.phase,
    invocation: state.invocations,
  });

  /**
   * One paged listing into gzip NDJSON objects: parts close at page boundaries once over the limits, a checkpoint
   * follows every stored object, and near the deadline (or on an error) what was read since is kept as `_pending`.
   * Returns false when it stopped for the deadline.
   */
  const walk = async (
    pages: AsyncIterable<RecordPage>,
    store_: (buffer: NdjsonGzipBuffer) => Promise<void>,
    onPage: (page: RecordPage) => void,
  ): Promise<boolean> => {
    let current = new NdjsonGzipBuffer();
    if (state.pending) await current.write(readRecords(store, state.pending));
    let slowestPageMs = 0;
    try {
      let pageStarted = Date.now();
      for await (const page of readAhead(pages)) {
        slowestPageMs = Math.max(slowestPageMs, Date.now() - pageStarted);
        await current.write(page.records);
        onPage(page);
        report();
        state.nextToken = page.nextToken;
        if (current.records >= limits.maxRecords || current.bytes >= limits.maxBytes) {
          await store_(current);
          state.pending = undefined;
          current = new NdjsonGzipBuffer();
          if (state.nextToken) await checkpoint();
        }
        if (state.nextToken && deps.deadline.nearlyDone(Math.max(3_000, slowestPageMs * 3))) {
          await savePending(current);
          await checkpoint();
          return false;
        }
        pageStarted = Date.now();
      }
    } catch (err) {
      // Keep what was read: the next invocation resumes from the last page that made it into the buffer.
      if (current.records > 0 && !(err instanceof InputError)) {
        await savePending(current).then(checkpoint, (saveErr: unknown) => log.warn('could not checkpoint after an error', { err: saveErr }));
      }
      throw err;
    }
    if (current.records > 0) await store_(current);
    state.pending = undefined;
    state.nextToken = undefined;
    return true;
  };
  const checkpointed = () => {
    log.info('deadline near: checkpointed', { phase: state.phase, records: state.records, pages: state.pages, parts: state.parts.length });
    return resultOf(ref, 'checkpointed', state, store);
  };

  // 3. The primary records.
  if (state.phase === 'records') {
    const finished = await walk(
      adapter.pages(state.nextToken),
      async (buffer) => {
        state.parts.push(await storeGzipObject(store, partKey(ref, state.parts.length), buffer));
      },
      (page) => {
        state.records += page.records.length;
        state.pages += 1;
        state.truncatedOutputs += page.records.filter((r) => adapter.isTruncated(r)).length;
      },
    );
    if (!finished) return checkpointed();
    state.phase = 'related';
    state.relatedStep = 0;
    await checkpoint();
  }

  // 4. What explains the records: each related listing is walked like the records (resumable, deadline-aware).
  const steps = adapter.related();
  for (let step = state.relatedStep ?? 0; step < steps.length; step++) {
    const item = steps[step];
    if (item === undefined) break;
    state.relatedStep = step;
    const finished = await walk(
      item.pages(state.nextToken),
      async (buffer) => {
        const index = state.related.filter((r) => r.name === item.name).length;
        const entry = await storeGzipObject(store, relatedKey(ref, item.name, index), buffer);
        state.related.push({ name: item.name, ...entry } satisfies RelatedEntry);
      },
      () => undefined,
    );
    if (!finished) return checkpointed();
    if (!state.related.some((r) => r.name === item.name)) {
      // An empty listing still gets its (empty) object, so a reader can tell "none" from "not collected".
      const entry = await storeGzipObject(store, relatedKey(ref, item.name, 0), new NdjsonGzipBuffer());
      state.related.push({ name: item.name, ...entry } satisfies RelatedEntry);
    }
    if (step + 1 < steps.length) {
      state.relatedStep = step + 1;
      await checkpoint();
    }
  }
  syncStats();

  // 5. Commit: verify every object is there whole, then write the manifest once.
  await verifyStored(store, [...state.parts, ...state.related]);
  const manifest: Manifest = {
    format: FORMAT_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    api: adapter.api,
    complete: true,
    records: state.records,
    parts: state.parts,
    related: state.related,
    pages: state.pages,
    apiCalls: state.apiCalls,
    retries: state.retries,
    invocations: state.invocations,
    startedAt: state.startedAt,
    finishedAt: now().toISOString(),
    truncatedOutputs: state.truncatedOutputs,
    collector: deps.collector,
  };
  try {
    await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { forbidOverwrite: true, contentType: 'application/json' });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const winner = await readManifest(store, ref);
    log.info('another collector committed first', { records: winner?.records });
    await cleanUp(store, ref);
    return resultOf(ref, 'committed-by-other', winner ?? manifest, store);
  }
  await cleanUp(store, ref);
  log.info('archive committed', {
    records: manifest.records,
    parts: manifest.parts.length,
    pages: manifest.pages,
    apiCalls: manifest.apiCalls,
    retries: manifest.retries,
    truncatedOutputs: manifest.truncatedOutputs,
  });
  return resultOf(ref, 'committed', manifest, store);

  async function savePending(buffer: NdjsonGzipBuffer): Promise<void> {
    state.pending = buffer.records > 0 ? await storeGzipObject(store, `${archiveDir(ref)}/${PENDING}`, buffer) : undefined;
  }
}

function assertSameParameters(a: Record<string, unknown>, b: Record<string, unknown>, what: string): void {
  const differing = Object.keys({ ...a, ...b }).filter((k) => a[k] !== b[k]);
  if (differing.length > 0) {
    throw new InputError(
      'ArchiveConflict',
      `${what} exists for this id with different parameters (${differing.map((k) => `${k}=${String(a[k])}`).join(', ')}); pass "force": true to replace it`,
      409,
    );
  }
}

/** `force`: remove the commit point first (so no reader trusts a half-replaced archive), then the rest. */
async function discardArchive(store: ObjectStore, ref: ArchiveRef, existing: Manifest | undefined): Promise<void> {
  if (existing) await store.delete(manifestKey(ref));
  for await (const obj of store.list(`${archiveDir(ref)}/`)) {
    if (/\/(part-\d+\.ndjson\.gz|_pending\.ndjson\.gz|_checkpoint\.json|related\/[^/]+)$/.test(obj.key)) await store.delete(obj.key);
  }
}

/** After the commit: the resume state and the event consumer's claims have served their purpose. */
async function cleanUp(store: ObjectStore, ref: ArchiveRef): Promise<void> {
  await store.delete(checkpointKey(ref));
  await store.delete(`${archiveDir(ref)}/${PENDING}`);
  for await (const obj of store.list(`${archiveDir(ref)}/_claim`)) await store.delete(obj.key);
}

async function verifyStored(store: ObjectStore, entries: ObjectEntry[]): Promise<void> {
  for (const entry of entries) {
    const info = await store.head(entry.key);
    if (!info || info.size !== entry.bytes) {
      throw new StorageError('IncompleteObject', `archive object ${entry.key} is ${info ? `${info.size} bytes, expected ${entry.bytes}` : 'missing'}`, {
        key: entry.key,
      });
    }
  }
}

function resultOf(
  ref: ArchiveRef,
  status: CollectStatus,
  m: Pick<Manifest, 'records' | 'parts' | 'pages' | 'apiCalls' | 'retries' | 'truncatedOutputs' | 'invocations'>,
  store: ObjectStore,
): CollectResult {
  const complete = status !== 'checkpointed';
  const key = complete ? manifestKey(ref) : checkpointKey(ref);
  return {
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    status,
    complete,
    manifestKey: key,
    location: store.locate(key),
    records: m.records,
    parts: m.parts.length,
    pages: m.pages,
    apiCalls: m.apiCalls,
    retries: m.retries,
    truncatedOutputs: m.truncatedOutputs,
    invocations: m.invocations,
  };
}
