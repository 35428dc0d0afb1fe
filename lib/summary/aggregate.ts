/**
 * Streaming aggregation of archive records: one pass, one record at a time. What is kept in memory grows with the
 * distinct causes only (each group keeps its counts, one example and a bounded sample of error lines; the template
 * miner keeps at most a few words per template position), plus a bounded memo of the text pieces that repeat
 * (`memoizeText`); never the records or their outputs. What is per record or per failure waits in temporary files:
 * the id lists (failure-lists.ts), the finish times and durations (numbers.ts), the failed children an OOS failure is
 * joined to (children.ts).
 *
 * A failed record's cause is read by lib/causes/failure.ts (its text pieces, title, example and stated codes) and
 * grouped there (`CauseGrouper`: a provisional id per failure, final keys and titles at the end); this module keeps
 * the per-group bookkeeping and merges the provisional groups whose final keys are equal.
 */
import type { Source } from '../ids';
import { intOrNull, str } from '../fields';
import { classifyStatus, ECS_NEVER_RAN } from '../status';
import { CauseGrouper, createFailureReader, OVERFLOW, type FailureText } from '../causes/failure';
import { IdSpool, mergeLists, RecordSpool, TRUNCATED_LIST } from './failure-lists';
import { cleanLine, clip, clipWords } from '../causes/signature';
import { displayText } from '../causes/secrets';
import type { ChildSpool } from './children';
import { Float64Spool, spooledDurationStats, spooledTimeline, type DurationStats, type Timeline } from './numbers';

export { oosMessage } from '../causes/failure';

/**
 * Cloud Assistant error codes of a command that never ran on the instance (DescribeInvocationResults' `ErrorCode`,
 * also named by OOS `StatusMessage`s): whatever exit code the record or the message states (0), none is known.
 */
const NEVER_RAN_ERROR_CODES: ReadonlySet<string> = new Set([
  'InstanceNotExists', 'InstanceReleased', 'InstanceNotRunning', 'CommandNotApplicable', 'AccountNotExists', 'DirectoryNotExists',
  'BadCronExpression', 'ClientNotRunning', 'ClientNotResponse', 'ClientIsUpgrading', 'ClientNeedUpgrade', 'DeliveryTimeout',
  'SecurityGroupRuleDenied', 'TaskConcurrencyLimit',
]);

/** One cause of failure and everything it hit. */
export interface FailureGroup {
  /** Stable id of the cause: 12 hex digits of sha256(status, errorCode, exitCode, signature) (`causeKey`). */
  key: string;
  /** Failed records with this cause. */
  count: number;
  /** `count / failures`, rounded to 4 decimals. */
  share: number;
  status: string;
  /** ECS `ErrorCode`; OOS the code the `StatusMessage` names (`Task '…' failed: ExitCodeNonzero: …`); `''` when none. */
  errorCode: string;
  /** ECS `ExitCode`; OOS the exit code the `Outputs` or the `StatusMessage` state; `null` when none is known. */
  exitCode: number | null;
  /**
   * The mined templates of the error text pieces (variables as `<*>`) joined with ` | `, cut in the middle past 400
   * characters (the key hashes all of it); `''` when the records carry no text at all.
   */
  signature: string;
  /**
   * The template that says what failed, for lists: of the last meaningful output line (ECS; else `ErrorInfo`) or of
   * the child execution's `StatusMessage` without its boilerplate (OOS; else the last output line), at most 200
   * characters.
   */
  title: string;
  /**
   * The first record of the group: its resource id, an excerpt (≤ 2 KB, secrets masked) of its output around its error
   * line, and that line's index in `text` (0-based; `null` when the excerpt does not hold it).
   */
  example: { id: string; text: string; line: number | null };
  /**
   * The affected resources (ECS InstanceId / OOS ResourceId), each once, in archive order: all of them, or when
   * {@link resourceIdsKey} is present the first ones (at least the first {@link SAMPLE_IDS} while the summary holds
   * fewer than {@link SUMMARY_IDS} ids in all; see `sampleBudgets`).
   */
  resourceIds: string[];
  /** Only when `resourceIds` is cut: how many resources the cause affected (each once). */
  resourceCount?: number;
  /** Only when `resourceIds` is cut: the object holding them all, one per line (key relative to the archive root). */
  resourceIdsKey?: string;
  /**
   * Each affected resource's own error line (the line the title is mined from, before masking of variables; at
   * most 200 characters, secrets masked), for the first {@link ERRORS_PER_GROUP} resources of the group in archive
   * order, while the whole aggregation holds fewer than {@link MAX_INSTANCE_ERRORS}.
   */
  instanceErrors: { id: string; error: string }[];
}

