/**
 * Streaming aggregation of archive records: one pass, one record at a time. What is kept grows with the number of
 * failed resources and distinct causes (each group keeps its resource ids and one example), plus one number per
 * record for the timeline and durations; never the records or their outputs.
 */
import { createHash } from 'node:crypto';
import type { Source } from '../ids';
import { clip, excerpt, joinSignature, meaningfulTail, normalizeText } from './signature';

/** How a record's status counts. */
export type StatusClass = 'succeeded' | 'failed' | 'unfinished' | 'skipped';

/** Statuses of a task that has not ended yet (both sources). */
export const UNFINISHED_STATUSES: ReadonlySet<string> = new Set(['Running', 'Pending', 'Scheduled', 'Stopping', 'Waiting', 'Queued', 'Started']);

/**
 * Classifies a per-resource status. `Success` succeeded; `Skipped` (OOS) was deliberately not run; the statuses
 * of {@link UNFINISHED_STATUSES} are unfinished; every other value — the known failures (ECS Failed, Error, Timeout,
 * Invalid, Aborted, Cancelled, Terminated; OOS Failed, Cancelled) and any unknown or missing status — is a failure,
 * so nothing unexpected goes unreported.
 * @example classifyStatus('ecs', 'Timeout') // 'failed'
 */
export function classifyStatus(source: Source, status: string): StatusClass {
  if (status === 'Success') return 'succeeded';
  if (UNFINISHED_STATUSES.has(status)) return 'unfinished';
  if (source === 'oos' && status === 'Skipped') return 'skipped';
  return 'failed';
}

/** A failed child execution, reduced to what the summary uses. */
export interface ChildInfo {
  executionId: string;
  statusMessage: string;
  startDate: string | undefined;
  endDate: string | undefined;
}

/** Failed child executions by every resource id found in their parameters, outputs and targets. */
export type ChildIndex = Map<string, ChildInfo>;

/** One cause of failure and everything it hit. */
export interface FailureGroup {
  /** Stable id of the cause: 12 hex digits of sha256(status, errorCode, exitCode, signature). */
  key: string;
  /** Failed records with this cause. */
  count: number;
  /** `count / failures`, rounded to 4 decimals. */
  share: number;
  status: string;
  /** ECS `ErrorCode`; `''` when there is none (always for OOS). */
  errorCode: string;
  /** ECS `ExitCode`; `null` for OOS or when the record has none. */
  exitCode: number | null;
  /**
   * The normalised error text (see `signature.ts`), cut in the middle past 400 characters (the key hashes all of
   * it); `''` when the records carry no text at all.
   */
  signature: string;
  /**
   * The most telling part of the signature, for lists: the last meaningful output line (ECS; else `ErrorInfo`) or
   * the child execution's `StatusMessage` (OOS; else the last output line), normalised, at most 200 characters.
   */
  title: string;
  /** The first record of the group: its resource id and an excerpt (≤ 2 KB) of its error text and output. */
  example: { id: string; text: string };
  /** Every affected resource (ECS InstanceId / OOS ResourceId), each once, in archive order. */
  resourceIds: string[];
}

/** What one record contributes, whichever the source. */
interface RecordView {
  id: string;
  status: string;
  errorCode: string;
  exitCode: number | null;
  /** Epoch seconds of the end, if known. */
  finishedAt: number | undefined;
  /** Seconds from start to end, if known. */
  duration: number | undefined;
  dropped: number;
  commandId: string | undefined;
}

