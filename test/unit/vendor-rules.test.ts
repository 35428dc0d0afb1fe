/**
 * The rules generated from gitleaks: the RE2 → JavaScript conversion (scripts/secret-rules.ts), the checked-in module
 * it wrote, and the runner (lib/causes/vendor-rules.ts): keywords, secret groups, entropy, allow-lists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVendorRules, holdsRequired, keywordLead, requiredLiterals, shannonEntropy, type GeneratedRules } from '../../lib/causes/vendor-rules';
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

describe('requiredLiterals: what every match of a rule holds', () => {
  it('names the groups of literal branches of the top-level sequence, and nothing that a match may lack', () => {
    // Prepare, Act, Assess
    expect(requiredLiterals('\\bcurl\\b[^\\n]{0,256}[ \\t](?:-u|--user)(?:=|[ \\t]{0,5})(\\w+)')).toEqual([['-u', '--user']]);
    expect(requiredLiterals('(?:https?:\\/\\/)?hooks[^\\n]slack[^\\n]com\\/(?:services|workflows)\\/[A-Z]{43}')).toEqual([['services', 'workflows']]);
    expect(requiredLiterals('a(?:x|y)?b(?:p|q)*c(?:m|n){0,2}')).toEqual([]); // quantified to allow none
    expect(requiredLiterals('a(?:x|y){1,2}')).toEqual([['x', 'y']]);
    expect(requiredLiterals('(?:a|b)c|(?:d|e)f')).toEqual([]); // a top-level alternation
    expect(requiredLiterals('x(?=(?:a|b))(?!c)(?<d>e|f)')).toEqual([['e', 'f']]); // lookarounds consume nothing
    expect(requiredLiterals('(?:a[bc]|d)')).toEqual([]); // a branch that is not literal
  });

  it('looks again for a literal when a try comes before the last one of the same text', () => {
    // Prepare: a literal that stands only before the first try's place
    const r = { required: [['QQ']], nextAt: [] as number[], nextFrom: [] as number[] };
    // Act, Assess: not after 4; after 0 it is (a cached "none after 4" must not answer for 0); a new call looks anew
    expect(holdsRequired(r, 'xQQabcdef', 4, 1)).toBe(false);
    expect(holdsRequired(r, 'xQQabcdef', 0, 1)).toBe(true);
    expect(holdsRequired(r, 'xQQabcdef', 5, 1)).toBe(false);
    expect(holdsRequired(r, 'abcdefQQ', 5, 2)).toBe(true);
  });

  it('a rule is not tried where none of its literals follows, and still found after many such places (curl -u)', () => {
    // Prepare: many curl commands without -u, then one with it; and one with it, then many without.
    const finder = createVendorRules(VENDOR_RULES);
    // (The rule reaches five lines down: the curls just above find the same secret; each is named once here.)
    const spans = (text: string) => [...new Set(finder.find(text).secrets.map((sp) => `${sp.rule}:${text.slice(sp.start, sp.end)}`))];
    const plain = 'curl -sS https://example.com/health\n'.repeat(40);
    // Act, Assess
    expect(spans(`${plain}curl -u deploy:Sup3rS3cretPw https://repo.example.com/upload\n`)).toEqual(['curl-auth-user:deploy:Sup3rS3cretPw']);
    expect(spans(`curl -u deploy:Sup3rS3cretPw https://repo.example.com/upload\n${plain}`)).toEqual(['curl-auth-user:deploy:Sup3rS3cretPw']);
    expect(spans(plain)).toEqual([]);
  });
});

describe('keywordLead: where a rule is tried', () => {
  it('gives how far before its keyword a match starts when every match starts with one', () => {
    expect(keywordLead('\\b(ghp_[a-z]{36})\\b', ['ghp_'])).toBe(0);
    expect(keywordLead('(?:[aA][dD][aA])(?:[ \\w]{0,20})=([a-z]{32})', ['ada'])).toBe(0);
    expect(keywordLead('\\b((?:A3T[A-Z0-9]|AKIA|ASIA)[A-Z2-7]{16})\\b', ['a3t', 'akia', 'asia'])).toBe(0);
    expect(keywordLead('(?:^|[\\s\'"])(sk_live_[a-z]{24})', ['sk_live'])).toBe(1);
  });

  it('gives undefined when the keyword may be elsewhere in the match, and such a rule is searched near its keywords', () => {
    expect(keywordLead('(?:^|[\\s])([a-z]{3}\\dQ~[a-z]{31})', ['q~'])).toBeUndefined();
    expect(keywordLead('\\b(pat[0-9]{14}\\.[a-f0-9]{64})\\b', ['airtable'])).toBeUndefined();
    expect(keywordLead('[a-z]{14}\\.(?:atlasv1)\\.[a-z]{60}', ['atlasv1'])).toBeUndefined();
  });

  it("tried only at its keywords, every generated rule still finds gitleaks' own true positives that a search through the text finds", () => {
    // Prepare: gitleaks' true-positive samples (test/fixtures/secret-bench.json) and each one's rule
    const finder = createVendorRules(VENDOR_RULES);
    const corpus = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'secret-bench.json'), 'utf8')) as { items: { source: string; kind: string; text: string; secrets: string[] }[] };
    const lost: string[] = [];
    let checked = 0;
    for (const item of corpus.items.filter((i) => i.source === 'gitleaks' && i.secrets.length > 0)) {
      const rule = VENDOR_RULES.rules.find((r) => r.id === item.kind);
      if (!rule) continue;
      const text = Buffer.from(item.text, 'base64').toString('utf8');
      // What a search through the whole text finds: a match whose secret passes the rule's entropy and digit tests
      const searched = [...text.matchAll(new RegExp(rule.pattern, 'g'))].some((m) => {
        const secret = (rule.secretGroup > 0 ? m[rule.secretGroup] : m.slice(1).find((g) => g) ?? m[0]) ?? '';
        return secret !== '' && (rule.entropy === 0 || shannonEntropy(secret) > rule.entropy) && (!rule.id.startsWith('generic') || /\d/.test(secret));
      });
      if (!searched) continue;
      checked++;
      // Act
      const found = finder.find(text);
      // Assess: found as a secret, or named by an allow-list
      if (found.secrets.length + found.allowed.length === 0) lost.push(`${rule.id}: ${text.slice(0, 80)}`);
    }
    expect(checked).toBeGreaterThan(500);
    expect(lost).toEqual([]);
  });
});