/** Per-instance error lines kept per group (the report's instance table shows them). */
export const ERRORS_PER_GROUP = 200;
/** Per-instance error lines kept in all (bounds memory and summary.json whatever the number of groups: ~250 bytes each). */
export const MAX_INSTANCE_ERRORS = 5_000;
/** Ids a cause's `resourceIds` holds at most before it is cut (the full list is then an object of its own). */
export const SAMPLE_IDS = 1_000;
/** Ids the causes' `resourceIds` hold in all at most (~30 bytes each in summary.json). */
export const SUMMARY_IDS = 20_000;
/** Longest per-instance error line kept (characters). */
const INSTANCE_ERROR_CHARS = 200;

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

/**
 * A cause while records stream in: the grouper's provisional id (groups may merge until the end, so the key and the
 * title are only read in `finish`), ids with the index of their first record.
 */
interface GroupState {
  status: string;
  errorCode: string;
  exitCode: number | null;
  /** The grouper's provisional id ({@link CauseGrouper}); its final key is read in `finish`. */
  cause: number;
  count: number;
  /** Index of the group's first record. */
  first: number;
  /** Its text and the line of each candidate error line in it (see `FailureText.example`). */
  example: { id: string; text: string; lines: number[] };
  /** Its list in the id spool (`failure-lists.ts`): the ids of its records wait there, not here. */
  list: number;
  /** Resource id → [index of its first record, its candidate error lines], for the first resources (see {@link ERRORS_PER_GROUP}). */
  errors: Map<string, [number, string[]]>;
}

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
  /** Failed resources, each once, in archive order: all, or the first {@link SAMPLE_IDS} when `retryCount` is more. */
  retryIds: string[];
  /** Failed resources, each once. */
  retryCount: number;
  /** The object holding every failed resource, one per line, when the output wrote it (key relative to the archive root). */
  retryKey?: string;
  /** The CommandIds seen (ECS), at most 2: one means the retry can reuse it. */
  commandIds: string[];
  /**
   * The ids of the lists above (`resourceIds`, `retryIds`, `truncated.ids`) as shown (`displayText`), masked once as
   * their records came: `buildSummary` looks them up instead of masking them again.
   */
  shownIds?: ReadonlyMap<string, string>;
  /**
   * Records whose output the API cut: how many, the bytes dropped, the resources (each once, in order; the first
   * {@link SAMPLE_IDS} when cut, then with their number and the object holding all of them).
   */
  truncated: { count: number; bytesDropped: number; ids: string[]; resources?: number; idsKey?: string };
  /**
   * p50/p90/max of the records' durations (ECS StartTime → FinishedTime) or of the failed child executions' (OOS,
   * StartDate → EndDate, each ExecutionId once); `null` when none is known.
   */
  durations: DurationStats | null;
  /** The records' finishes (and failures) per time bucket; `null` when no finished record has a time. */
  timeline: Timeline | null;
}

/** Options of {@link createAggregator}. */
export interface AggregatorOptions {
  source: Source;
  /**
   * OOS: the failed child executions (children.ts), complete; `'later'` when they are still being listed: failed
   * records then wait (in order, on disk) until {@link Aggregator.setChildren} gives them. The aggregator owns the
   * spool from then on: it closes its files when it is finished or discarded.
   */
  children?: ChildSpool | 'later';
  /** Distinct causes kept as their own group; later new causes are counted in one `other` group. @default 5000 */
  maxGroups?: number;
  /** Size of each group's example text in bytes. @default 2048 */
  exampleBytes?: number;
}

