/**
 * One measurement of `npm run bench`, in a process of its own (bench/collect.ts bundles this file and runs it with
 * plain node, so the figures are the collector's and not a TypeScript loader's). Reads a job as JSON from argv[2],
 * prints one JSON line of figures: wall time, CPU (user + sys), the OS's peak RSS, API calls.
 */
import { subscribe } from 'node:diagnostics_channel';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { mkdir, writeFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import RPCClient from '@alicloud/pop-core';

export interface Job {
  kind: 'collect' | 'floor' | 'floor-all' | 'naive' | 'summarize' | 'gunzip-parse' | 'sweep';
  source: 'oos' | 'ecs';
  id: string;
  env: Record<string, string>;
  /** collect: the built bundle to invoke, as FC does (`dist/collect/index.js`). */
  bundle?: string;
  /** sweep: the lookback and concurrency. */
  sweep?: { regionId: string; concurrency: number };
}

/** What one measurement reports (bench/collect.ts reads it from the worker's stdout). */
export interface Figures {
  ms: number;
  cpuMs: number;
  /** The system share of cpuMs (syscalls: sockets, files). */
  sysMs: number;
  peakRssMb: number;
  apiCalls?: number;
  pages?: number;
  records?: number;
  detail?: unknown;
  /** When the measured work ended (epoch ms): what a log line's time is compared with. */
  endedAt?: number;
  /** collect: ms from the manifest's write (its 'archive committed' log line, LOG_LEVEL=info) to the answer. */
  afterCommitMs?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
Object.assign(process.env, job.env);

const context = { requestId: 'bench', credentials: {}, function: { name: 'execution-archive-collect', timeout: 86_400 }, region: 'cn-hangzhou', accountId: '1' };

function popClient(): RPCClient {
  const endpoint = job.source === 'oos' ? job.env.ALIBABA_CLOUD_OOS_ENDPOINT : job.env.ALIBABA_CLOUD_ECS_ENDPOINT;
  return new RPCClient({
    endpoint: endpoint ?? '',
    apiVersion: job.source === 'oos' ? '2019-06-01' : '2014-05-26',
    accessKeyId: job.env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '',
    accessKeySecret: job.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '',
  });
}

/**
 * What collect must read beyond the records, as bare calls: the describe call (OOS ListExecutions of the execution,
 * ECS DescribeInvocations of the invocation with every instance) and, for OOS, every page of the failed child
 * executions. Collect makes them beside the records' pages; `floor-all` does the same with nothing done with a page.
 */
async function otherListings(): Promise<number> {
  const client = popClient();
  const post = { method: 'POST' };
  if (job.source === 'ecs') {
    await client.request('DescribeInvocations', { RegionId: 'cn-hangzhou', InvokeId: job.id, ContentEncoding: 'PlainText' }, post);
    return 1;
  }
  await client.request('ListExecutions', { RegionId: 'cn-hangzhou', ExecutionId: job.id, MaxResults: 100 }, post);
  let calls = 1;
  let token: string | undefined;
  do {
    const page = await client.request<{ NextToken?: string }>('ListExecutions', { RegionId: 'cn-hangzhou', ParentExecutionId: job.id, Status: 'Failed', MaxResults: 100, ...(token ? { NextToken: token } : {}) }, post);
    calls += 1;
    token = page.NextToken || undefined;
  } while (token);
  return calls;
}

/** The bare paging loop: raw pop-core, POST, the largest page size, nothing done with a page. */
async function pages(onPage: (page: Record<string, unknown>, records: unknown[]) => void): Promise<{ pages: number; records: number }> {
  const client = popClient();
  let token: string | undefined;
  let n = 0;
  let records = 0;
  do {
    if (job.source === 'oos') {
      const page = await client.request<{ NextToken?: string; ResourceExecutionStatus?: unknown[] }>(
        'ListResourceExecutionStatus',
        { RegionId: 'cn-hangzhou', ExecutionId: job.id, MaxResults: 100, ...(token ? { NextToken: token } : {}) },
        { method: 'POST' },
      );
      const list = page.ResourceExecutionStatus ?? [];
      onPage(page, list);
      records += list.length;
      token = page.NextToken || undefined;
    } else {
      const page = await client.request<{ Invocation?: { NextToken?: string; InvocationResults?: { InvocationResult?: unknown[] } } }>(
        'DescribeInvocationResults',
        { RegionId: 'cn-hangzhou', InvokeId: job.id, MaxResults: 50, ContentEncoding: 'PlainText', ...(token ? { NextToken: token } : {}) },
        { method: 'POST' },
      );
      const list = page.Invocation?.InvocationResults?.InvocationResult ?? [];
      onPage(page, list);
      records += list.length;
      token = page.Invocation?.NextToken || undefined;
    }
    n += 1;
  } while (token);
  return { pages: n, records };
}

type Handler = (event: Buffer, ctx: unknown) => Promise<Record<string, unknown>>;
/** The bundle's handler, required before the clock starts (its cold start is a figure of its own). */
let handler: Handler = async () => {
  throw new Error('no bundle given');
};

async function run(): Promise<Omit<Figures, 'ms' | 'cpuMs' | 'sysMs' | 'peakRssMb'>> {
  switch (job.kind) {
    case 'floor':
      return pages(() => undefined);
    case 'floor-all': {
      const [walked, calls] = await Promise.all([pages(() => undefined), otherListings()]);
      return { ...walked, apiCalls: walked.pages + calls };
    }
    case 'naive': {
      // The naive peer: every page kept in memory, one gzip-less NDJSON put at the end, no retries.
      const all: unknown[] = [];
      const walked = await pages((_page, records) => {
        all.push(...records);
      });
      const dir = fileURLToPath(job.env.ARCHIVE_URL ?? '');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'naive.ndjson'), all.map((r) => JSON.stringify(r)).join('\n') + '\n');
      return walked;
    }
    case 'collect': {
      const payload = job.source === 'oos' ? { source: 'oos', regionId: 'cn-hangzhou', executionId: job.id } : { source: 'ecs', regionId: 'cn-hangzhou', invokeId: job.id };
      const result = await handler(Buffer.from(JSON.stringify(payload)), context);
      if (result.status !== 'committed') throw new Error(`collect answered ${JSON.stringify(result)}`);
      return { apiCalls: Number(result.apiCalls), pages: Number(result.pages), records: Number(result.records), detail: { summary: result.summary } };
    }
    case 'summarize': {
      const result = await handler(Buffer.from(JSON.stringify({ source: job.source, regionId: 'cn-hangzhou', id: job.id, force: true })), context);
      return { records: Number((result as { total?: number }).total ?? 0), detail: Object.keys(result).slice(0, 3) };
    }
    case 'gunzip-parse': {
      // The floor of summarize: read every part of the archive, gunzip, split lines, JSON.parse each; nothing else.
      const { createReadStream } = await import('node:fs');
      const { readFile } = await import('node:fs/promises');
      const { createGunzip } = await import('node:zlib');
      const root = fileURLToPath(job.env.ARCHIVE_URL ?? '');
      const dir = join(root, job.source, 'cn-hangzhou', job.id);
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { parts: Array<{ key: string }> };
      let records = 0;
      for (const part of manifest.parts) {
        let rest = '';
        for await (const chunk of createReadStream(join(root, part.key)).pipe(createGunzip()) as AsyncIterable<Buffer>) {
          const lines = (rest + chunk.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) if (line) (JSON.parse(line) as unknown, records++);
        }
        if (rest) (JSON.parse(rest) as unknown, records++);
      }
      return { records };
    }
    case 'sweep': {
      // The sweep's own code with an invoker that only counts: the figure is listing + checks + dispatch, not FC.
      const { createRuntime } = await import('../lib/runtime');
      const { runSweep, sweepDeps } = await import('../lib/sweep');
      let dispatched = 0;
      const invoker = { invokeAsync: async () => ({ requestId: `r-${++dispatched}` }) };
      const rt = createRuntime({ ...context, function: { name: 'execution-archive-sweep', timeout: 86_400 } }, { env: process.env });
      const result = await runSweep({ regions: [job.sweep?.regionId], sources: ['oos'], concurrency: job.sweep?.concurrency ?? 16, lookbackHours: 3 }, sweepDeps(rt, invoker));
      return { apiCalls: result.apiCalls, records: dispatched, detail: { listed: result.listed, dispatched: result.dispatched, failed: result.failed.length } };
    }
  }
}

