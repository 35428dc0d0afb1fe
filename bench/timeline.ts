/**
 * Reads the per-page timelines `npm run bench -- --timeline DIR` wrote and prints where each run's wall time went:
 *
 *   npx tsx bench/timeline.ts DIR [name-filter]
 *
 * For each run (a worker's DIR/<run>.jsonl): before the first request left (`head`), the time some request was on
 * the wire (`wire`), the gaps inside the walk when none was (`idle`: the collector's work between an answer and the
 * next request, or a wait on its own writes), and after the last answer (`tail`: the commit and the summary's
 * finish). Then the mean round trip of a request (an answer that waits for the event loop is recorded late, so a long
 * synchronous run on the thread shows as a longer round trip), the longest round trip, and the CPU of the run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Event {
  t: number;
  e: string;
  id?: number;
  lane?: string;
  cpu?: number;
}

const [dir, filter] = process.argv.slice(2);
if (!dir) throw new Error('usage: tsx bench/timeline.ts DIR [name-filter]');

const fmt = (ms: number) => (ms / 1000).toFixed(3);

for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl') && (!filter || f.includes(filter))).sort()) {
  const events = readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);
  const sent = new Map<number, number>();
  const spans: Array<[number, number]> = [];
  for (const ev of events) {
    if (ev.e === 'sent' && ev.id !== undefined) sent.set(ev.id, ev.t);
    if (ev.e === 'end' && ev.id !== undefined) {
      const s = sent.get(ev.id);
      if (s !== undefined) spans.push([s, ev.t]);
    }
  }
  const finish = events.find((ev) => ev.e === 'finish');
  const end = finish?.t ?? events[events.length - 1]?.t ?? 0;
  spans.sort((a, b) => a[0] - b[0]);
  const first = spans[0]?.[0] ?? 0;
  let wire = 0;
  let idle = 0;
  let longestIdle = 0;
  let at = first;
  let covered = first;
  for (const [s, e] of spans) {
    if (s > covered) {
      idle += s - covered;
      longestIdle = Math.max(longestIdle, s - covered);
      covered = s;
    }
    if (e > covered) {
      wire += e - covered;
      covered = e;
    }
    at = Math.max(at, e);
  }
  const tail = end - at;
  const rtts = spans.map(([s, e]) => e - s);
  const mean = rtts.reduce((a, b) => a + b, 0) / Math.max(1, rtts.length);
  const longest = Math.max(0, ...rtts);
  // The CPU after the last page was done with (the commit and the summary's finish): the tail's work, without the
  // time others had the core.
  const lastPage = events.filter((ev) => ev.e === 'done' && ev.cpu !== undefined).pop();
  const tailCpu = finish?.cpu !== undefined && lastPage?.cpu !== undefined ? ` (cpu ${fmt((finish.cpu - lastPage.cpu) / 1000)})` : '';
  const cpu = finish?.cpu !== undefined ? ` cpu ${fmt(finish.cpu / 1000)}` : '';
  // The summary's steps after the last page (summary:<phase> events): ms after the last page's end, and CPU since.
  const steps = events
    .filter((ev) => ev.e.startsWith('summary:') || (ev.lane !== undefined && ev.e !== 'handed' && ev.e !== 'written' && ev.e !== 'done'))
    .map((ev) => (ev.lane !== undefined ? { ...ev, e: `summary:${ev.lane} ${ev.e}` } : ev));
  const lastPageT = lastPage?.t ?? at;
  const stepLine = steps.length
    ? `\n${''.padEnd(32)} after the last page: ${steps.map((ev) => `${ev.e.slice(8)} ${(ev.t - lastPageT).toFixed(0)} ms (cpu ${(((ev.cpu ?? 0) - (lastPage?.cpu ?? 0)) / 1000).toFixed(0)})`).join(', ')}`
    : '';
  process.stdout.write(
    `${file.padEnd(32)} total ${fmt(end)} head ${fmt(first)} wire ${fmt(wire)} idle ${fmt(idle)} (longest ${longestIdle.toFixed(1)} ms) tail ${fmt(tail)}${tailCpu}; ` +
      `${rtts.length} requests, rtt mean ${mean.toFixed(2)} ms, longest ${longest.toFixed(1)} ms${cpu}${stepLine}\n`,
  );
}
