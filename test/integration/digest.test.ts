/**
 * The digest on a scripted history: each classification (new, recurring, regressed, gone causes; broken and flaky
 * instances and the ones that are neither), each command's failure rate against the previous window, what changed
 * since the last digest, and notifications for new and regressed causes and newly broken instances, once each
 * however many digests run (a real local webhook server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../lib/archive/file';
import type { ObjectStore } from '../../lib/archive/store';
import { runDigest, type Digest } from '../../lib/digest';
import { silentLogger } from '../../lib/log';
import { dayAfter, writeScriptedRun, type ScriptedRun } from '../helpers/warehouse-history';

/** A title that would run script if it were not escaped (the page's policy would block it anyway). */
const INJECTED = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let store: ObjectStore;
let server: Server;
let webhook: string;
const received: unknown[] = [];

/**
 * patch.sh runs daily at 03:00 from 2026-11-10 to 2026-12-07 on six instances; the digest of 2026-12-07 12:00 has
 * the window 2026-11-30 12:00 → 2026-12-07 12:00 (the runs of Dec 1–7), the previous window Nov 24–30.
 *   i-ok      always succeeds
 *   i-broken  succeeds until Nov 19, fails with A from Nov 20 on                 → broken; A recurring, rising
 *   i-flaky   fails with A on Dec 1, 3, 5, 7 and succeeds on Dec 2, 4, 6          → flaky
 *   i-b       fails with B from Dec 3 on                                           → B new
 *   i-c       fails with C on Nov 12, Dec 4 and Dec 6                              → C regressed (back on Dec 4, again Dec 6)
 *   i-d       fails with D Nov 10–25, then succeeds                                → D gone
 * restart (OOS) runs on Dec 5 and Dec 6: i-two fails both with E                 → E new; i-two not broken (2 runs)
 */