/**
 * BENCH_TIMELINE=<file>: a per-page timeline of the walk, written as JSON lines at the end. Node's
 * `http.client.request.start` channel fires once a request's last bytes are written to its socket (`sent`), then
 * `http.client.response.finish` when its answer's head is in (`headers`), and the answer's `end`; the collector's
 * lanes publish on `execution-archive:page` when a page is handed to them, written to its gzip object and done with
 * (the summary's aggregation included), with the process's CPU time, and the summary's steps after the commit
 * (`summary:<phase>`, lib/summary/index.ts SUMMARY_CHANNEL). The bare loop runs the same probe, so the two
 * timelines compare.
 */
function timeline(): (() => void) | undefined {
  const file = process.env.BENCH_TIMELINE;
  if (!file) return undefined;
  const events: string[] = [];
  const t0 = performance.now();
  const at = () => Math.round((performance.now() - t0) * 1000) / 1000;
  let seq = 0;
  const ids = new WeakMap<object, number>();
  subscribe('http.client.request.start', (m) => {
    const { request } = m as { request: ClientRequest };
    const id = ++seq;
    ids.set(request, id);
    events.push(JSON.stringify({ t: at(), e: 'sent', id }));
    request.on('response', (res) => res.on('end', () => events.push(JSON.stringify({ t: at(), e: 'end', id }))));
  });
  subscribe('http.client.response.finish', (m) => {
    const { request } = m as { request: object };
    events.push(JSON.stringify({ t: at(), e: 'headers', id: ids.get(request) }));
  });
  // The page events carry the process's CPU time (µs, user + sys) too: on a busy machine a run's wall time includes
  // the time others had the core, its CPU time does not.
  const cpu0 = process.cpuUsage();
  subscribe('execution-archive:page' /* lib/collect/lanes.ts PAGE_CHANNEL */, (m) => {
    const { lane, phase } = m as { lane: string; phase: string };
    const cpu = process.cpuUsage(cpu0);
    events.push(JSON.stringify({ t: at(), e: phase, lane, cpu: cpu.user + cpu.system }));
  });
  // The summary's steps after the commit (lib/summary/index.ts SUMMARY_CHANNEL), as `summary:<phase>` events.
  subscribe('execution-archive:summary', (m) => {
    const { phase } = m as { phase: string };
    const cpu = process.cpuUsage(cpu0);
    events.push(JSON.stringify({ t: at(), e: `summary:${phase}`, cpu: cpu.user + cpu.system }));
  });
  return () => {
    const cpu = process.cpuUsage(cpu0);
    events.push(JSON.stringify({ t: at(), e: 'finish', cpu: cpu.user + cpu.system }));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, events.join('\n') + '\n');
  };
}

