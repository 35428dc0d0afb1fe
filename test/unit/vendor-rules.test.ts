/**
 * The rules generated from gitleaks: the RE2 → JavaScript conversion (scripts/secret-rules.ts), the checked-in module
 * it wrote, and the runner (lib/causes/vendor-rules.ts): keywords, secret groups, entropy, allow-lists.
 */
import { describe, expect, it } from 'vitest';
import { createVendorRules, type GeneratedRules } from '../../lib/causes/vendor-rules';
import { VENDOR_RULES } from '../../lib/causes/vendor-rules.generated';
import { dropKeyPrefix, toJsPattern } from '../../scripts/secret-rules';

const full = (re2: string) => new RegExp(`^(?:${toJsPattern(re2)})$`);

describe('toJsPattern: RE2 to JavaScript', () => {
  it.each([
    ['(?i)abc', ['abc', 'ABC', 'aBc'], ['abd']],
    ['(?i)a(?-i:B)c', ['aBc', 'ABC'], ['abc', 'Abc']],
    ['x(?i:yz)', ['xYZ', 'xyz'], ['XYZ']],
    ['(?i)[a-c]{2}', ['aB', 'Cc'], ['ad']],
    ['(?i)[^a-z]', ['1', '-'], ['a', 'A']],
    ['[[:alnum:]]{3}', ['a1Z'], ['a-1']],
    ['a\\x60b', ['a`b'], ['ab']],
    ['a\\x{41}', ['aA'], ['ax']],
    ['(?s:.){3}', ['a\nb'], ['ab']],
    ['.{3}', ['abc'], ['a\nb']],
    ['a\\.b', ['a.b'], ['axb']],
    ['[\\w.-]{2}', ['a.', '-_'], ['a/']],
    ['[]a]', [']', 'a'], ['b']],
  ])('%s', (re2, yes, no) => {
    const re = full(re2);
    for (const s of yes) expect(re.test(s), `${re2} matches ${JSON.stringify(s)}`).toBe(true);
    for (const s of no) expect(re.test(s), `${re2} does not match ${JSON.stringify(s)}`).toBe(false);
  });

  it('keeps the numbering of named groups (gitleaks counts them for secretGroup)', () => {
    const m = new RegExp(toJsPattern('(?P<a>x)(y)')).exec('xy');
    expect(m?.[2]).toBe('y');
  });

  it('bounds unbounded repetitions, so a backtracking engine does bounded work at each start', () => {
    expect(toJsPattern('a+b*')).toBe('a{1,4096}b{0,4096}');
    expect(toJsPattern('.*x')).toBe('[^\\n]{0,256}x');
    expect(toJsPattern('a{3,}')).toBe('a{3,4096}');
    expect(toJsPattern('a{2,5}')).toBe('a{2,5}');
  });

  it('\\z is the end of the text', () => {
    expect(new RegExp(toJsPattern('a\\z')).test('xa')).toBe(true);
    expect(new RegExp(toJsPattern('a\\z')).test('a\n')).toBe(false);
  });

  it.each(['\\pL', '(?U)a', '(?m)^a'])('refuses %s rather than mistranslate it', (re2) => {
    expect(() => toJsPattern(re2)).toThrow();
  });

  it('drops the lazy key prefix of keyword-scoped rules and says how far it reached', () => {
    expect(dropKeyPrefix('(?i)[\\w.-]{0,50}?(?:adafruit)x')).toEqual({ pattern: '(?i)(?:adafruit)x', leftContext: 50 });
    expect(dropKeyPrefix('[\\w.-]{0,50}?(?i:[\\w.-]{0,50}?(?:okta))x')).toEqual({ pattern: '(?i:(?:okta))x', leftContext: 100 });
    expect(dropKeyPrefix('ghp_[0-9a-z]{36}')).toEqual({ pattern: 'ghp_[0-9a-z]{36}', leftContext: 0 });
  });
});

describe('the generated module', () => {
  it('records its upstream, and every pattern and allow-list compiles', () => {
    expect(VENDOR_RULES.upstream).toMatchObject({ name: 'gitleaks', licence: 'MIT', file: 'config/gitleaks.toml' });
    expect(VENDOR_RULES.upstream.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(VENDOR_RULES.rules.length).toBeGreaterThan(200);
    for (const r of VENDOR_RULES.rules) {
      expect(() => new RegExp(r.pattern, 'gd'), r.id).not.toThrow();
      for (const a of r.allow) for (const p of a.regexes) expect(() => new RegExp(p), r.id).not.toThrow();
      // Outside escapes and character classes, no `*`, `+` or `{n,}` is left.
      const outside = r.pattern.replace(/\\./g, '').replace(/\[[^\]]*\]/g, '');
      expect(outside, `${r.id} has no unbounded repetition`).not.toMatch(/[*+]|\{\d+,\}/);
    }
  });
});

describe('createVendorRules', () => {
  const rules: GeneratedRules = {
    upstream: { name: 't', repository: 'r', file: 'f', version: 'v', commit: 'c', licence: 'MIT', copyright: 'x' },
    skipped: [],
    global: { regexes: ['^\\$\\{[A-Z_]+\\}$'], stopwords: ['sample'] },
    rules: [
      { id: 'demo-token', keywords: ['demo_'], pattern: '\\b(demo_[a-z0-9]{12})\\b', leftContext: 0, secretGroup: 0, entropy: 2, allow: [{ target: 'secret', regexes: ['demo_public[a-z0-9]{6}'], stopwords: [] }] },
      { id: 'demo-keyed', keywords: ['widget'], pattern: '(?:widget)[ =]{1,3}([a-z0-9]{10})', leftContext: 50, secretGroup: 1, entropy: 0, allow: [] },
    ],
  };
  const finder = createVendorRules(rules);
  const secrets = (text: string) => finder.find(text).secrets.map((s) => text.slice(s.start, s.end));

  it('finds a secret only when a keyword is in the text, and only the secret group', () => {
    expect(secrets('a demo_a1b2c3d4e5f6 b')).toEqual(['demo_a1b2c3d4e5f6']);
    expect(secrets('the Widget = k3y9x8w7v6 is set')).toEqual([]); // the keyword is matched case-sensitively by the pattern
    expect(secrets('the widget = k3y9x8w7v6 is set')).toEqual(['k3y9x8w7v6']);
    expect(secrets('no keyword: k3y9x8w7v6')).toEqual([]);
  });

  it('keeps a secret of low entropy, a stop-word, a global allow-list match, and names what an allow-list protects', () => {
    expect(secrets('demo_aaaaaaaaaaaa')).toEqual([]);
    expect(secrets('demo_sample12345x')).toEqual([]);
    const found = finder.find('demo_publicab12cd');
    expect(found.secrets).toEqual([]);
    expect(found.allowed.map((a) => a.rule)).toEqual(['demo-token']);
  });
});
