/**
 * The report's script and styles are source files (lib/summary/render/report/) compiled into a generated module that
 * report-html.ts inlines: the generated module must match its sources, and the page's Content-Security-Policy must
 * name the hash of exactly the script and stylesheet it carries, and allow nothing else.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ArchiveRef } from '../../lib/archive/layout';
import { silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import { REPORT_CSS, REPORT_SCRIPT } from '../../lib/summary/render/report-assets.generated';
import { REPORT_CSP } from '../../lib/summary/render/report-html';
import { GENERATED, reportAssetsModule } from '../../scripts/report-assets';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

async function report(): Promise<string> {
  const store = createMemoryStore();
  const records = Array.from({ length: 40 }, (_, n) =>
    ecsRecord({
      InstanceId: instanceId(n),
      InvocationStatus: n % 4 === 0 ? 'Failed' : n % 9 === 0 ? 'Sideways' : 'Success',
      ExitCode: n % 4 === 0 ? 2 : 0,
      Output: n % 4 === 0 ? `disk full on /dev/vdb${n}\n` : 'ok\n',
    }),
  );
  await writeArchive(store, { ref: REF, records });
  const { keys } = await summarizeArchive({ store, ref: REF, logger: silentLogger });
  return store.text(keys.report) ?? '';
}

/** The policy's directives by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('the report assets', () => {
  it('generated from the current sources (run npm run assets after editing lib/summary/render/report/)', async () => {
    // Prepare, Act: what the generator makes of the sources now.
    const expected = await reportAssetsModule();
    // Assess
    expect(await readFile(GENERATED, 'utf8')).toBe(expected);
  });

  it('are inlined whole, and the policy allows exactly them by hash', async () => {
    const html = await report();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(scripts).toEqual([REPORT_SCRIPT]);
    expect(styles).toHaveLength(1);
    expect(styles[0]?.startsWith(REPORT_CSS)).toBe(true);
    // The page's meta policy is the one the HTTP trigger sends as a header.
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    expect(meta).toBe(REPORT_CSP);
    const policy = directives(REPORT_CSP);
    expect(policy.get('script-src')).toEqual([sha256(scripts[0] ?? '')]);
    expect(policy.get('style-src')).toEqual([sha256(styles[0] ?? '')]);
    expect(policy.get('default-src')).toEqual(["'none'"]);
  });

  it('leave nothing the policy would block: no style or event attributes, a tone rule for every tone used', async () => {
    const html = await report();
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const tones = new Set([...html.matchAll(/\btone-[0-9a-f]{6}\b/g)].map((m) => m[0]));
    // The unknown status takes a fallback colour, which has its rule too.
    expect(html).toContain('Sideways');
    expect(tones.size).toBeGreaterThanOrEqual(3);
    for (const tone of tones) expect(style).toContain(`.${tone}{--c:#${tone.slice(5)}}`);
  });
});