/** Grows like an array of numbers but stores 8 bytes per value. */
class NumberList {
  private data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** A group while records stream in: ids in a Set (each once), share computed at the end. */
type GroupState = Omit<FailureGroup, 'share' | 'resourceIds'> & { resourceIds: Set<string> };

/** The aggregation's result, turned into `summary.json` by `buildSummary`. */
export interface Aggregation {
  source: Source;
  total: number;
  byStatus: Record<string, number>;
  succeeded: number;
  failures: number;
  unfinished: number;
  skipped: number;
  /** Largest first; ties by key. */
  groups: FailureGroup[];
  /** Distinct causes that did not fit under `maxGroups` and were counted in the `other` group. */
  overflowCauses: number;
  /** Failed resources, each once, in archive order. */
  retryIds: string[];
  /** The CommandIds seen (ECS), at most 2: one means the retry can reuse it. */
  commandIds: string[];
  truncated: { count: number; bytesDropped: number; ids: string[] };
  /** Record durations in seconds (ECS StartTime → FinishedTime), unsorted. */
  durations: Float64Array;
  /** Epoch seconds of each finish, and whether that record failed (same index). */
  finishes: { at: Float64Array; failed: Uint8Array };
}

/** Options of {@link createAggregator}. */
export interface AggregatorOptions {
  source: Source;
  /** OOS: failed child executions by resource id (see {@link indexChildren}). */
  children?: ChildIndex;
  /** Distinct causes kept as their own group; later new causes are counted in one `other` group. @default 5000 */
  maxGroups?: number;
  /** Size of each group's example text in bytes. @default 2048 */
  exampleBytes?: number;
}

/** The group that collects causes beyond `maxGroups`. */
export const OVERFLOW_GROUP_KEY = 'other';

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function epochSeconds(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

function intOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return null;
}

/** The string leaves of a JSON value (or of a string holding JSON), as `key: value` lines for scalars. */
function jsonText(value: unknown, depth = 0): string[] {
  if (depth > 6) return [];
  if (typeof value === 'string') {
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        return jsonText(JSON.parse(t), depth + 1);
      } catch {
        return [value];
      }
    }
    return [value];
  }
  if (Array.isArray(value)) return value.flatMap((v) => jsonText(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      typeof v === 'string' || typeof v === 'object' ? jsonText(v, depth + 1) : v === undefined ? [] : [`${k}: ${String(v)}`],
    );
  }
  return value === undefined || value === null ? [] : [String(value)];
}

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
    for (const m of t.matchAll(/[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9-]{4,}/g)) out.add(m[0]);
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
 * Indexes failed child executions (`related/failed-child-executions`) by every resource id they mention in
 * `Parameters` (any key, strings and arrays, nested), `Outputs` and `Targets`. When two children mention one
 * resource, the one that ended last wins.
 * @example const children = await indexChildren(readRelated(store, manifest, 'failed-child-executions'));
 */
export async function indexChildren(children: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>): Promise<ChildIndex> {
  const index: ChildIndex = new Map();
  for await (const child of children) {
    const info: ChildInfo = {
      executionId: str(child.ExecutionId),
      statusMessage: str(child.StatusMessage).slice(0, 8192),
      startDate: str(child.StartDate) || undefined,
      endDate: str(child.EndDate) || undefined,
    };
    const tokens = new Set<string>();
    resourceTokens(child.Parameters, tokens);
    resourceTokens(child.Outputs, tokens);
    resourceTokens(child.Targets, tokens);
    for (const token of tokens) {
      const prev = index.get(token);
      if (!prev || (info.endDate ?? '') >= (prev.endDate ?? '')) index.set(token, info);
    }
  }
  return index;
}

/** The streaming aggregator: feed records with `add`, then call `finish` once. */
export interface Aggregator {
  add(record: Record<string, unknown>): void;
  finish(): Aggregation;
}

/**
 * Creates an aggregator for one archive's primary records.
 * @example
 *   const agg = createAggregator({ source: 'ecs' });
 *   for await (const r of readAllParts(store, manifest)) agg.add(r);
 *   const result = agg.finish();
 */