/**
 * Where the full id lists go at the end of an aggregation (lib/summary/lists.ts writes them to the archive). The
 * aggregation hands each list out in archive order, every id once where the list says so, each with its form as
 * shown (`shown`: `displayText(id)`, masked once as its record came); a call may return a promise, which the
 * aggregation waits for before the next (backpressure).
 */
export interface ListOutput {
  /** The causes, final and sorted (their `resourceIds` fill as the ids come), before any id. */
  start(groups: readonly FailureGroup[]): void;
  /** Every failed record: its id and the index of its cause in `groups`. */
  failure(id: string, cause: number, shown: string): Promise<void> | undefined;
  /** Each failed resource once, at its first failure. */
  retry(id: string, shown: string): Promise<void> | undefined;
  /** Each resource of a cause once. */
  causeId(cause: number, id: string, shown: string): Promise<void> | undefined;
  /** Each resource with a truncated output once. */
  truncated(id: string, shown: string): Promise<void> | undefined;
  /**
   * Every resource of a cause whose `resourceIds` is cut, in order, as shown; resolves to the key of the object
   * holding them.
   */
  causeList(cause: number, shownIds: Iterable<string>): Promise<string>;
  /** After the last id: resolves to the keys of the retry list and, when `truncatedCut`, of the truncated list. */
  end(truncatedCut: boolean): Promise<{ retry: string; truncated?: string }>;
  /** Drops whatever is unfinished (after a failure). */
  discard(): Promise<void>;
}

/**
 * How many ids each cause's `resourceIds` holds: {@link SAMPLE_IDS} each while the causes' records add up to at most
 * {@link SUMMARY_IDS}; else the same cap for all, the largest that keeps the total within it (a cause with fewer
 * records keeps all of them). `counts` are the causes' record counts, largest first.
 * @example sampleBudgets([5000, 10]) // [1000, 1000]
 */
export function sampleBudgets(counts: readonly number[], perCause = SAMPLE_IDS, total = SUMMARY_IDS): number[] {
  const sum = (cap: number) => counts.reduce((a, c) => a + Math.min(c, cap), 0);
  let cap = perCause;
  if (sum(cap) > total) {
    let [lo, hi] = [0, perCause];
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (sum(mid) <= total) lo = mid;
      else hi = mid - 1;
    }
    cap = lo;
  }
  return counts.map(() => cap);
}

/** The group that collects causes beyond `maxGroups`. */
export const OVERFLOW_GROUP_KEY = 'other';

