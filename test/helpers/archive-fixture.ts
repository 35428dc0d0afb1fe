/**
 * Builds archives in a store the way the collector leaves them: gzip NDJSON parts and related objects, and a
 * `manifest.json` whose entries carry the right records/bytes/sha256 — or, for an unfinished archive, parts and a
 * `_checkpoint.json` without a manifest. Records come from arrays or (async) generators, so big archives never
 * sit in memory as an array.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { checkpointKey, FORMAT_VERSION, manifestKey, partKey, relatedKey, type ArchiveRef } from '../../lib/archive/layout';
import type { Manifest, ObjectEntry, RelatedEntry, RelatedName } from '../../lib/archive/manifest';
import type { ObjectStore } from '../../lib/archive/store';

export type FixtureRecord = Record<string, unknown>;

export interface ArchiveFixtureOptions {
  ref: ArchiveRef;
  records: Iterable<FixtureRecord> | AsyncIterable<FixtureRecord>;
  /** @default 1000 */
  recordsPerPart?: number;
  related?: Partial<Record<RelatedName, Iterable<FixtureRecord>>>;
  /** The parts' gzip level (1 builds a large archive fastest). @default zlib's default */
  gzipLevel?: number;
  /** Write the manifest (a finished archive) or only a checkpoint (an archive being collected). @default true */
  commit?: boolean;
  /** Fields to override in the manifest (e.g. `complete: false`, `finishedAt`). */
  manifest?: Partial<Manifest>;
}

function gzipLines(lines: string[], level?: number): Buffer {
  return gzipSync(Buffer.from(lines.join('')), level === undefined ? {} : { level });
}

function entryOf(key: string, body: Buffer, records: number): ObjectEntry {
  return { key, records, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/** Writes an archive and returns its manifest (also when `commit` is false, for reference). */
export async function writeArchive(store: ObjectStore, options: ArchiveFixtureOptions): Promise<Manifest> {
  const { ref } = options;
  const perPart = options.recordsPerPart ?? 1000;
  const parts: ObjectEntry[] = [];
  let lines: string[] = [];
  let total = 0;
  let truncated = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    const key = partKey(ref, parts.length);
    const body = gzipLines(lines, options.gzipLevel);
    await store.put(key, body, { contentType: 'application/x-ndjson' });
    parts.push(entryOf(key, body, lines.length));
    lines = [];
  };
  for await (const record of options.records) {
    lines.push(JSON.stringify(record) + '\n');
    total += 1;
    if (typeof record.Dropped === 'number' && record.Dropped > 0) truncated += 1;
    if (lines.length >= perPart) await flush();
  }
  await flush();

  const related: RelatedEntry[] = [];
  for (const [name, records] of Object.entries(options.related ?? {}) as [RelatedName, Iterable<FixtureRecord>][]) {
    const key = relatedKey(ref, name);
    const relatedLines = Array.from(records, (r) => JSON.stringify(r) + '\n');
    const body = gzipLines(relatedLines, options.gzipLevel);
    await store.put(key, body, { contentType: 'application/x-ndjson' });
    related.push({ ...entryOf(key, body, relatedLines.length), name });
  }

  const manifest: Manifest = {
    format: FORMAT_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    api:
      ref.source === 'oos'
        ? { service: 'oos', action: 'ListResourceExecutionStatus', version: '2019-06-01', parameters: { ExecutionId: ref.id, MaxResults: 100 } }
        : { service: 'ecs', action: 'DescribeInvocationResults', version: '2014-05-26', parameters: { InvokeId: ref.id, MaxResults: 50, ContentEncoding: 'PlainText' } },
    complete: true,
    records: total,
    parts,
    related,
    pages: parts.length,
    apiCalls: parts.length + related.length,
    retries: 0,
    invocations: 1,
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt: '2024-05-01T10:05:00.000Z',
    truncatedOutputs: truncated,
    collector: { name: 'test-fixture', version: '0.0.0' },
    ...options.manifest,
  };
  if (options.commit ?? true) {
    await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2), { forbidOverwrite: true, contentType: 'application/json' });
  } else {
    await store.put(checkpointKey(ref), JSON.stringify({ parts, records: total }), { contentType: 'application/json' });
  }
  return manifest;
}

/** A deterministic ECS-looking instance id for index `n` (`i-bp1` + 17 base-36 characters). */
export function instanceId(n: number, salt = 'a'): string {
  return `i-bp1${salt}${n.toString(36).padStart(16, '0')}`;
}

/** A `DescribeInvocationResults` record with the fields the API returns; `over` replaces any of them. */
export function ecsRecord(over: FixtureRecord = {}): FixtureRecord {
  return {
    CommandId: 'c-hz0jdfwcsr0001',
    InvokeId: 't-hz0jdfwd9f0001',
    InstanceId: instanceId(0),
    InvocationStatus: 'Success',
    InvokeRecordStatus: 'Finished',
    ExitCode: 0,
    ErrorCode: '',
    ErrorInfo: '',
    Output: 'ok\n',
    Dropped: 0,
    StartTime: '2024-05-01T10:00:00Z',
    FinishedTime: '2024-05-01T10:00:05Z',
    StopTime: '',
    Repeats: 1,
    Username: 'root',
    ContainerId: '',
    ContainerName: '',
    TerminationMode: 'ProcessTree',
    Launcher: '',
    OssOutputDelivery: '',
    OssOutputStatus: '',
    OssOutputUri: '',
    Tags: { Tag: [] },
    ...over,
  };
}

