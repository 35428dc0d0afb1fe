/**
 * The digest function's side: its dependencies from a handler runtime, and the answer to a timer or direct
 * invocation (the headline, the counts and where the files are).
 */
import type { Runtime } from '../runtime';
import { compactWarehouse, type CompactResult } from '../warehouse/compact';
import { parseDigestPayload, runDigest, type DigestDeps } from './index';

/** The digest's dependencies of a handler runtime: the archive store, the logger, the notification webhook. */
export function digestDeps(rt: Pick<Runtime, 'store' | 'logger' | 'config'> & Partial<Pick<Runtime, 'deadline'>>): DigestDeps {
  return { store: rt.store, logger: rt.logger, notify: rt.config.notify, ...(rt.deadline ? { deadline: rt.deadline } : {}) };
}

/** Time kept back from the compaction for the answer (it stops between partitions; a killed one resumes next time). */
const COMPACT_RESERVE_MS = 60_000;

/** What a digest invocation answers. */
export interface DigestInvocationResult {
  date: string;
  headline: string;
  runs: number;
  causes: Record<string, number>;
  broken: number;
  flaky: number;
  keys: { json: string; markdown: string; html: string };
  links: { json: string; markdown: string; html: string };
  notification?: { sent: boolean; items: number };
  /** The compaction of closed days that followed the digest (absent when the payload turned it off). */
  compaction?: CompactResult;
}

/**
 * Runs the digest for a decoded timer event or direct payload; a timer's `triggerTime` is the digest's clock. Then
 * compacts the warehouse's closed days (unless the payload says `"compact": false`), in the time left.
 * @throws InputError 400 for a bad payload; StorageError when the warehouse cannot be read or the digest stored.
 */
export async function handleDigestEvent(event: unknown, deps: DigestDeps): Promise<DigestInvocationResult> {
  const { at, compact, ...request } = parseDigestPayload(event);
  // A timer's triggerTime is the clock of the digest and of the compaction after it.
  const clocked: DigestDeps = at ? { ...deps, now: () => at } : deps;
  const { digest, keys, notification } = await runDigest(clocked, request);
  const result: DigestInvocationResult = {
    date: digest.date,
    headline: digest.headline,
    runs: digest.runs,
    causes: digest.causeCounts,
    broken: digest.brokenCount,
    flaky: digest.flakyCount,
    keys,
    links: digest.links,
  };
  if (notification) result.notification = { sent: notification.sent, items: notification.items };
  if (compact !== false) {
    const deadline = deps.deadline;
    result.compaction = await compactWarehouse({
      store: deps.store,
      logger: deps.logger,
      ...(clocked.now ? { now: clocked.now } : {}),
      ...(compact?.closedAfterHours !== undefined ? { closedAfterMs: compact.closedAfterHours * 3_600_000 } : {}),
      ...(deadline ? { shouldStop: () => deadline.nearlyDone(COMPACT_RESERVE_MS) } : {}),
    });
  }
  return result;
}
