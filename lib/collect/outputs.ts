/**
 * The full outputs: Cloud Assistant cuts a result's `Output` at 24 KB and says how much it dropped (`Dropped`); with
 * `OssOutputDelivery` on RunCommand/InvokeCommand it also writes the complete output to OSS and says where
 * (`OssOutputUri`) and how that went (`OssOutputStatus`: InProgress, Finished, Failed; `OssOutputErrorCode`/`Info`).
 * This step reads, for each result the API cut (and with OUTPUT_DELIVERY_FAILED each failed one), the delivered
 * object into the archive as its own gzip text object (`outputs/<instance>[-<run>].txt.gz`), listed in the manifest's
 * `outputs` with its size and sha256, or says why it could not: delivery still in progress (`pending`: a later
 * collect of the archive looks again), failed (the API's code and message), refused (the URI is outside
 * OUTPUT_DELIVERY_ALLOW), unreadable (OSS said no), or never asked for. The API's records are never changed.
 *
 * Bounded: an object is streamed from OSS into the archive (gzip, spooled to a temporary file), at most
 * OUTPUT_DELIVERY_MAX_KB of it; of a larger one only the end is read (a ranged GET), from its first whole line on,
 * and the bytes before it are counted as omitted (the API's `Output` holds the start).
 *
 * Exactly once: each output has one key, written whole (a retried or resumed write rewrites the same key), and is
 * listed once; the step's progress (records scanned, items so far) is in the checkpoint, saved as it goes.
 */
import type { OutputDeliveryConfig } from '../config';
import { checkDeliveredUri } from '../cloud/delivery';
import { StorageError } from '../errors';
import { str } from '../fields';
import { outputKey, type ArchiveRef } from '../archive/layout';
import type { OutputItem, OutputObject, OutputState, OutputsSection } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import { storeGzipStream } from '../archive/writer';
import { classifyStatus } from '../status';
import type { ApiRecord } from './sources';

/** What the step needs besides the archive. */
export interface OutputDeliveryDeps {
  config: OutputDeliveryConfig;
  /**
   * A read-only view of `bucket` as the endpoint of `regionId` serves it (the runtime: an OSS store with the function's
   * credentials). Only called for a bucket and region OUTPUT_DELIVERY_ALLOW names.
   */
  openBucket(bucket: string, regionId: string): ObjectStore;
}

/** Where one archive's outputs go and how they are named. */
export interface OutputTarget {
  store: ObjectStore;
  ref: ArchiveRef;
  generation: string | undefined;
  /** The archive holds every run (IncludeHistory): keys carry the run. */
  includeHistory: boolean;
}

/** Results resolved side by side. */
export const OUTPUT_CONCURRENCY = 8;

/** Whether a result's full output is looked for: the API cut it, or (when configured) it failed. */
export function wantsFullOutput(record: ApiRecord, config: Pick<OutputDeliveryConfig, 'failedResults'>): boolean {
  if (droppedOf(record) > 0) return true;
  return config.failedResults && classifyStatus('ecs', str(record.InvocationStatus)) === 'failed';
}

/** Whether an item is final (stored, or a reason that will not change); `pending` is looked at again later. */
export function isSettled(state: OutputState): boolean {
  return state !== 'pending';
}

/**
 * One result's full output: read and stored when delivered and allowed, else the reason.
 * `OssOutputUri` is only read for `Finished`; the SDK models say it is empty while delivery is in progress or failed.
 */
export async function resolveOutput(record: ApiRecord, target: OutputTarget, deps: OutputDeliveryDeps): Promise<OutputItem> {
  const item: OutputItem = {
    instanceId: str(record.InstanceId),
    repeats: runOf(record),
    dropped: droppedOf(record),
    status: str(record.InvocationStatus),
    state: 'pending',
    uri: str(record.OssOutputUri),
  };
  const status = str(record.OssOutputStatus);
  if (status === '' && str(record.OssOutputDelivery) === '') return { ...item, state: 'not-delivered' };
  if (status === 'Failed') return { ...item, state: 'failed', errorCode: str(record.OssOutputErrorCode), errorInfo: str(record.OssOutputErrorInfo) };
  // InProgress, or a value the docs do not list (also '' with a delivery asked for): not final, looked at again later.
  if (status !== 'Finished') return item;
  const checked = checkDeliveredUri(item.uri, deps.config.allow, target.ref.regionId);
  if ('refused' in checked) return { ...item, state: 'refused', errorCode: 'NotAllowed', errorInfo: checked.refused };
  const { bucket, key, regionId } = checked.object;
  const unreadable = (err: unknown): OutputItem => {
    const code = err instanceof StorageError ? err.code : 'ReadFailed';
    return { ...item, state: 'unreadable', errorCode: code, errorInfo: err instanceof Error ? err.message : String(err) };
  };
  // OSS saying no (AccessDenied, a bucket in another region, a key gone) is a note, not a failure of the archive;
  // a failure to write the archive itself is.
  let opened: { size: number; start: number; stream: AsyncIterable<Buffer> | undefined };
  try {
    const source = deps.openBucket(bucket, regionId);
    const info = await source.head(key);
    if (!info) return { ...item, state: 'unreadable', errorCode: 'NoSuchKey', errorInfo: `oss://${bucket}/${key} does not exist (read in ${regionId})` };
    const start = info.size > deps.config.maxBytes ? info.size - deps.config.maxBytes : 0;
    opened = { size: info.size, start, stream: await source.getStream(key, { start }) };
  } catch (err) {
    return unreadable(err);
  }
  if (!opened.stream) return { ...item, state: 'unreadable', errorCode: 'NoSuchKey', errorInfo: `oss://${bucket}/${key} disappeared while it was read` };
  const read = { omitted: opened.start, error: undefined as unknown };
  const archiveKey = outputKey(target.ref, item.instanceId, target.includeHistory ? item.repeats : undefined, target.generation);
  try {
    const stored = await storeGzipStream(target.store, archiveKey, bounded(opened.stream, opened.start > 0, deps.config.maxBytes, read));
    return {
      ...item,
      state: 'stored',
      object: { key: archiveKey, bytes: stored.bytes, sha256: stored.sha256, textBytes: stored.textBytes },
      sourceBytes: opened.size,
      ...(read.omitted > 0 ? { omittedBytes: read.omitted } : {}),
    };
  } catch (err) {
    if (read.error !== undefined && err === read.error) return unreadable(err);
    throw err;
  }
}

