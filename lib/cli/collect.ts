/**
 * `execution-archive collect`: one execution/invocation, or many (`--ids FILE`, `--ids -` for stdin), archived by the
 * same code as the collect function (lib/collect `runCollect`), with no deadline: each walk runs to the end, or to
 * the next page boundary after Ctrl-C, where it checkpoints so the same command resumes it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runCollect, type CollectResponse } from '../collect';
import { parseCollectRequest, type CollectRequest } from '../collect/request';
import { AppError, InputError } from '../errors';
import { EXECUTION_ID, INVOKE_ID, isSource, type Source } from '../ids';
import type { Runtime } from '../runtime';
import { pLimit } from '../limit';
import { EXIT, UsageError, println, type CliIo } from './io';
import { createProgress, progressMode, type ProgressDisplay } from './progress';
import { cliRuntime, regionOf, type CommonOptions } from './runtime';

export interface CollectCommandOptions extends CommonOptions {
  source?: string;
  executionId?: string;
  invokeId?: string;
  includeHistory?: boolean;
  force?: boolean;
  ids?: string;
  concurrency?: string;
}

/** The outcome of one item of a (batch) collection. */
export type CollectOutcome =
  | { ok: true; result: CollectResponse }
  | { ok: false; source: Source; regionId: string; id: string; error: { code: string; message: string } }
  | { ok: false; source: Source; regionId: string; id: string; notStarted: true };

const fmt = (n: number) => n.toLocaleString('en-US');

/** The source an id belongs to, from its shape (exec-… is OOS, t-… is Cloud Assistant). */
export function sourceOfId(id: string, source: string | undefined): Source {
  if (source !== undefined && !isSource(source)) throw new UsageError(`--source must be oos or ecs, not ${JSON.stringify(source)}`);
  const guessed: Source | undefined = EXECUTION_ID.test(id) ? 'oos' : INVOKE_ID.test(id) ? 'ecs' : undefined;
  if (source !== undefined) return source;
  if (!guessed) throw new UsageError(`${JSON.stringify(id)} is neither an OOS execution id (exec-…) nor a Cloud Assistant invoke id (t-…)`);
  return guessed;
}

/** Ids from a file (or stdin for `-`): one per line; blank lines and `#` comments are skipped. */
export async function readIds(path: string, io: Pick<CliIo, 'stdin' | 'cwd'>): Promise<string[]> {
  let text: string;
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = await readFile(resolve(io.cwd, path), 'utf8');
    } catch (err) {
      throw new UsageError(`--ids ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

/** Validates one id into the collect function's request (the same parser as the function's payload). */
export function requestFor(id: string, regionId: string, opts: CollectCommandOptions): CollectRequest {
  const source = sourceOfId(id, opts.source);
  const payload: Record<string, unknown> = { source, regionId, force: opts.force === true };
  if (source === 'oos') payload.executionId = id;
  else {
    payload.invokeId = id;
    if (opts.includeHistory) payload.includeHistory = true;
  }
  try {
    return parseCollectRequest(payload);
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(err.message.replace(/"executionId"|"invokeId"/, 'the id').replace('"includeHistory"', '--include-history'));
    throw err;
  }
}

export function concurrencyOf(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--concurrency must be an integer from 1 to 64, not ${JSON.stringify(value)}`);
  return n;
}

/** `committed 3,000 records in 1 part (60 pages, 62 API calls, 0 retries); 300 failures …` */
export function resultLine(r: CollectResponse): string {
  const counts = `${fmt(r.records)} records in ${r.parts} part${r.parts === 1 ? '' : 's'} (${fmt(r.pages)} pages, ${fmt(r.apiCalls)} API calls, ${fmt(r.retries)} retries)`;
  const truncated = r.truncatedOutputs > 0 ? `; ${fmt(r.truncatedOutputs)} outputs cut at 24 KB by the API` : '';
  switch (r.status) {
    case 'committed':
      return `committed ${counts}${truncated}${r.summary?.headline ? `; ${r.summary.headline}` : ''}`;
    case 'already-complete':
      return `already archived: ${counts} (--force collects it again)`;
    case 'committed-by-other':
      return `another collector committed it first: ${counts}`;
    case 'checkpointed':
      return `checkpointed after ${fmt(r.records)} records (${fmt(r.pages)} pages); run the same command again to resume`;
  }
}