function scriptedRuns(): ScriptedRun[] {
  const runs: ScriptedRun[] = [];
  for (let n = 0; n < 28; n++) {
    const date = dayAfter('2026-11-10', n);
    const day = Number(date.slice(8));
    const dec = date.startsWith('2026-12');
    const outcomes: Record<string, string> = {
      'i-ok': 'ok',
      'i-broken': dec || date >= '2026-11-20' ? 'cause0000a' : 'ok',
      'i-flaky': dec ? (day % 2 === 1 ? 'cause0000a' : 'ok') : 'ok',
      'i-b': dec && day >= 3 ? 'cause0000b' : 'ok',
      'i-c': date === '2026-11-12' || date === '2026-12-04' || date === '2026-12-06' ? 'cause0000c' : 'ok',
      'i-d': !dec && date <= '2026-11-25' ? 'cause0000d' : 'ok',
    };
    runs.push({ id: `t-patch${String(n).padStart(4, '0')}`, name: 'patch.sh', startedAt: `${date}T03:00:00Z`, outcomes });
  }
  for (const date of ['2026-12-05', '2026-12-06']) {
    runs.push({ source: 'oos', id: `exec-restart${date.slice(8)}`, name: 'restart', startedAt: `${date}T04:00:00Z`, outcomes: { 'i-two': 'cause0000e', 'i-ok': 'ok' }, titles: { cause0000e: INJECTED } });
  }
  return runs;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ea-digest-'));
  store = createFileStore(join(dir, 'archive'));
  for (const run of scriptedRuns()) await writeScriptedRun(store, run);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  webhook = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const deps = (at: string) => ({ store, logger: silentLogger, now: () => new Date(at), notify: { webhookUrl: webhook, format: 'json' as const, minFailures: 1, minFailureRatio: 0 } });
const stateOf = (d: Digest, key: string) => d.causes.find((c) => c.key === key)?.state;

describe('the digest on a scripted history', () => {
  let first: Digest;

  it('classifies causes, instances and commands', async () => {
    // Act
    const { digest, keys, notification } = await runDigest(deps('2026-12-07T12:00:00Z'), { days: 7 });
    first = digest;
    // Assess: causes
    expect(Object.fromEntries(digest.causes.map((c) => [c.key, c.state]))).toEqual({
      cause0000a: 'recurring',
      cause0000b: 'new',
      cause0000c: 'regressed',
      cause0000d: 'gone',
      cause0000e: 'new',
    });
    expect(digest.causeCounts).toEqual({ new: 2, regressed: 1, recurring: 1, gone: 1, seen: 0 });
    const a = digest.causes.find((c) => c.key === 'cause0000a');
    expect(a).toMatchObject({ instances: 11, previousInstances: 7, trend: 'rising', runs: 7, firstSeen: '2026-11-20T03:00:00.000Z', lastSeen: '2026-12-07T03:00:00.000Z', commands: ['ecs:patch.sh'] });
    expect(a?.perDay).toEqual([2, 1, 2, 1, 2, 1, 2]);
    expect(digest.causes.find((c) => c.key === 'cause0000c')).toMatchObject({ runId: 't-patch0026', firstSeen: '2026-11-12T03:00:00.000Z' });
    expect(digest.causes.find((c) => c.key === 'cause0000d')).toMatchObject({ lastSeen: '2026-11-25T03:00:00.000Z', instances: 0 });
    // Instances
    expect(digest.broken.map((i) => `${i.command} ${i.resourceId}`)).toEqual(['ecs:patch.sh i-broken']);
    expect(digest.broken[0]).toMatchObject({ runs: 7, failedRuns: 7, succeededRuns: 0, causes: ['cause0000a'] });
    expect(digest.flaky.map((i) => `${i.command} ${i.resourceId}`).sort()).toEqual(['ecs:patch.sh i-b', 'ecs:patch.sh i-c', 'ecs:patch.sh i-flaky']);
    expect(digest.flaky.find((i) => i.resourceId === 'i-flaky')).toMatchObject({ runs: 7, failedRuns: 4, succeededRuns: 3 });
    expect(digest.brokenCount).toBe(1);
    // Commands: patch.sh in the window has 42 records; failed: i-broken 7, i-flaky 4, i-b 5, i-c 2 = 18
    const patch = digest.commands.find((c) => c.command === 'ecs:patch.sh');
    expect(patch).toMatchObject({ runs: 7, rate: Math.round((18 / 42) * 10000) / 10000 });
    // previous window Nov 24–30 (7 runs, 42 records): i-broken 7, i-d Nov 24–25 2 = 9
    expect(patch?.previousRate).toBe(Math.round((9 / 42) * 10000) / 10000);
    expect(patch?.perDay.map((d) => d.failed)).toEqual([2, 1, 3, 3, 3, 3, 3]);
    expect(digest.commands.find((c) => c.command === 'oos:restart')).toMatchObject({ runs: 2, rate: 0.5, previousRate: null, change: null });
    expect(digest.runs).toBe(9);
    // What changed: the first digest compares with nothing
    expect(digest.changes).toMatchObject({ since: null, newCauses: ['cause0000b', 'cause0000e'], regressedCauses: ['cause0000c'], newlyBroken: [{ command: 'ecs:patch.sh', resourceId: 'i-broken' }] });
    expect(digest.headline).toBe('7 days: 9 runs of 2 commands, 20 of 46 records failed (43.5%); 2 new causes, 1 regressed, 1 recurring, 1 gone, 1 broken instance, 3 flaky instances');
    // Stored, and notified once with the four items
    expect(keys.json).toBe('digests/2026-12-07/digest.json');
    expect(JSON.parse((await store.get(keys.json))?.toString('utf8') ?? '{}')).toEqual(JSON.parse(JSON.stringify(digest)));
    expect((await store.get(keys.markdown))?.toString('utf8')).toContain('## What changed since the start (first digest)');
    expect(notification).toMatchObject({ sent: true, items: 4 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ event: 'execution-archive.digest', date: '2026-12-07' });
    expect((received[0] as { items: { kind: string }[] }).items.map((i) => i.kind).sort()).toEqual(['broken', 'new', 'new', 'regressed']);
  });

  it('notifies nothing twice, and the next digest shows what changed since this one', async () => {
    // A second digest the same day: every item already notified
    const again = await runDigest(deps('2026-12-07T18:00:00Z'), { days: 7 });
    expect(again.notification).toMatchObject({ sent: false, reason: 'already-notified', items: 0 });
    expect(received).toHaveLength(1);
    // The next day, one more run of patch.sh: i-broken recovers, a new cause F appears on i-ok
    await writeScriptedRun(store, { id: 't-patch0028', name: 'patch.sh', startedAt: '2026-12-08T03:00:00Z', outcomes: { 'i-ok': 'cause0000f', 'i-broken': 'ok', 'i-flaky': 'ok', 'i-b': 'cause0000b', 'i-c': 'ok', 'i-d': 'ok' } });
    const next = await runDigest(deps('2026-12-08T12:00:00Z'), { days: 7 });
    expect(next.digest.changes.since).toBe('2026-12-07');
    expect(next.digest.changes.newCauses).toEqual(['cause0000f']);
    expect(next.digest.changes.newlyBroken).toEqual([]);
    expect(next.digest.changes.recovered).toEqual([{ command: 'ecs:patch.sh', resourceId: 'i-broken' }]);
    expect(stateOf(next.digest, 'cause0000b')).toBe('new'); // still first seen in the window, but not new since the last digest
    expect(next.notification).toMatchObject({ sent: true, items: 1 });
    expect(received).toHaveLength(2);
    expect(stateOf(first, 'cause0000b')).toBe('new');
  });
});

describe.skipIf(!existsSync(CHROMIUM))('digest.html in Chromium', () => {
  it('is styled under its own policy, shows what changed first, escapes every title and asks for nothing', async () => {
    // Prepare: the digest of 2026-12-07 as stored, opened from a file
    const { keys, digest } = await runDigest({ store, logger: silentLogger, now: () => new Date('2026-12-07T12:00:00Z') }, { days: 7 });
    const file = join(dir, 'digest.html');
    writeFileSync(file, (await store.get(keys.html)) ?? '');
    const url = pathToFileURL(file).href;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => problems.push(`${m.type()}: ${m.text()}`));
      await page.addInitScript(`window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));`);
      // Act
      await page.goto(url);
      // Assess: the report's look (its stylesheet applied), the headline, the changes panel first
      expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(246, 248, 250)');
      expect(await page.locator('#headline').innerText()).toBe(digest.headline);
      expect(await page.locator('main section.panel').first().getAttribute('id')).toBe('changes');
      // new B and E, regressed C, newly broken i-broken, and patch.sh's failure rate 21.4% → 42.9%
      expect(await page.locator('#changes li').allInnerTexts()).toEqual(expect.arrayContaining(['patch.sh: failure rate 21.4% → 42.9% (+21.4 pts)']));
      expect(await page.locator('#changes li').count()).toBe(5);
      expect(await page.locator('#causes tbody tr').count()).toBe(5);
      expect(await page.locator('#broken tbody tr').count()).toBe(1);
      expect(await page.locator('#flaky tbody tr').count()).toBe(3);
      expect(await page.locator('#causes').innerText()).toContain(INJECTED);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.evaluate('JSON.stringify(window.__csp)')).toBe('[]');
      expect(requests).toEqual([url]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