export function createAggregator(options: AggregatorOptions): Aggregator {
  const { source } = options;
  const maxGroups = options.maxGroups ?? 5000;
  const exampleBytes = options.exampleBytes ?? 2048;
  const children = options.children ?? new Map<string, ChildInfo>();
  const byStatus: Record<string, number> = Object.create(null) as Record<string, number>;
  const counts = { total: 0, succeeded: 0, failed: 0, unfinished: 0, skipped: 0 };
  const groups = new Map<string, GroupState>();
  let overflowCauses = 0;
  const overflowSeen = new Set<string>();
  const retry = new Set<string>();
  const commandIds = new Set<string>();
  const truncated = { count: 0, bytesDropped: 0, ids: new Set<string>() };
  const durations = new NumberList();
  const finishAt = new NumberList();
  const finishFailed: number[] = [];

  const view = (r: Record<string, unknown>): RecordView => {
    if (source === 'ecs') {
      const start = epochSeconds(r.StartTime);
      const end = epochSeconds(r.FinishedTime) ?? epochSeconds(r.StopTime);
      return {
        id: str(r.InstanceId) || '(unknown)',
        status: str(r.InvocationStatus),
        errorCode: str(r.ErrorCode),
        exitCode: intOrNull(r.ExitCode),
        finishedAt: end,
        duration: start !== undefined && end !== undefined && end >= start ? end - start : undefined,
        dropped: typeof r.Dropped === 'number' ? r.Dropped : Number(r.Dropped) || 0,
        commandId: str(r.CommandId) || undefined,
      };
    }
    return {
      id: str(r.ResourceId) || '(unknown)',
      status: str(r.Status),
      errorCode: '',
      exitCode: null,
      finishedAt: epochSeconds(r.ExecutionTime),
      duration: undefined,
      dropped: 0,
      commandId: undefined,
    };
  };

  /**
   * The signature pieces (normalised), which of them names the cause best (the title), and the example text of a
   * failed record. ECS: `ErrorInfo` + the output's last meaningful lines, titled by the last line. OOS: the linked
   * child's `StatusMessage` + the last lines of `Outputs`, titled by the message.
   */
  const failureText = (r: Record<string, unknown>, v: RecordView): { pieces: string[]; title: string; example: string } => {
    if (source === 'ecs') {
      const info = str(r.ErrorInfo);
      const output = str(r.Output);
      const pieces = [info, ...meaningfulTail(output)].map(normalizeText);
      const example = [info, output.trimEnd()].filter(Boolean).join('\n\n');
      return { pieces, title: pieces.length > 1 ? (pieces[pieces.length - 1] ?? '') : (pieces[0] ?? ''), example: excerpt(example, exampleBytes, 'tail') };
    }
    const child = children.get(v.id);
    const outputs = jsonText(r.Outputs).join('\n');
    const message = child?.statusMessage ?? '';
    const pieces = [message, ...meaningfulTail(outputs)].map(normalizeText);
    const head = message ? excerpt(message, Math.floor(exampleBytes / 2), 'head') : '';
    const body = outputs.trim() ? excerpt(outputs.trimEnd(), exampleBytes - Buffer.byteLength(head) - 2, 'tail') : '';
    return { pieces, title: pieces[0] || (pieces[pieces.length - 1] ?? ''), example: [head, body].filter(Boolean).join('\n\n') };
  };

  return {
    add(record) {
      const v = view(record);
      counts.total += 1;
      byStatus[v.status] = (byStatus[v.status] ?? 0) + 1;
      const cls = classifyStatus(source, v.status);
      counts[cls] += 1;
      if (v.duration !== undefined) durations.push(v.duration);
      if (v.finishedAt !== undefined && cls !== 'unfinished') {
        finishAt.push(v.finishedAt);
        finishFailed.push(cls === 'failed' ? 1 : 0);
      }
      if (v.dropped > 0) {
        truncated.count += 1;
        truncated.bytesDropped += v.dropped;
        truncated.ids.add(v.id);
      }
      if (v.commandId && commandIds.size < 2) commandIds.add(v.commandId);
      if (cls !== 'failed') return;

      retry.add(v.id);
      const { pieces, title, example } = failureText(record, v);
      const signature = joinSignature(pieces);
      let key = createHash('sha256')
        .update([v.status, v.errorCode, String(v.exitCode), signature].join('\u001f'))
        .digest('hex')
        .slice(0, 12);
      let group = groups.get(key);
      if (!group && groups.size >= maxGroups) {
        if (!overflowSeen.has(key)) {
          overflowSeen.add(key);
          overflowCauses += 1;
        }
        key = OVERFLOW_GROUP_KEY;
        group = groups.get(key);
        if (!group) {
          group = { key, count: 0, status: '(various)', errorCode: '', exitCode: null, signature: '(causes beyond the group limit)', title: '(causes beyond the group limit)', example: { id: v.id, text: example }, resourceIds: new Set() };
          groups.set(key, group);
        }
      }
      if (!group) {
        group = { key, count: 0, status: v.status, errorCode: v.errorCode, exitCode: v.exitCode, signature: clip(signature), title: clip(title, 200), example: { id: v.id, text: example }, resourceIds: new Set() };
        groups.set(key, group);
      }
      group.count += 1;
      group.resourceIds.add(v.id);
    },

    finish() {
      const failures = counts.failed;
      const list: FailureGroup[] = [...groups.values()]
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
        .map((g) => ({
          key: g.key,
          count: g.count,
          share: failures === 0 ? 0 : Math.round((g.count / failures) * 10_000) / 10_000,
          status: g.status,
          errorCode: g.errorCode,
          exitCode: g.exitCode,
          signature: g.signature,
          title: g.title,
          example: g.example,
          resourceIds: [...g.resourceIds],
        }));
      const sortedStatus: Record<string, number> = {};
      for (const k of Object.keys(byStatus).sort((a, b) => (byStatus[b] ?? 0) - (byStatus[a] ?? 0) || a.localeCompare(b))) {
        sortedStatus[k] = byStatus[k] ?? 0;
      }
      return {
        source,
        total: counts.total,
        byStatus: sortedStatus,
        succeeded: counts.succeeded,
        failures,
        unfinished: counts.unfinished,
        skipped: counts.skipped,
        groups: list,
        overflowCauses,
        retryIds: [...retry],
        commandIds: [...commandIds],
        truncated: { count: truncated.count, bytesDropped: truncated.bytesDropped, ids: [...truncated.ids] },
        durations: durations.values(),
        finishes: { at: finishAt.values(), failed: Uint8Array.from(finishFailed) },
      };
    },
  };
}
