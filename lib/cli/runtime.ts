/**
 * The command line's side of lib/runtime: the same configuration, credentials, store and API clients as a handler,
 * built from the environment plus the command's options (`--to`, `--region`, `--profile`), with no invocation
 * deadline (a backfill runs to the end) but a stop on Ctrl-C, and log lines on stderr.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { Deadline } from '../deadline';
import { REGION_ID } from '../ids';
import { createRuntime, type Runtime } from '../runtime';
import { UsageError, type CliIo } from './io';

/** Options every command that touches the cloud or the archive takes. */
export interface CommonOptions {
  to?: string;
  region?: string;
  profile?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** Adds the shared options to a command. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--to <url|dir>', 'the archive: oss://bucket/prefix, file:///abs/dir or a folder (default: $ARCHIVE_URL, else ./.local-cloud/archive)')
    .option('--region <regionId>', 'region of the OOS/ECS APIs (default: $ALIBABA_CLOUD_REGION, else cn-hangzhou)')
    .option('--profile <name>', 'credentials profile of ~/.alibabacloud/credentials or ~/.aliyun/config.json (sets ALIBABA_CLOUD_PROFILE)')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress, only the result and errors')
    .option('-v, --verbose', "show the library's log lines (JSON) on stderr");
}

/**
 * `--to` as an ARCHIVE_URL: `oss://…` and `file://…` as given, anything else a folder relative to the working folder.
 * Without `--to`: `ARCHIVE_URL`, else `<cwd>/.local-cloud/archive` (the functions' local default).
 */
export function archiveUrlOf(to: string | undefined, io: Pick<CliIo, 'env' | 'cwd'>): string {
  if (to === undefined || to === '') return io.env.ARCHIVE_URL?.trim() || pathToFileURL(join(io.cwd, '.local-cloud', 'archive')).href;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) {
    if (!/^(oss|file):\/\//i.test(to)) throw new UsageError(`--to ${to}: use oss://bucket/prefix, file:///abs/dir or a folder`);
    return to;
  }
  return pathToFileURL(isAbsolute(to) ? to : resolve(io.cwd, to)).href;
}

/** The region a command works in: `--region`, else the configuration's (ALIBABA_CLOUD_REGION, FC_REGION, cn-hangzhou). */
export function regionOf(opts: CommonOptions, rt: Runtime): string {
  const region = opts.region ?? rt.config.regionId;
  if (!REGION_ID.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not a region id such as cn-hangzhou`);
  return region;
}

/** A deadline that never comes by itself: `stop()` (Ctrl-C) makes every walk checkpoint at its next page boundary. */
export function stoppableDeadline(interrupt: AbortSignal): Deadline {
  // The signal stays quiet: in-flight requests finish, so the page being read still makes it into the checkpoint.
  return {
    at: Number.POSITIVE_INFINITY,
    remaining: () => Number.POSITIVE_INFINITY,
    nearlyDone: () => interrupt.aborted,
    signal: new AbortController().signal,
  };
}

/** The runtime of one command: what a handler gets in FC, with the command line's archive, region and profile. */
export function cliRuntime(io: CliIo, opts: CommonOptions): Runtime {
  const env: NodeJS.ProcessEnv = { ...io.env, ARCHIVE_URL: archiveUrlOf(opts.to, io) };
  if (opts.region !== undefined) env.ALIBABA_CLOUD_REGION = opts.region;
  if (opts.profile !== undefined) env.ALIBABA_CLOUD_PROFILE = opts.profile;
  env.LOG_LEVEL = opts.verbose ? (env.LOG_LEVEL === 'debug' ? 'debug' : 'info') : 'error';
  const logWrite = opts.verbose ? (line: string) => io.stderr.write(`${line}\n`) : () => undefined;
  return createRuntime(
    { requestId: `cli-${randomUUID()}`, region: env.ALIBABA_CLOUD_REGION },
    { env, deadline: stoppableDeadline(io.interrupt), logWrite, logFields: { fn: 'cli' } },
  );
}

/**
 * A point in time from `--since`/`--until`: ISO-8601 (`2026-05-01T00:00:00Z`, `2026-05-01`) or an age before `now`
 * (`90m`, `72h`, `3d`, `2w`).
 */
export function parseWhen(value: string, option: string, now: number): number {
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i.exec(value.trim());
  if (rel) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[2]?.toLowerCase() as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(rel[1]) * unit;
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`${option} ${JSON.stringify(value)}: use an ISO-8601 time (2026-05-01T00:00:00Z) or an age such as 90m, 72h, 3d`);
  return ms;
}