/** Collects `requests` with at most `concurrency` at once; stops starting new ones after Ctrl-C. */
export async function collectMany(
  requests: CollectRequest[],
  rt: Runtime,
  io: CliIo,
  display: ProgressDisplay,
  concurrency: number,
): Promise<CollectOutcome[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    requests.map((req) =>
      limit(async (): Promise<CollectOutcome> => {
        const ref = { source: req.source, regionId: req.regionId, id: req.id };
        if (io.interrupt.aborted) return { ok: false, ...ref, notStarted: true };
        const task = display.task(`${req.source} ${req.id}`);
        try {
          const result = await runCollect(req, rt, { onProgress: (p) => task.update(p) });
          task.done(resultLine(result));
          return { ok: true, result };
        } catch (err) {
          const error = errorOf(err);
          task.done(`failed: ${error.code}: ${error.message}`);
          return { ok: false, ...ref, error };
        }
      }),
    ),
  );
}

export function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** 0 all done, 3 something checkpointed, not started or failed while others worked, 1 everything failed. */
export function exitCodeOf(outcomes: CollectOutcome[]): number {
  const failed = outcomes.filter((o) => !o.ok && 'error' in o).length;
  const partial = outcomes.filter((o) => (o.ok && o.result.status === 'checkpointed') || (!o.ok && 'notStarted' in o)).length;
  if (failed === 0 && partial === 0) return EXIT.ok;
  if (failed === outcomes.length) return EXIT.failure;
  return EXIT.partial;
}

export async function collectCommand(positional: string[], opts: CollectCommandOptions, io: CliIo): Promise<number> {
  const ids = [...positional];
  if (opts.executionId !== undefined) {
    if (opts.source === 'ecs') throw new UsageError('--execution-id belongs to --source oos');
    ids.push(opts.executionId);
    opts.source ??= 'oos';
  }
  if (opts.invokeId !== undefined) {
    if (opts.source === 'oos') throw new UsageError('--invoke-id belongs to --source ecs');
    ids.push(opts.invokeId);
    opts.source ??= 'ecs';
  }
  if (opts.ids !== undefined) ids.push(...(await readIds(opts.ids, io)));
  if (ids.length === 0) throw new UsageError('name what to collect: an id, --execution-id, --invoke-id or --ids FILE (- for stdin)');
  const concurrency = concurrencyOf(opts.concurrency, 4);

  const rt = cliRuntime(io, opts);
  const regionId = regionOf(opts, rt);
  const seen = new Set<string>();
  const requests = ids.filter((id) => !seen.has(id) && seen.add(id)).map((id) => requestFor(id, regionId, opts));

  const display = createProgress(io, progressMode(io, opts.quiet || opts.json));
  let outcomes: CollectOutcome[];
  try {
    outcomes = await collectMany(requests, rt, io, display, concurrency);
  } finally {
    display.stop();
  }
  const code = exitCodeOf(outcomes);
  const only = outcomes.length === 1 ? outcomes[0] : undefined;
  if (opts.json) {
    const single = only !== undefined && opts.ids === undefined;
    println(io.stdout, JSON.stringify(single ? outcomeJson(only) : batchJson(outcomes), null, 2));
    return code;
  }
  if (only !== undefined) {
    const o = only;
    if (o.ok) {
      println(io.stdout, `${o.result.source} ${o.result.id}: ${resultLine(o.result)}`);
      println(io.stdout, `  ${o.result.location}`);
    } else if ('error' in o) println(io.stderr, `error: ${o.error.code}: ${o.error.message}`);
    return code;
  }
  const done = outcomes.filter((o) => o.ok && o.result.status !== 'checkpointed').length;
  const checkpointed = outcomes.filter((o) => o.ok && o.result.status === 'checkpointed').length;
  const failed = outcomes.filter((o) => !o.ok && 'error' in o);
  const notStarted = outcomes.filter((o) => !o.ok && 'notStarted' in o).length;
  println(io.stdout, `${fmt(done)} of ${fmt(outcomes.length)} archived, ${fmt(checkpointed)} checkpointed, ${fmt(notStarted)} not started, ${fmt(failed.length)} failed`);
  for (const f of failed) if ('error' in f) println(io.stdout, `  failed ${f.source} ${f.id}: ${f.error.code}: ${f.error.message}`);
  if (checkpointed + notStarted > 0) println(io.stdout, 'run the same command again to continue');
  return code;
}

function outcomeJson(o: CollectOutcome): unknown {
  return o.ok ? o.result : o;
}

function batchJson(outcomes: CollectOutcome[]): unknown {
  return {
    total: outcomes.length,
    archived: outcomes.filter((o) => o.ok && o.result.status !== 'checkpointed').length,
    checkpointed: outcomes.filter((o) => o.ok && o.result.status === 'checkpointed').length,
    notStarted: outcomes.filter((o) => !o.ok && 'notStarted' in o).length,
    failed: outcomes.filter((o) => !o.ok && 'error' in o).length,
    results: outcomes.map(outcomeJson),
  };
}
