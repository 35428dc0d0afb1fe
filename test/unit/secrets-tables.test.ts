import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as TriggerScan from '../../lib/causes/trigger-scan';

/**
 * The masker's tables (gitleaks' rules compiled, the scanner's automaton) are built on the first mask, not when the
 * module loads: a function's cold start does not pay for them. These tests hold the seam to what it promises.
 */
describe('the masker builds its tables on first use', () => {
  afterEach(() => {
    vi.doUnmock('../../lib/causes/trigger-scan');
    vi.resetModules();
  });

  it('builds no scanner when the module loads, one on the first mask, none after', async () => {
    // Prepare: a fresh module graph whose trigger scanners are counted
    vi.resetModules();
    const built = vi.fn();
    vi.doMock('../../lib/causes/trigger-scan', async (original) => {
      const real = await original<typeof TriggerScan>();
      return {
        ...real,
        createTriggerScanner: (...args: Parameters<typeof real.createTriggerScanner>) => {
          built(args[0].length);
          return real.createTriggerScanner(...args);
        },
      };
    });
    // Act: load the masker (as a function's module graph does), then mask twice
    const secrets = await import('../../lib/causes/secrets');
    const atLoad = built.mock.calls.length;
    const first = secrets.maskSecrets('mysql -uroot -phunter2 -e "select 1"');
    const afterFirst = built.mock.calls.length;
    const second = secrets.maskSecrets('PGPASSWORD=s3cr3t psql -h db');
    // Assess: nothing at load; exactly the masker's one scanner at the first mask (the vendor rules' own scanner,
    // for their find() alone, is never built by the masker), nothing more later; the masks are the masker's
    expect(atLoad).toBe(0);
    expect(afterFirst).toBe(1);
    expect(built.mock.calls.length).toBe(1);
    expect(first).toBe('mysql -uroot -p<redacted> -e "select 1"');
    expect(second).toBe('PGPASSWORD=<redacted> psql -h db');
  });

  it('builds them once, the same as a build of its own', async () => {
    // Prepare
    const { buildMaskerTables, maskerTables } = await import('../../lib/causes/secrets');
    // Act
    const lazy = maskerTables();
    const again = maskerTables();
    const own = buildMaskerTables();
    // Assess: one instance; the same keywords, words, families and markers as an eager build gives
    expect(again).toBe(lazy);
    expect(lazy).not.toBe(own);
    expect(lazy.scanner.words).toEqual(own.scanner.words);
    expect(lazy.wordFamilies).toEqual(own.wordFamilies);
    expect(lazy.beginWord).toBe(own.beginWord);
    expect(lazy.scanner.words[lazy.beginWord]).toBe('-----begin');
    expect(lazy.upstream.keywords).toEqual(own.upstream.keywords);
    expect(lazy.upstream.size).toBe(own.upstream.size);
    expect(lazy.upstream.size).toBeGreaterThan(200);
    const text = 'token ghp_0123456789abcdefABCDEF0123456789abcd and AKIAIOSFODNN7EXAMPLE';
    const a = lazy.scanner.scan(text);
    const b = own.scanner.scan(text);
    expect(a).toEqual(b);
    expect(lazy.upstream.findAt(text, a.starts, a.words)).toEqual(own.upstream.findAt(text, b.starts, b.words));
  });
});
