import { describe, expect, it } from 'vitest';
import { createTriggerScanner, type ScanResult } from '../../lib/causes/trigger-scan';

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

  it('ends a run and leads back to the root at any character that is not one of its own, outside ASCII too', () => {
    // Prepare
    const random = 'aB3dE5fG7hJ9kL1mN2pQ4rS6'; // 24
    // Act
    const beforeWide = scanner.scan(`${random}密${random}é`);
    const split = scanner.scan('ghé_ k\u00e9y ghp_');
    // Assess: each run ends at the character after it; a word broken by a character outside ASCII is not found.
    expect(beforeWide.runs).toEqual([0, 24, 25, 49]);
    expect(beforeWide.wide).toEqual([24]);
    expect(split.starts.map((s, i) => `${scanner.words[split.words[i] ?? 0]}@${s}`)).toEqual(['ghp_@9']);
  });

  it('finds the same words, runs and characters as a plain reading, one character at a time (random texts)', () => {
    // Prepare: a reference scan that tests each position for each word, and each maximal run of token characters.
    const words = ['hvs.', 's.', 'ghp_', 'key', '://'];
    const tokenChar = (c: string) => /[A-Za-z0-9+/_-]/.test(c);
    const reference = (text: string) => {
      const hits: string[] = [];
      for (let end = 1; end <= text.length; end++) for (const w of words) if (end >= w.length && text.slice(end - w.length, end).toLowerCase() === w) hits.push(`${w}@${end - w.length}`);
      const runs: number[] = [];
      for (let i = 0; i < text.length; ) {
        if (!tokenChar(text[i] ?? '')) {
          i++;
          continue;
        }
        let j = i;
        while (j < text.length && tokenChar(text[j] ?? '')) j++;
        const run = text.slice(i, j);
        if (j - i >= 24 && /[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run)) runs.push(i, j);
        i = j;
      }
      const wide = [...text].flatMap((c, i) => (c === '密' ? [i] : []));
      return { hits, runs, wide };
    };
    let seed = 11;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const alphabet = 'aB3xY9zQ1KEYhvs.:/_-+ \n\té密ghp';
    for (let k = 0; k < 300; k++) {
      let text = '';
      const length = Math.floor(random() * 200);
      for (let i = 0; i < length; i++) text += random() < 0.5 ? ('aB3xY9zQ1'[Math.floor(random() * 9)] ?? '') : (alphabet[Math.floor(random() * alphabet.length)] ?? '');
      // Act
      const r = scanner.scan(text);
      // Assess
      const want = reference(text);
      expect({ hits: r.starts.map((s, i) => `${scanner.words[r.words[i] ?? 0]}@${s}`).sort(), runs: r.runs, wide: r.wide }).toEqual({ hits: want.hits.sort(), runs: want.runs, wide: want.wide });
    }
  });

  it('scanLines: the same words, runs and characters as scan, with the lines holding a line word and the control characters of a plain reading (random texts)', () => {
    // Prepare: the scanner above, and one over the same words with line words, some of which are words of both lists,
    // prefixes or suffixes of them, or hold a space; a reference that reads each line of the text on its own.
    const lineWords = ['err', 'key', 'ys', 'not ', 's.a', "can't", 'fail'];
    const both = createTriggerScanner(['hvs.', 's.', 'ghp_', 'key', '://'], 24, '密', lineWords);
    const control = /[\u0000-\u0008\u000b-\u001f\u007f]/;
    const reference = (text: string) => text.split('\n').map((l) => (lineWords.some((w) => l.toLowerCase().includes(w)) ? 1 : 0));
    let seed = 5;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const alphabet = "aB3xY9zQ1KEYhvs.:/_-+ \n\n\té密ghpErRnoT'caFIl\r\u001b\u0000\u007f\u0085";
    for (let k = 0; k < 500; k++) {
      let text = '';
      const length = Math.floor(random() * 240);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)] ?? '';
      // Act
      const r = both.scanLines(text);
      const plain = scanner.scan(text);
      const other = both.scan(text);
      // Assess
      const occurrences = (x: ScanResult) => ({ starts: x.starts, words: x.words, runs: x.runs, wide: x.wide });
      expect(occurrences(r)).toEqual(occurrences(plain));
      expect(occurrences(other)).toEqual(occurrences(plain));
      expect([...r.lineWords]).toEqual(reference(text));
      expect(r.newlines).toEqual(text.split('').flatMap((c, i) => (c === '\n' ? [i] : [])));
      expect(r.control).toBe(control.test(text));
    }
  });

  it('refuses a word outside ASCII', () => {
    expect(() => createTriggerScanner(['密码'], 24)).toThrow(/not ASCII/);
  });
});
