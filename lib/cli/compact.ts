/**
 * `execution-archive compact [--closed-after-hours H] [--grace-minutes M]`: the digest timer's compaction of the
 * warehouse's closed days (lib/warehouse/compact.ts) from a laptop, over the archive `--to` (a folder or OSS).
 * Idempotent and resumable: Ctrl-C stops it between partitions, the next run goes on.
 */
import { COMPACT_DEFAULTS, compactWarehouse } from '../warehouse/compact';
import { UsageError, println, type CliIo } from './io';
import { cliRuntime, type CommonOptions } from './runtime';

export interface CompactCliOptions extends CommonOptions {
  closedAfterHours?: string;
  graceMinutes?: string;
}

/** The options' defaults, in the units the flags take (the compaction's own, lib/warehouse/compact.ts). */
export const COMPACT_FLAG_DEFAULTS = { closedAfterHours: COMPACT_DEFAULTS.closedAfterMs / 3_600_000, graceMinutes: COMPACT_DEFAULTS.graceMs / 60_000 } as const;

function nonNegative(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) throw new UsageError(`${flag} must be a number from 0 to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

export async function compactCommand(opts: CompactCliOptions, io: CliIo): Promise<number> {
  const closedAfterHours = nonNegative(opts.closedAfterHours, '--closed-after-hours', COMPACT_FLAG_DEFAULTS.closedAfterHours, 24 * 366);
  const graceMinutes = nonNegative(opts.graceMinutes, '--grace-minutes', COMPACT_FLAG_DEFAULTS.graceMinutes, 60 * 24 * 30);
  const rt = cliRuntime(io, opts);
  const result = await compactWarehouse({
    store: rt.store,
    logger: rt.logger,
    closedAfterMs: closedAfterHours * 3_600_000,
    graceMs: graceMinutes * 60_000,
    shouldStop: () => io.interrupt.aborted,
  });
  if (opts.json) {
    println(io.stdout, JSON.stringify(result, null, 2));
    return 0;
  }
  const mb = (result.bytes / 1048576).toFixed(1);
  println(
    io.stdout,
    `${result.partitions} partitions of closed days with per-archive objects: ${result.compacted} compacted (${result.runs.toLocaleString('en-US')} runs, ${result.rows.toLocaleString('en-US')} rows, ${mb} MB), ` +
      `${result.retired} per-archive objects retired, ${result.waiting} waiting for the grace period (${graceMinutes} min), ${result.skipped} changed while read (next run), ${result.open} partitions of open days left`,
  );
  if (result.stopped) println(io.stderr, 'stopped before the end: run it again to go on');
  return 0;
}