/**
 * The bytes of a delivered object as they are stored: from the first whole line when the read starts inside the
 * object (the bytes skipped are added to `read.omitted`), and never more than `max` bytes whatever the object says.
 */
async function* bounded(stream: AsyncIterable<Buffer>, midLine: boolean, max: number, read: { omitted: number; error: unknown }): AsyncGenerator<Buffer> {
  let skipping = midLine;
  let left = max;
  const chunks = stream[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (err) {
      // The source failed mid-read (told apart from a failure to write the archive by its identity).
      read.error = err;
      throw err;
    }
    if (next.done) break;
    const chunk = next.value;
    let buf = chunk;
    if (skipping) {
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        read.omitted += buf.length;
        continue;
      }
      read.omitted += nl + 1;
      buf = buf.subarray(nl + 1);
      skipping = false;
    }
    if (buf.length > left) buf = buf.subarray(0, left);
    left -= buf.length;
    if (buf.length > 0) yield buf;
    if (left <= 0) {
      await chunks.return?.();
      break;
    }
  }
}

/** The archive objects of full outputs (the stored ones). */
export function outputObjects(items: readonly OutputItem[] | undefined): OutputObject[] {
  return (items ?? []).flatMap((item) => (item.object ? [item.object] : []));
}

/** Counts of items per state (for results, logs and the summary). */
export function outputCounts(items: readonly OutputItem[]): Record<OutputState, number> {
  const counts: Record<OutputState, number> = { stored: 0, pending: 0, failed: 0, refused: 0, unreadable: 0, 'not-delivered': 0 };
  for (const item of items) counts[item.state] += 1;
  return counts;
}

/** The identity of a result within an archive. */
export function outputId(item: Pick<OutputItem, 'instanceId' | 'repeats'>): string {
  return `${item.instanceId}\u0000${item.repeats}`;
}

/**
 * Merges items resolved later into a section: an item replaces the one for the same result unless that one is
 * settled and the new one is not (a racing fill that still saw `pending` never undoes one that stored the output).
 */
export function mergeOutputs(section: OutputsSection, resolved: readonly OutputItem[], now: Date): OutputsSection {
  const byId = new Map(resolved.map((item) => [outputId(item), item]));
  const items = section.items.map((old) => {
    const next = byId.get(outputId(old));
    return next && !(isSettled(old.state) && !isSettled(next.state)) ? next : old;
  });
  return { updatedAt: now.toISOString(), items };
}

function droppedOf(record: ApiRecord): number {
  const n = typeof record.Dropped === 'number' ? record.Dropped : Number(record.Dropped);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function runOf(record: ApiRecord): number {
  const n = typeof record.Repeats === 'number' ? record.Repeats : Number(record.Repeats);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** The step's place in the checkpoint: records of the parts looked at so far, and the items they gave. */
export interface OutputCursor {
  scanned: number;
  items: OutputItem[];
  done?: boolean | undefined;
}

/** Items resolved between two checkpoint saves (a kill loses at most these, and they are redone under the same keys). */
const SAVE_EVERY = 64;

/**
 * The step: the archive's records are read back part by part (streamed), and the results that want their full
 * output are resolved {@link OUTPUT_CONCURRENCY} at a time, in archive order, from where the cursor is. Returns true
 * once every record was looked at; false when `shouldStop` said so first (the cursor is saved, a later invocation
 * goes on from it).
 */
export async function scanOutputs(args: {
  target: OutputTarget;
  deps: OutputDeliveryDeps;
  records: AsyncIterable<ApiRecord>;
  cursor: OutputCursor;
  shouldStop: () => boolean;
  save: () => Promise<void>;
}): Promise<boolean> {
  const { target, deps, cursor } = args;
  let index = 0;
  let batch: ApiRecord[] = [];
  let unsaved = 0;
  const flush = async (through: number) => {
    const items = await Promise.all(batch.map((record) => resolveOutput(record, target, deps)));
    cursor.items.push(...items);
    cursor.scanned = through;
    unsaved += items.length;
    batch = [];
    if (unsaved >= SAVE_EVERY) {
      unsaved = 0;
      await args.save();
    }
  };
  for await (const record of args.records) {
    index += 1;
    if (index <= cursor.scanned) continue;
    if (wantsFullOutput(record, deps.config)) batch.push(record);
    if (batch.length >= OUTPUT_CONCURRENCY) {
      await flush(index);
      if (args.shouldStop()) {
        await args.save();
        return false;
      }
    }
  }
  await flush(index);
  cursor.done = true;
  return true;
}
