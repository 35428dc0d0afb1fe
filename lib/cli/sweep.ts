/**
 * `execution-archive sweep`: the sweep function's listing (lib/sweep `runSweep`) over a window (`--since`, `--until`),
 * listing what finished and has no complete archive; with `--collect` those are archived right here, with the
 * collect command's code, instead of being dispatched to the collect function.
 */
import { parseCollectRequest, type CollectRequest } from '../collect/request';
import type { AsyncInvoker } from '../fanout';
import { isSource, type Source } from '../ids';
import { runSweep, sweepDeps, SWEEP_LIMITS, type SweepResult } from '../sweep';
import { collectMany, concurrencyOf, exitCodeOf, type CollectOutcome } from './collect';
import { EXIT, UsageError, println, type CliIo } from './io';
import { createProgress, progressMode } from './progress';
import { cliRuntime, parseWhen, regionOf, type CommonOptions } from './runtime';

export interface SweepCommandOptions extends CommonOptions {
  source?: string;
  since?: string;
  until?: string;
  collect?: boolean;
  concurrency?: string;
  retentionDays?: string;
  warnDays?: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Stands in for FC: what the sweep would dispatch is kept, in order, to be listed or collected here. */
function recordingInvoker(): AsyncInvoker & { requests: CollectRequest[] } {
  const requests: CollectRequest[] = [];
  return {
    requests,
    async invokeAsync(_functionName, payload) {
      // Here, not an async continuation chain: no deadline, the walk runs to its end.
      requests.push({ ...parseCollectRequest(payload), async: false });
      return { requestId: `local-${requests.length}` };
    },
  };
}

function number(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${option} must be a non-negative number, not ${JSON.stringify(value)}`);
  return n;
}

export async function sweepCommand(opts: SweepCommandOptions, io: CliIo): Promise<number> {
  const now = Date.now();
  const sinceMs = parseWhen(opts.since ?? '72h', '--since', now);
  const untilMs = opts.until === undefined ? undefined : parseWhen(opts.until, '--until', now);
  if (untilMs !== undefined && untilMs <= sinceMs) throw new UsageError('--until must be later than --since');
  const lookbackHours = (now - sinceMs) / 3_600_000;
  const { min, max } = SWEEP_LIMITS.lookbackHours;
  if (lookbackHours < min || lookbackHours > max) throw new UsageError(`--since reaches ${lookbackHours.toFixed(2)} h back; the sweep lists ${min}–${max} h (the APIs keep results ~30 days)`);
  if (opts.source !== undefined && !isSource(opts.source)) throw new UsageError(`--source must be oos or ecs, not ${JSON.stringify(opts.source)}`);
  const concurrency = concurrencyOf(opts.concurrency, 4);

  const rt = cliRuntime(io, opts);
  const regionId = regionOf(opts, rt);
  const invoker = recordingInvoker();
  const payload: Record<string, unknown> = {
    regions: [regionId],
    sources: opts.source ? [opts.source as Source] : ['oos', 'ecs'],
    lookbackHours: Math.round(lookbackHours * 1000) / 1000,
    concurrency: 16,
  };
  const retentionDays = number(opts.retentionDays, '--retention-days');
  const warnDays = number(opts.warnDays, '--warn-days');
  if (retentionDays !== undefined) payload.retentionDays = retentionDays;
  if (warnDays !== undefined) payload.warnDays = warnDays;
  const result: SweepResult = await runSweep(payload, { ...sweepDeps(rt, invoker), now: () => now, ...(untilMs !== undefined ? { untilMs } : {}) });
  const notArchived = invoker.requests.map((r) => ({ source: r.source, regionId: r.regionId, id: r.id }));

  let outcomes: CollectOutcome[] = [];
  if (opts.collect && invoker.requests.length > 0) {
    const display = createProgress(io, progressMode(io, opts.quiet || opts.json));
    display.message(`collecting ${fmt(invoker.requests.length)} not archived, ${concurrency} at once`);
    try {
      outcomes = await collectMany(invoker.requests, rt, io, display, concurrency);
    } finally {
      display.stop();
    }
  }
  const failedListing = result.failed.length > 0;
  const code = failedListing ? EXIT.failure : opts.collect && outcomes.length > 0 ? exitCodeOf(outcomes) : EXIT.ok;

  const { dispatched: _dispatched, duplicates: _duplicates, dryRun: _dryRun, wouldDispatch: _would, ...counts } = result;
  if (opts.json) {
    println(io.stdout, JSON.stringify({ ...counts, notArchived, ...(opts.collect ? { collected: outcomes.map((o) => (o.ok ? o.result : o)) } : {}) }, null, 2));
    return code;
  }
  println(io.stdout, `window ${result.window.from} → ${result.window.to}, ${result.regions.join(', ')}, ${result.sources.join(' + ')}`);
  println(io.stdout, `listed ${fmt(result.listed)}: ${fmt(result.running)} still running, ${fmt(result.alreadyArchived)} archived, ${fmt(result.claimed)} being archived by an event, ${fmt(notArchived.length)} not archived`);
  if (!opts.collect) for (const n of notArchived) println(io.stdout, `  ${n.source} ${n.id}`);
  for (const n of result.nearHorizon) println(io.stdout, `  warning: ${n.source} ${n.id} is ${n.ageDays} days old and not archived; the API drops it after ~${retentionDays ?? SWEEP_LIMITS.retentionDays.default} days`);
  for (const f of result.failed) println(io.stdout, `  failed to ${f.stage} ${f.source}${f.id ? ` ${f.id}` : ''} in ${f.regionId}: ${f.error}`);
  if (opts.collect) {
    const ok = outcomes.filter((o) => o.ok && o.result.status !== 'checkpointed').length;
    println(io.stdout, `collected ${fmt(ok)} of ${fmt(outcomes.length)}${ok < outcomes.length ? '; run the same command again to continue' : ''}`);
    for (const o of outcomes) if (!o.ok && 'error' in o) println(io.stdout, `  failed ${o.source} ${o.id}: ${o.error.code}: ${o.error.message}`);
  } else if (notArchived.length > 0) println(io.stdout, 'add --collect to archive them');
  return code;
}
