/**
 * The digest's classifications, from the history (history.ts). Definitions (docs/warehouse.md "The digest"):
 *
 * Causes, after Sentry's issue states (new, regressed, escalating, resolved by inactivity), over the runs of the
 * commands a cause appeared in, in start order:
 *   - gone: absent from the last {@link DigestOptions.goneAfterRuns} runs (Sentry resolves an issue not seen for a
 *     while; here "a while" is counted in runs of the same command, since commands run at their own pace);
 *   - new: first seen in the window (nothing of it in the history before);
 *   - regressed: seen in the window after at least one run without it, having been seen before that run;
 *   - recurring: in at least 2 of the last {@link DigestOptions.recentRuns} runs;
 *   - seen: none of these (seen once lately, or its commands did not run in the window).
 *   The first that holds, in that order. The trend (escalating in Sentry's words) compares the instance-runs it cost
 *   in the window with the previous window of the same length.
 * Instances, after flaky-test detectors ("passed and failed on the same code within a window"), per command:
 *   - broken: failed in every one of at least {@link DigestOptions.brokenAfterRuns} runs in the window;
 *   - flaky: succeeded in some and failed in other runs of the window (or both within one run).
 */
import type { History, InstanceHistory } from './history';

export interface DigestOptions {
  /** Window start and end (epoch ms); the previous window is the same length before it. */
  windowFrom: number;
  windowTo: number;
  /** @default 5 */
  recentRuns?: number;
  /** @default 2 */
  goneAfterRuns?: number;
  /** @default 3 */
  brokenAfterRuns?: number;
  /** Entries kept per list (causes, broken, flaky). @default 1000 */
  maxItems?: number;
}

export type CauseState = 'new' | 'regressed' | 'recurring' | 'gone' | 'seen';

export interface DigestCause {
  key: string;
  title: string;
  status: string;
  errorCode: string | null;
  exitCode: number | null;
  state: CauseState;
  commands: string[];
  firstSeen: string;
  lastSeen: string;
  /** Runs of the window it appeared in, and the instance-runs it cost there. */
  runs: number;
  instances: number;
  previousInstances: number;
  trend: 'new' | 'rising' | 'falling' | 'steady';
  /** Instance-runs per day of the window (oldest first). */
  perDay: number[];
  /** The run it came back in (regressed) or the last run it was seen in. */
  runId: string;
}

/** A broken or flaky instance in the digest: its history in the window, without the time of its latest run. */
export type DigestInstance = Omit<InstanceHistory, 'lastRunAt'>;

export interface DigestCommand {
  command: string;
  runs: number;
  /** Per day of the window: records finished (succeeded or failed) and failed, failure rate (4 decimals). */
  perDay: { date: string; total: number; failed: number; rate: number | null }[];
  rate: number | null;
  previousRate: number | null;
  /** Rate change since the previous window, in percentage points (2 decimals). */
  change: number | null;
}