/** A `ListResourceExecutionStatus` record; `Outputs` is a JSON string as the API returns it. */
export function oosRecord(over: FixtureRecord = {}): FixtureRecord {
  return {
    ResourceId: instanceId(0),
    ExecutionId: 'exec-6be6d6ff805349d9ac13',
    Status: 'Success',
    ExecutionTime: '2024-05-01T10:00:05Z',
    Outputs: JSON.stringify({ commandOutput: 'ok\n' }),
    ...over,
  };
}

/** A `ListExecutions` record of a failed child execution. */
export function oosChild(over: FixtureRecord = {}): FixtureRecord {
  return {
    ExecutionId: 'exec-child00000001',
    ParentExecutionId: 'exec-6be6d6ff805349d9ac13',
    TemplateName: 'ACS-ECS-BulkyRunCommand',
    Status: 'Failed',
    StatusMessage: '',
    StatusReason: '',
    Mode: 'Automatic',
    IsParent: false,
    Parameters: {},
    Outputs: '{}',
    StartDate: '2024-05-01T10:00:00Z',
    EndDate: '2024-05-01T10:00:05Z',
    Counters: {},
    ...over,
  };
}

/** When {@link fleetRun} starts. */
export const FLEET_START = '2024-05-01T02:00:00Z';
const T0 = Date.parse(FLEET_START);
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
/** Instance ids that look like real ones (`i-bp1` + 17 pseudo-random lower-case alphanumerics). */
export const realisticInstanceId = (n: number) => `i-bp1${createHash('sha256').update(String(n)).digest('base64url').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 17)}`;
/** Markup planted in one output of {@link fleetRun}: a report must show it as text and never run it. */
export const FLEET_INJECTED = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

/**
 * A realistic Cloud Assistant run (`DescribeInvocationResults` records): 2,000 instances over ~40 minutes; 331 fail
 * in 6 causes (disk full, connection refused, yum lock, timeout, instance not running, one output carrying markup),
 * 10 still running, 4 outputs truncated.
 */
export function* fleetRun(): Generator<Record<string, unknown>> {
  for (let n = 0; n < 2000; n++) {
    const id = realisticInstanceId(n);
    const start = at(Math.floor(n * 1.2));
    const end = at(Math.floor(n * 1.2) + 4 + (n % 23));
    const base = { InstanceId: id, StartTime: start, FinishedTime: end, CommandId: 'c-hz0jdfwcsr0001' };
    const fail = { InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ErrorInfo: 'The command execution exit code is not zero.' };
    const k = n % 100;
    if (n === 1234) {
      yield ecsRecord({ ...base, ...fail, ExitCode: 3, Output: `rendering template for ${id}\nunexpected token in ${FLEET_INJECTED}\n` });
    } else if (k < 9) {
      yield ecsRecord({
        ...base,
        ...fail,
        ExitCode: 1,
        Output: `Loaded plugins: fastestmirror\nDownloading packages:\nError writing to /var/cache/yum/x86_64/7/updates/packages/kernel-3.10.0-${1100 + n}.el7.x86_64.rpm\n[Errno 28] No space left on device: '/var/cache/yum/x86_64/7/updates'\n`,
      });
    } else if (k < 13) {
      yield ecsRecord({
        ...base,
        ...fail,
        ExitCode: 7,
        Output: `+ curl -fsS http://10.20.${n % 250}.${(n * 3) % 250}:8080/healthz\ncurl: (7) Failed to connect to 10.20.${n % 250}.${(n * 3) % 250} port 8080 after ${n % 9} ms: Connection refused\n`,
      });
    } else if (k < 15) {
      yield ecsRecord({
        ...base,
        ...fail,
        ExitCode: 1,
        Output: `Another app is currently holding the yum lock; waiting for it to exit...\n  The other application is: yum\n    Memory : ${120 + (n % 40)} M RSS\n    Started: ${at(-n)} - 00:0${n % 9}:12 ago\nExiting on user cancel\n`,
      });
    } else if (k === 15) {
      yield ecsRecord({ ...base, InvocationStatus: 'Timeout', ExitCode: -1, ErrorCode: 'ExecutionTimeout', ErrorInfo: 'The command execution has been timeout.', Output: `Waiting for lock /var/lib/dpkg/lock-frontend held by process ${3000 + n}\n`, FinishedTime: at(Math.floor(n * 1.2) + 600) });
    } else if (k === 16 && n % 200 === 16) {
      yield ecsRecord({ ...base, InvocationStatus: 'Invalid', ExitCode: 0, ErrorCode: 'InstanceNotRunning', ErrorInfo: 'the specified instance is not running', Output: '', FinishedTime: start });
    } else if (n >= 1990) {
      yield ecsRecord({ ...base, InvocationStatus: 'Running', InvokeRecordStatus: 'Running', FinishedTime: '', Output: '' });
    } else {
      yield ecsRecord({ ...base, Output: `kernel updated on ${id}\n`, Dropped: n % 500 === 250 ? 1200 + n : 0 });
    }
  }
}
