/**
 * What a command of the command line gets from its process: streams, environment, working folder, and the Ctrl-C
 * signal. Commands take this as a parameter (never `process` directly), so they run the same in a test.
 */
import type { Readable, Writable } from 'node:stream';

/** Exit codes of `execution-archive`. */
export const EXIT = Object.freeze({
  ok: 0,
  /** Something failed (an API or storage error, a verification mismatch). */
  failure: 1,
  /** The command line itself is wrong (unknown option, missing id, malformed value). */
  usage: 2,
  /** Partial: checkpointed (Ctrl-C) or some of many items failed or were not started; run again to continue. */
  partial: 3,
  /** `verify` could not read the archive at all (no manifest.json, storage unreachable), so it could not judge it. */
  unreadable: 4,
});

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stderr is a terminal: show the live progress display instead of log lines. */
  isTTY: boolean;
  /** Aborted on the first Ctrl-C (SIGINT/SIGTERM): commands stop at a safe point (a checkpoint) and return. */
  interrupt: AbortSignal;
}

/** The streams alone, for commands that need nothing else. */
export type CommandIo = Pick<CliIo, 'stdin' | 'stdout' | 'stderr'>;

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Writes a line to a stream. */
export function println(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
