import { describe, expect, it } from 'vitest';
import { createTriggerScanner } from '../../lib/causes/trigger-scan';

describe('createTriggerScanner', () => {
  const scanner = createTriggerScanner(['hvs.', 's.', 'ghp_', 'key', '://'], 24, '密');
  const found = (text: string): string[] => {
    const r = scanner.scan(text);
    return r.starts.map((s, i) => `${scanner.words[r.words[i] ?? 0]}@${s}`);
  };

  it('finds every occurrence of every word in any case, words inside words too', () => {
    // Prepare, Act, Assess
    expect(found('token HVS.abc and s.x')).toEqual(['hvs.@6', 's.@8', 's.@18']);
    expect(found('KEY=1 monkey https://x')).toEqual(['key@0', 'key@9', '://@18']);
    expect(found('nothing here')).toEqual([]);
  });

  it('reports a run of token characters only from the run length on, and only when it mixes upper case, lower case and digits', () => {
    const runs = (text: string) => scanner.scan(text).runs;
    const random = 'aB3dE5fG7hJ9kL1mN2pQ4rS6'; // 24
    expect(runs(`x ${random} y`)).toEqual([2, 26]);
    expect(runs(`x ${random.slice(1)} y`)).toEqual([]); // 23 characters
    expect(runs('/usr/lib/python3/dist-packages/setuptools')).toEqual([]); // no upper case: a path
    expect(runs('PlatformUpdateWinSRVABCDEFG')).toEqual([]); // no digit
    expect(runs(random)).toEqual([0, 24]); // at the end of the text
  });

  it('reports the characters outside ASCII it was given', () => {
    expect(scanner.scan('a 密码 b 口').wide).toEqual([2]);
  });

  it('refuses a word outside ASCII', () => {
    expect(() => createTriggerScanner(['密码'], 24)).toThrow(/not ASCII/);
  });
});
