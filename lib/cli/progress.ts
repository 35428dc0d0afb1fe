/**
 * Progress of collections, three ways: a live display on a terminal (cli-progress: one line per running collection,
 * redrawn in place), plain log lines when stderr is not a terminal (a line per collection every few seconds and when
 * it ends), or nothing (`--quiet`). Either way, messages go to stderr; results go to stdout.
 */
import { MultiBar, Format, type SingleBar } from 'cli-progress';
import type { CollectProgress } from '../collect/collect';
import type { CliIo } from './io';

export type ProgressMode = 'tty' | 'lines' | 'off';

/** One collection on the display. */
export interface ProgressTask {
  update(progress: CollectProgress): void;
  /** Ends the task's line with `line` (kept on screen / logged). */
  done(line: string): void;
}

export interface ProgressDisplay {
  task(label: string): ProgressTask;
  /** A message that is not a task's progress (kept above the live lines on a terminal). */
  message(line: string): void;
  /** Stops redrawing (call before printing the result). */
  stop(): void;
}

export function progressMode(io: Pick<CliIo, 'isTTY'>, quiet: boolean | undefined): ProgressMode {
  if (quiet) return 'off';
  return io.isTTY ? 'tty' : 'lines';
}

interface Payload {
  label: string;
  p: CollectProgress | undefined;
  startedAt: number;
  final: string | undefined;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `records 1,200/3,000 · pages 12 · 850 records/s · retries 0 · throttled 0 · ETA 2s` */
export function describeProgress(p: CollectProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.recordsThisRun * 1000) / elapsedMs : 0;
  const total = p.expectedRecords;
  const parts = [
    p.phase === 'related' ? 'related objects' : `records ${fmt(p.records)}${total !== undefined ? `/${fmt(total)}` : ''}`,
    `pages ${fmt(p.pages)}`,
    `${fmt(rate)} records/s`,
    `retries ${fmt(p.retries)}`,
    `throttled ${fmt(p.throttles)}`,
  ];
  if (total !== undefined && p.phase === 'records') parts.push(`ETA ${rate > 0 ? duration(Math.max(0, total - p.records) / rate) : '?'}`);
  if (p.resumed) parts.push('resumed');
  return parts.join(' · ');
}

export function createProgress(io: Pick<CliIo, 'stderr'>, mode: ProgressMode, now: () => number = Date.now): ProgressDisplay {
  if (mode === 'off') return { task: () => ({ update: () => undefined, done: () => undefined }), message: () => undefined, stop: () => undefined };
  if (mode === 'lines') return lineProgress(io, now);

  const multi = new MultiBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      fps: 8,
      autopadding: true,
      format: (options, params, payload: Payload) => {
        if (payload.final !== undefined) return payload.final;
        const p = payload.p;
        if (!p) return `${payload.label}  starting…`;
        const bar = p.expectedRecords !== undefined && p.expectedRecords > 0 ? `${Format.BarFormat(Math.min(1, params.progress), options)} ` : '';
        return `${payload.label}  ${bar}${describeProgress(p, now() - payload.startedAt)}`;
      },
    },
    { barCompleteChar: '█', barIncompleteChar: '░', format: '' },
  );
  return {
    task(label) {
      const payload: Payload = { label, p: undefined, startedAt: now(), final: undefined };
      const bar: SingleBar = multi.create(1, 0, payload);
      return {
        update(p) {
          payload.p = p;
          const total = p.expectedRecords && p.expectedRecords > 0 ? p.expectedRecords : Math.max(1, p.records);
          bar.setTotal(total);
          bar.update(Math.min(total, p.records), payload);
        },
        done(line) {
          payload.final = `${label}  ${line}`;
          bar.update(payload);
          bar.stop();
        },
      };
    },
    message: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}

/** Not a terminal: a line per task at most every 2 s, and one when it ends. */
function lineProgress(io: Pick<CliIo, 'stderr'>, now: () => number): ProgressDisplay {
  const write = (line: string) => io.stderr.write(`${new Date(now()).toISOString()} ${line}\n`);
  return {
    task(label) {
      const startedAt = now();
      let last = 0;
      write(`${label}: started`);
      return {
        update(p) {
          // Nothing read yet says nothing new after "started" (a resume's starting point does).
          if (p.pages === 0 && !p.resumed) return;
          if (now() - last < 2_000) return;
          last = now();
          write(`${label}: ${describeProgress(p, now() - startedAt)}`);
        },
        done: (line) => write(`${label}: ${line}`),
      };
    },
    message: write,
    stop: () => undefined,
  };
}
