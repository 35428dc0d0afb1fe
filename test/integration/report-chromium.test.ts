/**
 * report.html as a person sees it, in real headless Chromium (Debian's /usr/bin/chromium; CI installs it).
 * With UPDATE_SCREENSHOT=1 it also rewrites docs/report.png, the screenshot the README shows (otherwise the screenshot
 * goes to the temp folder, so a test run never changes tracked files).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveRef } from '../../lib/archive/layout';
import { silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import type { Summary } from '../../lib/summary/summary';
import { createFileStore } from '../../lib/archive/file';
import { ecsRecord, FLEET_INJECTED as INJECTED, FLEET_START, fleetRun, instanceId, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`report-chromium: skipped because ${CHROMIUM} is missing (install it with: apt-get install -y chromium)`);
}

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const T0 = Date.parse(FLEET_START);
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
/** Records every Content-Security-Policy violation of the page in `window.__csp` (injected by the browser, outside the policy). */
const WATCH_CSP = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));`;
const violations = async (page: Page) => JSON.parse(String(await page.evaluate('JSON.stringify(window.__csp)'))) as string[];

describe.skipIf(!hasChromium)('report.html in Chromium', () => {
  let browser: Browser;
  let summary: Summary;
  let url: string;
  let dir: string;
  let html: string;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    const store = createMemoryStore();
    await writeArchive(store, {
      ref: REF,
      records: fleetRun(),
      recordsPerPart: 500,
      related: { invocation: [{ InvokeId: REF.id, CommandName: 'patch-kernel', InvocationStatus: 'PartialFailed', CreationTime: at(0) }] },
      manifest: { finishedAt: at(2700) },
    });
    const result = await summarizeArchive({ store, ref: REF, logger: silentLogger, now: () => new Date(T0 + 2760_000) });
    summary = result.summary;
    dir = mkdtempSync(join(tmpdir(), 'report-'));
    const file = join(dir, 'report.html');
    html = store.text(result.keys.report) ?? '';
    writeFileSync(file, html);
    url = pathToFileURL(file).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(width = 1280, height = 900): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.addInitScript(WATCH_CSP);
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url);
    return page;
  }

  it('runs its script and applies its stylesheet under its own policy, with no violation', async () => {
    const page = await open();
    // The script ran: the table is filled; the stylesheet applied: the page's background and the chips' colours.
    expect(await page.locator('#instances-body tr').count()).toBeGreaterThan(0);
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(246, 248, 250)');
    const chipColor = "getComputedStyle([...document.querySelectorAll('#instances-body .chip')].find((c) => c.textContent === 'Failed')).color";
    expect(await page.evaluate(chipColor)).toBe('rgb(207, 34, 46)');
    await page.locator('details.group').first().locator('summary').click();
    await page.fill('#q', 'connection refused');
    expect(await violations(page)).toEqual([]);
    await page.close();
  });

  it('runs neither script nor stylesheet whose text differs from what the policy hashed', async () => {
    // Prepare: the same page with one character more in its script and in its stylesheet.
    const tampered = join(dir, 'tampered.html');
    writeFileSync(tampered, html.replace('<script>', '<script> ').replace('<style>', '<style> '));
    const page = await browser.newPage();
    await page.addInitScript(WATCH_CSP);
    // Act
    await page.goto(pathToFileURL(tampered).href);
    // Assess: both blocked and reported; the table stays empty, the page unstyled.
    await expect.poll(async () => (await violations(page)).map((v) => v.split('-')[0]).sort()).toEqual(['script', 'style']);
    expect(await page.locator('#instances-body tr').count()).toBe(0);
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgba(0, 0, 0, 0)');
    await page.close();
  });

  it('shows the headline numbers', async () => {
    const page = await open();
    expect(summary.total).toBe(2000);
    const head = await page.locator('#headline').innerText();
    expect(head).toBe(`${summary.failures} of 2,000 failed (${(Math.round(summary.failureRatio * 1000) / 10).toFixed(1)}%) in ${summary.groups.length} causes; 10 unfinished`);
    const cards = await page.locator('#numbers').innerText();
    expect(cards).toContain('2,000');
    expect(cards).toContain(String(summary.failures));
    expect(await page.title()).toContain(`${summary.failures} failed`);
    await page.close();
  });

  it('draws one bar per failure group, largest first', async () => {
    const page = await open();
    expect(summary.groups.length).toBe(6);
    expect(await page.locator('details.group').count()).toBe(summary.groups.length);
    expect(await page.locator('details.group svg.bar').count()).toBe(summary.groups.length);
    const counts = await page.locator('details.group .count b').allInnerTexts();
    expect(counts.map((c) => Number(c.replace(/,/g, '')))).toEqual(summary.groups.map((g) => g.count));
    await page.close();
  });

  it('expands a group to show its example and every instance', async () => {
    const page = await open();
    const first = page.locator('details.group').first();
    const group = summary.groups[0];
    if (!group) throw new Error('no group');
    expect(await first.locator('.example-text').isVisible()).toBe(false);
    await first.locator('summary').click();
    expect(await first.locator('.example-text').isVisible()).toBe(true);
    expect(await first.locator('.example-text').innerText()).toContain('No space left on device');
    const ids = (await first.locator('pre.ids').innerText()).trim().split('\n');
    expect(ids).toEqual(group.resourceIds);
    await page.close();
  });

  it('filters the failed-instance table as the person types', async () => {
    const page = await open();
    const rows = page.locator('#instances-body tr');
    expect(await rows.count()).toBe(Math.min(500, summary.failures));
    const refused = summary.groups.find((g) => g.signature.includes('Connection refused'));
    if (!refused) throw new Error('no refused group');
    await page.fill('#q', 'connection refused');
    expect(await rows.count()).toBe(refused.count);
    const target = refused.resourceIds[3] ?? '';
    await page.fill('#q', target);
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain(target);
    // The row shows that instance's own error line (its own address), not the cause's template.
    const own = refused.instanceErrors.find((e) => e.id === target)?.error ?? '';
    expect(own).not.toContain('<*>');
    expect(await rows.first().locator('td.sig').innerText()).toBe(own);
    await page.fill('#q', 'no-such-instance');
    expect(await rows.count()).toBe(0);
    expect(await page.locator('#instances-count').innerText()).toContain('0 of');
    await page.fill('#q', '');
    await page.selectOption('#cause', '1');
    expect(await rows.count()).toBe(summary.groups[1]?.count);
    await page.close();
  });

  it('copies the ids to re-run, and narrows the table to one cause from its "Show in table"', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await context.newPage();
    await page.goto(url);
    // The button says 'Copied' once the clipboard's promise settles, and turns back 1.5 s later: record every text it
    // shows instead of reading it once at a moment a busy machine may have passed already.
    await page.evaluate(`(() => {
      const button = document.querySelector('[data-copy="retry"]');
      window.__shown = [];
      new MutationObserver(() => window.__shown.push(button.textContent)).observe(button, { childList: true, characterData: true, subtree: true });
    })()`);
    await page.locator('[data-copy="retry"]').click();
    await page.waitForFunction('window.__shown.length > 0');
    expect(JSON.parse(String(await page.evaluate('JSON.stringify(window.__shown)')))[0]).toBe('Copied');
    expect(String(await page.evaluate('navigator.clipboard.readText()')).split('\n')).toEqual(summary.retry.ids);
    const second = page.locator('details.group').nth(1);
    await second.locator('summary').click();
    await second.locator('[data-filter-group="1"]').click();
    expect(await page.locator('#cause').inputValue()).toBe('1');
    expect(await page.locator('#instances-body tr').count()).toBe(summary.groups[1]?.count);
    await context.close();
  });

  it('shows injected markup as text and never runs it', async () => {
    const page = await open();
    const injected = summary.groups.find((g) => g.example.text.includes('<script>'));
    if (!injected) throw new Error('no injected group');
    const details = page.locator('details.group', { hasText: 'unexpected token' });
    await details.locator('summary').click();
    expect(await details.locator('.example-text').innerText()).toContain(INJECTED);
    await page.fill('#q', 'unexpected token');
    expect(await page.locator('#instances-body tr').first().innerText()).toContain('<script>');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('img').count()).toBe(0);
    await page.close();
  });

  it('shows a long cause title whole, wrapped between words, on a wide screen too', async () => {
    const page = await open(1280, 900);
    // A long cause title is shown whole, wrapped between words over several lines, not cut behind an ellipsis.
    const title = page.locator('details.group summary .sig', { hasText: 'Failed to connect' });
    expect(await title.innerText()).toBe(summary.groups.find((g) => g.title.includes('Failed to connect'))?.title);
    const lines = Number(
      await page.evaluate(
        "(() => { const e = [...document.querySelectorAll('details.group summary .sig')].find((x) => x.textContent.includes('Failed to connect')); return e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight); })()",
      ),
    );
    expect(lines).toBeGreaterThan(1.5);
    await page.close();
  });

  it('fits a narrow screen without sideways scrolling', async () => {
    const page = await open(390, 844);
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(tmpdir(), 'execution-archive-report-narrow.png'), fullPage: true });
    await page.close();
  });

  it('renders an archive without failures cleanly', async () => {
    const store = createMemoryStore();
    const ok: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-allgood000001' };
    await writeArchive(store, { ref: ok, records: [] });
    const { keys } = await summarizeArchive({ store, ref: ok, logger: silentLogger });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
    await page.setContent(store.text(keys.report) ?? '');
    expect(await page.locator('#headline').innerText()).toBe('The archive holds no records.');
    expect(await page.locator('details.group').count()).toBe(0);
    expect(await page.locator('#causes').innerText()).toContain('No failures');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('makes no request beyond the file itself, logs no error, and is screenshotted for the README', async () => {
    const page = await open(1280, 900);
    await page.locator('details.group').first().locator('summary').click();
    const dir = process.env.UPDATE_SCREENSHOT === '1' ? join(process.cwd(), 'docs') : tmpdir();
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    await page.close();
    expect(requests.filter((r) => r !== url)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('report.html of a large archive in Chromium (its lists cut, its pages beside it)', () => {
  const LARGE: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwdlarge02' };
  const FAILED = 36_000;
  let browser: Browser;
  let dir: string;
  let summary: Summary;
  const requests: string[] = [];

  beforeAll(async () => {
    // Prepare: 60,000 records, 36,000 failed over three causes, summarized into a folder (the archive's own files).
    dir = mkdtempSync(join(tmpdir(), 'report-large-'));
    const store = createFileStore(dir);
    const messages = ['no space left on device', 'Connection refused', 'kubectl: command not found'];
    function* records() {
      for (let n = 0; n < 60_000; n++) {
        const fails = n % 5 < 3;
        yield ecsRecord({
          InstanceId: instanceId(n),
          InvocationStatus: fails ? 'Failed' : 'Success',
          ExitCode: fails ? 1 + (n % 3) : 0,
          ErrorCode: fails ? 'ExitCodeNonzero' : '',
          Output: fails ? `step ${n % 7}\n/opt/job-${n}: ${messages[n % 3] ?? ''} (${n})\n` : 'ok\n',
        });
      }
    }
    await writeArchive(store, { ref: LARGE, records: records(), recordsPerPart: 10_000, gzipLevel: 1 });
    summary = (await summarizeArchive({ store, ref: LARGE, logger: silentLogger })).summary;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens small and fast from a copied folder, and its pages list every failed instance offline', async () => {
    // Prepare: a copy of the archive's folder, as someone would download it; only file:// under it may load.
    const copy = mkdtempSync(join(tmpdir(), 'report-copy-'));
    cpSync(join(dir, 'ecs', LARGE.regionId, LARGE.id), copy, { recursive: true });
    const report = join(copy, 'report.html');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    await page.addInitScript(WATCH_CSP);
    await page.route('**/*', (route) => (route.request().url().startsWith(pathToFileURL(copy).href) ? route.continue() : route.abort()));

    // Act: the first view, then every page through its links.
    const started = Date.now();
    await page.goto(pathToFileURL(report).href);
    await expect.poll(() => page.locator('#instances-count').innerText()).not.toBe('');
    const interactive = Date.now() - started;
    const pageLinks = (await page.locator('#instances a[href^="report/instances-"]').evaluateAll((links) => links.map((a) => (a as unknown as { href: string }).href)));
    const rows: string[] = [];
    for (const href of pageLinks) {
      await page.goto(href);
      rows.push(...(await page.locator('tbody tr td.id').allInnerTexts()));
    }

    // Assess: the cut lists, a first view far below 3 MB, no violation, no request outside the folder.
    expect(summary.failures).toBe(FAILED);
    expect(summary.groups.every((g) => g.resourceIds.length === 1000 && g.resourceCount === FAILED / 3 && g.resourceIdsKey)).toBe(true);
    expect(statSync(report).size).toBeLessThan(3 * 1024 * 1024);
    expect(interactive).toBeLessThan(10_000);
    expect(pageLinks).toHaveLength(Math.ceil(FAILED / 5000));
    expect(rows).toHaveLength(FAILED);
    expect(new Set(rows).size).toBe(FAILED);
    expect(rows.slice(0, 3)).toEqual([instanceId(0), instanceId(1), instanceId(2)]);
    expect(await violations(page)).toEqual([]);
    expect(requests.every((r) => r.startsWith(pathToFileURL(copy).href))).toBe(true);
    await page.close();
    rmSync(copy, { recursive: true, force: true });
  });
});