/** Kilobytes of the `/proc/self/status` or `smaps_rollup` fields named (0 for one that is not there). */
function procKb(file: string, names: readonly string[]): Record<string, number> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // not Linux: every field 0
  }
  const out: Record<string, number> = {};
  for (const name of names) out[name] = Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return out;
}

/**
 * BENCH_MEMORY_DETAIL=<file>: what the memory is made of over the run, as JSON lines every 100 ms: the process's
 * RSS split as the kernel counts it (RssAnon: heap pages of V8 and malloc; RssFile: the binary and mapped files), V8's
 * heap by space (used and committed), external and array-buffer bytes, and the garbage collections so far (count and
 * ms, minor and major). What grows with a run's length shows as the column that grows.
 */
function memoryDetail(): (() => void) | undefined {
  const file = process.env.BENCH_MEMORY_DETAIL;
  if (!file) return undefined;
  const gc = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) (gc.minor++, (gc.minorMs += e.duration));
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR || kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) (gc.major++, (gc.majorMs += e.duration));
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const lines: string[] = [];
  const t0 = performance.now();
  const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  const sample = () => {
    const m = process.memoryUsage();
    const status = procKb('/proc/self/status', ['RssAnon', 'RssFile', 'VmRSS']);
    const spaces: Record<string, [number, number]> = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name.replace(/_space$/, '')] = [mb(s.space_used_size), mb(s.space_size)];
    const h = getHeapStatistics();
    lines.push(
      JSON.stringify({
        t: Math.round(performance.now() - t0),
        rss: mb(m.rss),
        anon: mb((status.RssAnon ?? 0) * 1024),
        file: mb((status.RssFile ?? 0) * 1024),
        heapUsed: mb(m.heapUsed),
        heapTotal: mb(m.heapTotal),
        limit: mb(h.heap_size_limit),
        malloced: mb(h.malloced_memory),
        external: mb(m.external),
        arrayBuffers: mb(m.arrayBuffers),
        spaces,
        gc: { ...gc, minorMs: Math.round(gc.minorMs), majorMs: Math.round(gc.majorMs) },
      }),
    );
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
    observer.disconnect();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, lines.join('\n') + '\n');
  };
}

async function main(): Promise<void> {
  if (job.bundle) handler = (require(job.bundle) as { handler: Handler }).handler;
  // BENCH_MEMORY=1 (bench --memory): where the memory is at the largest RSS seen, sampled every 10 ms, to stderr.
  let peak: NodeJS.MemoryUsage | undefined;
  const sampler = process.env.BENCH_MEMORY
    ? setInterval(() => {
        const m = process.memoryUsage();
        if (process.env.BENCH_MEMORY === 'timeline') process.stderr.write(`t ${Math.round(performance.now())} rss ${m.rss >> 20} heap ${m.heapUsed >> 20}/${m.heapTotal >> 20} ab ${m.arrayBuffers >> 20}\n`);
        if (!peak || m.rss > peak.rss) peak = m;
      }, 10)
    : undefined;
  // BENCH_SNAPSHOT_AT=<ms> <file>: one heap snapshot that long after the start (finding what holds memory).
  const [snapAt, snapFile] = (process.env.BENCH_SNAPSHOT_AT ?? '').split(' ');
  if (snapAt && snapFile) setTimeout(() => require('node:v8').writeHeapSnapshot(snapFile), Number(snapAt)).unref();
  const stopDetail = memoryDetail();
  const flushTimeline = timeline();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await run();
  const ms = performance.now() - t0;
  const endedAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  flushTimeline?.();
  stopDetail?.();
  if (sampler) {
    clearInterval(sampler);
    const mb = (n: number) => `${Math.round(n / 2 ** 20)} MB`;
    if (peak) process.stderr.write(`memory at the sampled peak: rss ${mb(peak.rss)}, heap ${mb(peak.heapUsed)} of ${mb(peak.heapTotal)}, external ${mb(peak.external)} (array buffers ${mb(peak.arrayBuffers)})\n`);
  }
  const figures: Figures = { ms, cpuMs: (cpu.user + cpu.system) / 1000, sysMs: cpu.system / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, endedAt, ...out };
  process.stdout.write(`BENCH ${JSON.stringify(figures)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