export interface Classification {
  causes: DigestCause[];
  causeCounts: Record<CauseState, number>;
  broken: DigestInstance[];
  flaky: DigestInstance[];
  brokenCount: number;
  flakyCount: number;
  commands: DigestCommand[];
  runs: number;
  records: number;
  failed: number;
}

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Classifies the history (see the module comment). */
export function classify(history: History, options: DigestOptions): Classification {
  const { windowFrom, windowTo } = options;
  const previousFrom = windowFrom - (windowTo - windowFrom);
  const recentRuns = options.recentRuns ?? 5;
  const goneAfterRuns = options.goneAfterRuns ?? 2;
  const brokenAfterRuns = options.brokenAfterRuns ?? 3;
  const maxItems = options.maxItems ?? 1000;
  const days = Math.max(1, Math.ceil((windowTo - windowFrom) / DAY));
  const inWindow = (ms: number) => ms >= windowFrom && ms < windowTo;

  // The runs of each command, in start order (indices into history.runs).
  const order = history.runs.map((_, i) => i).sort((a, b) => (history.runs[a]?.startedAt ?? 0) - (history.runs[b]?.startedAt ?? 0));
  const byCommand = new Map<string, number[]>();
  for (const i of order) {
    const run = history.runs[i];
    if (!run) continue;
    let list = byCommand.get(run.command);
    if (!list) byCommand.set(run.command, (list = []));
    list.push(i);
  }

  const causes: DigestCause[] = [];
  const causeCounts: Record<CauseState, number> = { new: 0, regressed: 0, recurring: 0, gone: 0, seen: 0 };
  for (const c of history.causes.values()) {
    const commands = [...new Set([...c.runs.keys()].map((i) => history.runs[i]?.command ?? ''))].sort();
    const sequence = commands.length === 1 ? (byCommand.get(commands[0] ?? '') ?? []) : commands.flatMap((cmd) => byCommand.get(cmd) ?? []).sort((a, b) => (history.runs[a]?.startedAt ?? 0) - (history.runs[b]?.startedAt ?? 0));
    const present = sequence.map((i) => c.runs.has(i));
    const startOf = (pos: number) => history.runs[sequence[pos] ?? -1]?.startedAt ?? 0;
    const first = present.indexOf(true);
    const last = present.lastIndexOf(true);
    if (first < 0) continue;
    // The latest run in the window that it came back in after a run without it.
    let comeback = -1;
    for (let pos = first + 1; pos < present.length; pos++) if (present[pos] && !present[pos - 1] && inWindow(startOf(pos))) comeback = pos;
    const recent = present.slice(-recentRuns).filter(Boolean).length;
    const absentLately = present.length - 1 - last >= goneAfterRuns;
    const state: CauseState = absentLately ? 'gone' : inWindow(startOf(first)) ? 'new' : comeback >= 0 ? 'regressed' : recent >= 2 ? 'recurring' : 'seen';
    let instances = 0;
    let previousInstances = 0;
    let runs = 0;
    const perDay = new Array<number>(days).fill(0);
    for (const [i, n] of c.runs) {
      const at = history.runs[i]?.startedAt ?? 0;
      if (inWindow(at)) {
        instances += n;
        runs += 1;
        const d = Math.floor((at - windowFrom) / DAY);
        perDay[d] = (perDay[d] ?? 0) + n;
      } else if (at >= previousFrom && at < windowFrom) previousInstances += n;
    }
    const trend = state === 'new' || (previousInstances === 0 && instances > 0) ? 'new' : instances >= previousInstances * 1.5 && instances - previousInstances >= 3 ? 'rising' : instances <= previousInstances / 1.5 ? 'falling' : 'steady';
    causeCounts[state] += 1;
    causes.push({
      key: c.key,
      title: c.title,
      status: c.status,
      errorCode: c.errorCode,
      exitCode: c.exitCode,
      state,
      commands,
      firstSeen: iso(startOf(first)),
      lastSeen: iso(startOf(last)),
      runs,
      instances,
      previousInstances,
      trend,
      perDay,
      runId: history.runs[sequence[comeback >= 0 ? comeback : last] ?? -1]?.id ?? '',
    });
  }
  const STATE_ORDER: Record<CauseState, number> = { new: 0, regressed: 1, recurring: 2, seen: 3, gone: 4 };
  causes.sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.instances - a.instances || b.lastSeen.localeCompare(a.lastSeen) || a.key.localeCompare(b.key));

  const broken: DigestInstance[] = [];
  const flaky: DigestInstance[] = [];
  let brokenCount = 0;
  let flakyCount = 0;
  for (const h of history.instances.values()) {
    const item = { command: h.command, resourceId: h.resourceId, runs: h.runs, failedRuns: h.failedRuns, succeededRuns: h.succeededRuns, causes: h.causes, lastFailed: h.lastFailed };
    if (h.runs >= brokenAfterRuns && h.failedRuns === h.runs && h.succeededRuns === 0) {
      brokenCount += 1;
      broken.push(item);
    } else if (h.failedRuns > 0 && h.succeededRuns > 0) {
      flakyCount += 1;
      flaky.push(item);
    }
  }
  const byInstance = (a: DigestInstance, b: DigestInstance) => b.failedRuns - a.failedRuns || a.command.localeCompare(b.command) || a.resourceId.localeCompare(b.resourceId);
  broken.sort(byInstance);
  flaky.sort(byInstance);

  const commands: DigestCommand[] = [];
  let runs = 0;
  let records = 0;
  let failed = 0;
  for (const [command, list] of byCommand) {
    const perDay = Array.from({ length: days }, (_, d) => ({ date: iso(windowFrom + d * DAY).slice(0, 10), total: 0, failed: 0, rate: null as number | null }));
    let now = { runs: 0, total: 0, failed: 0 };
    const before = { total: 0, failed: 0 };
    for (const i of list) {
      const run = history.runs[i];
      if (!run) continue;
      if (inWindow(run.startedAt)) {
        const day = perDay[Math.floor((run.startedAt - windowFrom) / DAY)];
        if (day) {
          day.total += run.records;
          day.failed += run.failed;
        }
        now = { runs: now.runs + 1, total: now.total + run.records, failed: now.failed + run.failed };
      } else if (run.startedAt >= previousFrom) {
        before.total += run.records;
        before.failed += run.failed;
      }
    }
    if (now.runs === 0 && before.total === 0) continue;
    for (const d of perDay) d.rate = d.total ? round(d.failed / d.total, 4) : null;
    const rate = now.total ? round(now.failed / now.total, 4) : null;
    const previousRate = before.total ? round(before.failed / before.total, 4) : null;
    commands.push({ command, runs: now.runs, perDay, rate, previousRate, change: rate !== null && previousRate !== null ? round((rate - previousRate) * 100, 2) : null });
    runs += now.runs;
    records += now.total;
    failed += now.failed;
  }
  commands.sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || a.command.localeCompare(b.command));

  return { causes: causes.slice(0, maxItems), causeCounts, broken: broken.slice(0, maxItems), flaky: flaky.slice(0, maxItems), brokenCount, flakyCount, commands, runs, records, failed };
}