function epochSeconds(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * {@link epochSeconds} that remembers its last text: records come in API order, and the many that end in the same
 * second carry the same timestamp, so most are not parsed again. One per field.
 */
function lastEpochSeconds(): (v: unknown) => number | undefined {
  let lastText = '';
  let lastValue: number | undefined;
  return (v) => {
    if (typeof v !== 'string' || v === '') return undefined;
    if (v !== lastText) {
      lastText = v;
      lastValue = epochSeconds(v);
    }
    return lastValue;
  };
}

/** The streaming aggregator: feed records with `add`, then call `finish` once. */
/**
 * A record's complete output, when the archive holds it (ECS: Cloud Assistant's OSS delivery of an output the API cut,
 * lib/collect/outputs.ts). The causes are then mined from it instead of the record's cut `Output`; the record is
 * counted as it is. `text` may be the output's end only (the reader bounds what it reads).
 */
export interface FullOutput {
  text: string;
}

export interface Aggregator {
  /** Adds one primary record; `full`: its complete output, read by the caller before (see {@link FullOutput}). */
  add(record: Record<string, unknown>, full?: FullOutput): void;
  /**
   * Created with `children: 'later'`: the failed children, all of them (completed here if they are not yet). The
   * failed records that waited for them are aggregated in their order by {@link catchUp} and {@link finish}, not
   * here (a long run of work in one go), and later failures wait behind them until none is left. The result is the
   * one of an aggregator given them from the start: a failure's part of the aggregation does not depend on the
   * records that are not failures, nor on when it is aggregated.
   */
  setChildren(children: ChildSpool): void;
  /**
   * After {@link setChildren}: aggregates failed records that still wait (those held for the children, then those
   * that came meanwhile, in their order), one at a time while `more()` says so (at least one); true when none waits.
   * A caller spreads that work with it (collect: a slice after each page, while the next page is on the wire);
   * each later failure moves it on by two as well, and {@link finish} aggregates what is left.
   */
  catchUp(more: () => boolean): boolean;
  /**
   * Characters of the failed records waiting for {@link setChildren}: they wait in a temporary file, not in memory
   * (`RecordSpool`), so this is what waiting costs on disk.
   */
  readonly waitingChars: number;
  /**
   * The aggregation, once: the causes are settled, then the id lists kept on disk are read back in archive order
   * into the counts and samples and, when `output` is given, into their objects (see {@link ListOutput}).
   */
  finish(output?: ListOutput): Promise<Aggregation>;
  /** Drops an aggregation that will not be finished (its id lists' temporary files). */
  discard(): void;
}

/**
 * Creates an aggregator for one archive's primary records.
 * @example
 *   const agg = createAggregator({ source: 'ecs' });
 *   for await (const r of readAllParts(store, manifest)) agg.add(r);
 *   const result = await agg.finish();
 */
export function createAggregator(options: AggregatorOptions): Aggregator {
  const { source } = options;
  const maxGroups = options.maxGroups ?? 5000;
  const exampleBytes = options.exampleBytes ?? 2048;
  let children: ChildSpool | undefined = options.children === 'later' ? undefined : options.children;
  children?.complete();
  // Failed records waiting for the children's index, with their index in the archive: on disk (failure-lists.ts).
  let waiting: RecordSpool | undefined = options.children === 'later' ? new RecordSpool() : undefined;
  // Once the children are in: the waiting records being aggregated (catchUp), before those in `waiting` by then.
  let backlog: Generator<[number, Record<string, unknown>]> | undefined;
  // The spool `backlog` reads: a generator not yet started runs no `finally` when returned, so its file is closed here.
  let draining: RecordSpool | undefined;
  const byStatus: Record<string, number> = Object.create(null) as Record<string, number>;
  const counts = { total: 0, succeeded: 0, failed: 0, unfinished: 0, skipped: 0 };
  // The causes (lib/causes/failure.ts): what a failure's texts say, and the provisional group of each.
  const reader = createFailureReader();
  const grouper = new CauseGrouper({ maxGroups });
  const groups = new Map<number, GroupState>();
  const commandIds = new Set<string>();
  const truncated = { count: 0, bytesDropped: 0 };
  // The ids of failed and truncated records wait on disk until the causes are final (failure-lists.ts).
  const ids = new IdSpool();
  let lists = 0;
  // Per record, on disk once past a chunk (numbers.ts): ECS durations; every finish time and whether it failed.
  const durations = new Float64Spool(1);
  const finishes = new Float64Spool(2);
  const finishSpan = { min: Infinity, max: -Infinity };
  let overflow: GroupState | undefined;
  let instanceErrors = 0;
  // The id as the lists show it, masked as its record comes (once a record: a truncated failure is in two lists), not
  // at the end, where each list's ids were masked on the summary's path (and the samples once more in summary.json).
  let lastId: string | undefined;
  let lastShown = '';
  const shownId = (id: string): string => {
    if (id !== lastId) {
      lastShown = displayText(id);
      lastId = id;
    }
    return lastShown;
  };

  const [startedAt, finishedAt, stoppedAt, executedAt] = [lastEpochSeconds(), lastEpochSeconds(), lastEpochSeconds(), lastEpochSeconds()];
  const view = (r: Record<string, unknown>): RecordView => {
    if (source === 'ecs') {
      const start = startedAt(r.StartTime);
      const end = finishedAt(r.FinishedTime) ?? stoppedAt(r.StopTime);
      return {
        id: str(r.InstanceId) || '(unknown)',
        status: str(r.InvocationStatus),
        errorCode: str(r.ErrorCode),
        // A task that never started (Aborted, Invalid, Cancelled: no StartTime) has no exit code, whatever the API says.
        exitCode: start === undefined || ECS_NEVER_RAN.has(str(r.InvocationStatus)) ? null : intOrNull(r.ExitCode),
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
      finishedAt: executedAt(r.ExecutionTime),
      duration: undefined,
      dropped: 0,
      commandId: undefined,
    };
  };

  /** A failed record's texts, read by the causes' reader (ECS: `ErrorInfo`, `Output`; OOS: the linked child's `StatusMessage`, `Outputs`). */
  const failureText = (r: Record<string, unknown>, v: RecordView, full?: FullOutput): FailureText => {
    // ECS: the complete output when the archive holds it (lib/collect/outputs.ts; its end is whole), else the API's cut one.
    if (source === 'ecs') return full ? reader.ecs(str(r.ErrorInfo), full.text, false) : reader.ecs(str(r.ErrorInfo), str(r.Output), v.dropped > 0);
    const text = reader.oos(children?.statusMessage(v.id), r.Outputs);
    if (text.errorCode) v.errorCode = text.errorCode;
    v.exitCode = text.exitCode ?? null;
    return text;
  };

  const catchUp = (more: () => boolean): boolean => {
    while (backlog) {
      const next = backlog.next();
      if (next.done) {
        // The failures that came meanwhile are next; once none waits, a failure is aggregated as it comes.
        const held = waiting;
        draining = held && held.chars > 0 ? held : undefined;
        backlog = draining?.drain();
        waiting = backlog ? new RecordSpool() : undefined;
        continue;
      }
      // Its view is made again: it depends on the record alone.
      const [at, record] = next.value;
      addFailure(record, view(record), at);
      if (!more()) break;
    }
    return backlog === undefined;
  };

  return {
    add(record, full) {
      const v = view(record);
      const index = counts.total;
      counts.total += 1;
      byStatus[v.status] = (byStatus[v.status] ?? 0) + 1;
      const cls = classifyStatus(source, v.status);
      counts[cls] += 1;
      if (v.duration !== undefined) durations.push(v.duration);
      if (v.finishedAt !== undefined && cls !== 'unfinished') {
        finishes.push(v.finishedAt, cls === 'failed' ? 1 : 0);
        if (v.finishedAt < finishSpan.min) finishSpan.min = v.finishedAt;
        if (v.finishedAt > finishSpan.max) finishSpan.max = v.finishedAt;
      }
      if (v.dropped > 0) {
        truncated.count += 1;
        truncated.bytesDropped += v.dropped;
        ids.add(index, TRUNCATED_LIST, v.id, shownId(v.id));
      }
      if (v.commandId && commandIds.size < 2) commandIds.add(v.commandId);
      if (cls !== 'failed') return;
      if (waiting) {
        waiting.push(index, record);
        // Catching up: each later failure moves the backlog on by two, so it shrinks as failures come.
        if (backlog) {
          let n = 0;
          catchUp(() => ++n < 2);
        }
        return;
      }
      addFailure(record, v, index, full);
    },

    setChildren(spool) {
      spool.complete();
      children = spool;
      if (!waiting || backlog) return;
      draining = waiting;
      backlog = waiting.drain();
      waiting = new RecordSpool();
    },

    catchUp,

    get waitingChars() {
      return waiting?.chars ?? 0;
    },

    async finish(output) {
      if (children) catchUp(() => true);
      if (waiting) throw new Error('the aggregation waits for the failed children (setChildren) and cannot finish');
      try {
        return await finishAggregation(output);
      } finally {
        dropSpools();
      }
    },

    discard() {
      ids.discard();
      waiting?.discard();
      waiting = undefined;
      backlog?.return(undefined);
      backlog = undefined;
      draining?.discard();
      draining = undefined;
      dropSpools();
    },
  };

  /** Closes the temporary files of the numbers and of the failed children (the id spool closes its own). */
  function dropSpools(): void {
    durations.discard();
    finishes.discard();
    children?.discard();
  }

  /** A failed record's part: its cause (template mining), its group, the retry list. `index`: its place in the archive. */
  function addFailure(record: Record<string, unknown>, v: RecordView, index: number, full?: FullOutput): void {
    const text = failureText(record, v, full);
    if (NEVER_RAN_ERROR_CODES.has(v.errorCode)) v.exitCode = null;
    const cause = grouper.add(v.status, v.errorCode, v.exitCode, text);
    let group = cause === OVERFLOW ? undefined : groups.get(cause);
    if (cause === OVERFLOW) {
      overflow ??= { status: '(various)', errorCode: '', exitCode: null, cause: OVERFLOW, count: 0, first: index, example: { id: v.id, ...text.example(exampleBytes) }, list: lists++, errors: new Map() };
      group = overflow;
    }
    if (!group) {
      group = { status: v.status, errorCode: v.errorCode, exitCode: v.exitCode, cause, count: 0, first: index, example: { id: v.id, ...text.example(exampleBytes) }, list: lists++, errors: new Map() };
      groups.set(cause, group);
    }
    group.count += 1;
    ids.add(index, group.list, v.id, shownId(v.id));
    if (group.errors.size < ERRORS_PER_GROUP && instanceErrors < MAX_INSTANCE_ERRORS && !group.errors.has(v.id)) {
      group.errors.set(v.id, [index, text.candidates.map((c) => instanceErrorLine(c.raw))]);
      instanceErrors += 1;
    }
  }

  /**
   * The end, in named steps: the causes settle ({@link settleCauses}), their id lists are read back in archive order
   * ({@link readLists}), and the rest of the aggregation is put together.
   */
  async function finishAggregation(output: ListOutput | undefined): Promise<Aggregation> {
    const failures = counts.failed;
    const { list, finalOf } = settleCauses(failures);
    const read = await readLists(list, finalOf, output);
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
      overflowCauses: grouper.overflowCauses,
      ...read,
      commandIds: [...commandIds],
      durations: source === 'ecs' ? spooledDurationStats(durations, 'records') : (children?.durations ?? null),
      timeline: spooledTimeline(finishes, finishSpan.min, finishSpan.max),
    };
  }

  /**
   * The causes, final and sorted (largest first; ties by key), without their ids yet; `finalOf` maps each group's
   * id list to its cause's index. Provisional groups may have merged since a record was added: causes whose final
   * keys are equal merge.
   */
  function settleCauses(failures: number): { list: FailureGroup[]; finalOf: (list: number) => number } {
    const causeOf = grouper.finish();
    const causes = new Map<string, { key: string; signature: string; title: string; state: GroupState; lists: number[] }>();
    for (const state of groups.values()) {
      const { key, signature, title, line } = causeOf(state.cause);
      // The group's error line is known now: its example marks it, its instances show theirs.
      state.example.lines = [state.example.lines[line] ?? -1];
      for (const e of state.errors.values()) e[1] = [e[1][line] ?? e[1][0] ?? ''];
      const cause = causes.get(key);
      if (!cause) {
        causes.set(key, { key, signature, title, state, lists: [state.list] });
        continue;
      }
      const into = cause.state;
      const earlier = state.first < into.first;
      const merged: GroupState = { ...into, count: into.count + state.count, first: Math.min(into.first, state.first), example: earlier ? state.example : into.example };
      for (const [id, e] of state.errors) if ((merged.errors.get(id)?.[0] ?? Infinity) > e[0]) merged.errors.set(id, e);
      cause.state = merged;
      cause.lists.push(state.list);
    }
    const made = [...causes.values()].map(({ key, signature, title, state, lists: of }) => ({ group: toGroup(key, signature, title, state, failures), lists: of }));
    if (overflow) {
      const label = '(causes beyond the group limit)';
      made.push({ group: toGroup(OVERFLOW_GROUP_KEY, label, label, overflow, failures), lists: [overflow.list] });
    }
    // Keys are hex digits (and `other`), whose code-unit order is their collation order: no localeCompare, whose first
    // call builds ICU's collator tables (~6 ms of each summary).
    made.sort((a, b) => b.group.count - a.group.count || (a.group.key < b.group.key ? -1 : a.group.key > b.group.key ? 1 : 0));
    const finalIndex = new Int32Array(lists).fill(-1);
    made.forEach(({ lists: of }, i) => {
      for (const l of of) finalIndex[l] = i;
    });
    return { list: made.map((m) => m.group), finalOf: (l) => finalIndex[l] ?? -1 };
  }

  /**
   * Reads the id lists back from the spool in archive order: each cause's resources (its sample into
   * `resourceIds`; when cut, all of them to an object), the retry list, the truncated list; with `output`, every
   * list also goes to its object.
   */
  async function readLists(
    list: FailureGroup[],
    finalOf: (l: number) => number,
    output: ListOutput | undefined,
  ): Promise<Pick<Aggregation, 'retryIds' | 'retryCount' | 'retryKey' | 'truncated' | 'shownIds'>> {
    const budgets = sampleBudgets(list.map((g) => g.count));
    const resources = new Array<number>(list.length).fill(0);
    const retryIds: string[] = [];
    const truncatedIds: string[] = [];
    // The samples' ids as shown (bounded as the samples are: SUMMARY_IDS and two SAMPLE_IDS at most).
    const shownIds = new Map<string, string>();
    output?.start(list);
    try {
      const counted = await mergeLists(
        ids,
        list.length,
        finalOf,
        {
          failure: (id, cause, shown) => output?.failure(id, cause, shown),
          retry: (id, shown) => {
            if (retryIds.length < SAMPLE_IDS) {
              retryIds.push(id);
              shownIds.set(id, shown);
            }
            return output?.retry(id, shown);
          },
          causeId: (cause, id, nth, shown) => {
            resources[cause] = nth + 1;
            const g = list[cause];
            if (g && nth < (budgets[cause] ?? 0)) {
              g.resourceIds.push(id);
              shownIds.set(id, shown);
            }
            return output?.causeId(cause, id, shown);
          },
          truncated: (id, nth, shown) => {
            if (nth < SAMPLE_IDS) {
              truncatedIds.push(id);
              shownIds.set(id, shown);
            }
            return output?.truncated(id, shown);
          },
        },
        (cause) => output !== undefined && (list[cause]?.count ?? 0) > (budgets[cause] ?? 0),
        async (cause, all) => {
          const g = list[cause];
          if (!g || !output || (resources[cause] ?? 0) <= g.resourceIds.length) return;
          g.resourceIdsKey = await output.causeList(cause, all);
        },
      );
      list.forEach((g, i) => {
        if ((resources[i] ?? 0) > g.resourceIds.length) g.resourceCount = resources[i];
      });
      const cut = counted.truncated > truncatedIds.length;
      const keys = output ? await output.end(cut) : undefined;
      const truncatedOut: Aggregation['truncated'] = { count: truncated.count, bytesDropped: truncated.bytesDropped, ids: truncatedIds };
      if (cut) {
        truncatedOut.resources = counted.truncated;
        if (keys?.truncated) truncatedOut.idsKey = keys.truncated;
      }
      const read: Pick<Aggregation, 'retryIds' | 'retryCount' | 'retryKey' | 'truncated' | 'shownIds'> = { retryIds, retryCount: counted.retry, truncated: truncatedOut, shownIds };
      if (keys && counted.retry > retryIds.length) read.retryKey = keys.retry;
      return read;
    } catch (err) {
      await output?.discard();
      throw err;
    }
  }
}

function toGroup(key: string, signature: string, title: string, state: GroupState, failures: number): FailureGroup {
  return {
    key,
    count: state.count,
    share: failures === 0 ? 0 : Math.round((state.count / failures) * 10_000) / 10_000,
    status: state.status,
    errorCode: state.errorCode,
    exitCode: state.exitCode,
    signature: clip(signature),
    title: clipWords(title, 200),
    example: { id: state.example.id, text: state.example.text, line: (state.example.lines[0] ?? -1) >= 0 ? (state.example.lines[0] ?? null) : null },
    resourceIds: [],
    instanceErrors: [...state.errors]
      .sort((a, b) => a[1][0] - b[1][0])
      .slice(0, ERRORS_PER_GROUP)
      .map(([id, [, errors]]) => ({ id, error: errors[0] ?? '' })),
  };
}

/**
 * One instance's error line as shown: one line, at most 200 characters. Its secrets are masked already: the reader
 * takes every text from the output it masked whole (lib/causes/failure.ts).
 */
function instanceErrorLine(text: string): string {
  return clipWords(cleanLine(text).replace(/\s+/g, ' ').trim(), INSTANCE_ERROR_CHARS);
}
