import { describe, expect, it } from 'vitest';
import { causeKey, clip, excerpt, isNoiseLine, joinSignature, meaningfulTail, memoizeText, prepareMessage } from '../../lib/causes/signature';
import { maskSecrets } from '../../lib/causes/secrets';
import { maskVariables } from '../../lib/causes/masking';

describe('prepareMessage', () => {
  it.each([
    ['instance ids', 'instance i-bp1abc123def456ghij7 not running', 'instance i-<*> not running'],
    ['execution, invoke and command ids', 'exec-6be6d6ff805349d9ac13 t-hz0jdfwd9f0a1b c-hz0jdfwcsr0001', 'exec-<*> t-<*> c-<*>'],
    ['all-letter invoke ids', 'invoke t-hzzosfpyvuetgz failed', 'invoke t-<*> failed'],
    ['IPv4 with port', 'dial tcp 10.0.3.7:3306: connect: connection refused', 'dial tcp <*>: connect: connection refused'],
    ['IPv4 with CIDR', 'route 192.168.0.0/16 unreachable', 'route <*> unreachable'],
    ['IPv6', 'from fe80::1ff:fe23:4567:890a and 2001:db8::1', 'from <*> and <*>'],
    ['UUID', 'request 3f2b8c1e-1111-4a2b-9c3d-abcdef012345 failed', 'request <*> failed'],
    ['ISO timestamp', 'failed at 2024-05-01T10:00:03.123Z', 'failed at <*>'],
    ['date and time', '2024/05/01 10:00:03 ERROR boom', '<*> ERROR boom'],
    ['syslog date', 'May  1 10:00:03 web-17 kernel: Out of memory: Killed process 12345 (java)', '<*> <*> web-<*> kernel: Out of memory: Killed process <*> (java)'],
    ['hex digests', 'checksum 5d41402abc4b2a76b9719d911017c592 mismatch', 'checksum <*> mismatch'],
    ['0x numbers', 'segfault at 0x7ffd1234 ip 0x0000000000401136', 'segfault at <*> ip <*>'],
    ['numbers and sizes', 'needs 512MB, only 97 MB free after 12.5s', 'needs <*>, only <*> free after <*>'],
    ['device paths', 'disk full on /dev/vda1', 'disk full on /dev/<*>'],
    ['log file paths', 'write /var/log/app-2024-01-02.log: no space left on device', 'write /var/log/<*>: no space left on device'],
    ['home directories', 'open /home/alice/.ssh/id_rsa: permission denied', 'open /home/<*>/.ssh/id_rsa: permission denied'],
    ['temp files', 'bash: /tmp/tmp.Xk2Jd9/run.sh: No such file or directory', 'bash: /tmp/<*>/run.sh: No such file or directory'],
    ['Windows paths', 'C:\\Users\\Administrator\\AppData\\Local\\Temp\\abc123.ps1 not found', 'C:\\Users\\<*>\\AppData\\Local\\Temp\\<*> not found'],
    ['emails', 'mail to ops@example.com bounced', 'mail to <*> bounced'],
    ['MAC addresses', 'link 00:16:3e:01:02:03 down', 'link <*> down'],
    ['URL query strings', 'GET https://api.example.com/v1/x?token=abcd1234&x=1 failed', 'GET https://api.example.com/v1/x?<*> failed'],
    ['secrets', 'mysql --password=hunter2 -h db', 'mysql --password=<redacted> -h db'],
    ['ANSI colours and control characters', '\u001b[31mERROR\u001b[0m: boom\u0007', 'ERROR: boom'],
    ['whitespace', '  too   many\tspaces  ', 'too many spaces'],
    // Texts without a digit skip the patterns that need one: those that need none still apply.
    ['a size with its other form', 'wrote 1190 bytes (1.16 KB) to /data', 'wrote <*> to /data'],
    ['letter-only hex without a digit in the text', 'checksum deadbeefcafe mismatch', 'checksum <*> mismatch'],
    ['letter-only MAC addresses', 'host aa:bb:cc:dd:ee:ff down', 'host <*> down'],
    ['letter-only UUIDs', 'key abcdefab-aaaa-bbbb-cccc-abcdefabcdef', 'key <*>'],
    ['an e-mail address and a query string without digits', 'mail ops@example.com at https://x.example.com/a?b=c', 'mail <*> at https://x.example.com/a?<*>'],
  ])('masks %s', (_name, input, expected) => {
    expect(prepareMessage(input)).toBe(expected);
  });

  it.each([
    ['architectures', 'No package for x86_64 or aarch64', 'No package for x86_64 or aarch64'],
    ['words with digits', 'utf8 codec and sha256 sums over HTTP/2', 'utf8 codec and sha256 sums over HTTP/2'],
    ['exit codes', 'exit code 2', 'exit code 2'],
    ['errno', 'connect failed errno 111', 'connect failed errno 111'],
    ['signals', 'killed by signal 9', 'killed by signal 9'],
  ])('keeps %s (the miner decides whether they vary)', (_name, input, expected) => {
    expect(prepareMessage(input)).toBe(expected);
  });

  it('gives one text to one cause seen on many instances', () => {
    const lines = Array.from({ length: 50 }, (_, n) =>
      prepareMessage(
        `2024-05-0${(n % 9) + 1}T0${n % 10}:1${n % 6}:00Z i-bp1${String(n).padStart(17, 'x')}9 t-${'hzzosfpyvuetgz'.slice(n % 5)}q curl: (7) Failed to connect to 10.${n}.0.${n + 1} port ${8000 + n}: Connection refused (req ${n * 7919})`,
      ),
    );
    expect(new Set(lines).size).toBe(1);
  });

  it('is idempotent', () => {
    const input = 'i-bp1abc123def456ghij7 at 2024-05-01T10:00:03Z /var/log/app-1.log 10.0.0.1:80 0xdeadbeef status 500';
    expect(prepareMessage(prepareMessage(input))).toBe(prepareMessage(input));
  });

  it('bounds the work on huge text, keeping both ends', () => {
    const out = prepareMessage('start ' + 'word '.repeat(10_000) + 'the end');
    expect(out.startsWith('start word')).toBe(true);
    expect(out.endsWith('word the end')).toBe(true);
    expect(out.length).toBeLessThan(9_000);
  });
});

describe('causeKey', () => {
  it('is stable, and differs with each part of the cause', () => {
    const key = causeKey('Failed', 'ExitCodeNonzero', 1, 'disk full on /dev/<*>');
    expect(key).toMatch(/^[0-9a-f]{12}$/);
    expect(causeKey('Failed', 'ExitCodeNonzero', 1, 'disk full on /dev/<*>')).toBe(key);
    expect(new Set([key, causeKey('Timeout', 'ExitCodeNonzero', 1, 'disk full on /dev/<*>'), causeKey('Failed', '', 1, 'disk full on /dev/<*>'), causeKey('Failed', 'ExitCodeNonzero', 2, 'disk full on /dev/<*>'), causeKey('Failed', 'ExitCodeNonzero', 1, 'disk full on /mnt/<*>')]).size).toBe(5);
  });
});

describe('meaningfulTail', () => {
  it('skips blank lines, rules, progress bars and bare timestamps', () => {
    const output = 'starting\nError: disk full\n\n----------\n2024-05-01 10:00:00\n[=====>    ] 45%\n\n';
    expect(meaningfulTail(output, 3)).toEqual(['starting', 'Error: disk full']);
  });
  it('keeps only what a carriage-return redrawn line finally showed', () => {
    expect(meaningfulTail('downloading 10%\rdownloading 100%\rfailed: checksum mismatch\n', 1)).toEqual(['failed: checksum mismatch']);
  });
  it('reads only the end of a long output', () => {
    const output = 'noise line\n'.repeat(5000) + 'fatal: repository not found\n';
    expect(meaningfulTail(output, 1)).toEqual(['fatal: repository not found']);
  });
  it('classifies noise', () => {
    expect(isNoiseLine('=====')).toBe(true);
    expect(isNoiseLine('   ')).toBe(true);
    expect(isNoiseLine('12:00:01')).toBe(true);
    expect(isNoiseLine('Error: boom')).toBe(false);
  });
});

describe('joinSignature', () => {
  it('joins templates, drops empty and repeated ones', () => {
    expect(joinSignature(['The command execution exit code is not zero.', '', 'df: /dev/<*>: No space left on device', 'df: /dev/<*>: No space left on device'])).toBe(
      'The command execution exit code is not zero. | df: /dev/<*>: No space left on device',
    );
  });
  it('is empty when there is no text', () => {
    expect(joinSignature(['', ''])).toBe('');
  });
});

describe('clip', () => {
  it('cuts in the middle, keeping more of the start', () => {
    expect(clip('abcdefghijklmnopqrstuvwxyz', 10)).toBe('abcdef…xyz');
    expect(clip('short', 10)).toBe('short');
    expect(clip('x'.repeat(1000)).length).toBe(400);
  });
});

describe('excerpt', () => {
  it('keeps the end of long text within the byte budget, marking the cut', () => {
    const text = 'x'.repeat(5000) + 'THE END';
    const out = excerpt(text, 2048, 'tail');
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(2048);
    expect(out.startsWith('…')).toBe(true);
    expect(out.endsWith('THE END')).toBe(true);
  });
  it('never splits a multi-byte character', () => {
    const out = excerpt('错误'.repeat(2000), 100, 'head');
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100);
    expect(out).toMatch(/^(错误)+错?…$/);
  });
  it('redacts secrets', () => {
    expect(excerpt('export ACCESS_KEY_SECRET=abc123xyz; run', 2048)).toBe('export ACCESS_KEY_SECRET=<redacted>; run');
    expect(maskSecrets('token: abc')).toBe('token: <redacted>');
  });
});

describe('memoizeText', () => {
  it('answers as the function does, and computes a repeated text at most twice (admitted on its second sighting)', () => {
    // Prepare
    let calls = 0;
    const counted = (text: string) => {
      calls += 1;
      return prepareMessage(text);
    };
    const prepare = memoizeText(counted);
    const lines = ['curl: (7) Failed to connect to 10.0.3.7 port 3306', 'disk full on /dev/vda1', 'curl: (7) Failed to connect to 10.0.3.7 port 3306'];
    // Act
    const answers = [...lines, ...lines, ...lines].map(prepare);
    // Assess
    expect(answers).toEqual([...lines, ...lines, ...lines].map(prepareMessage));
    expect(calls).toBe(4);
  });

  it('keeps at most `entries` texts, those that keep coming back, and never a text longer than `maxChars`', () => {
    // Prepare: two generations of two texts
    const seen: string[] = [];
    const noise = memoizeText((text: string) => (seen.push(text), isNoiseLine(text)), 4, 10);
    // Act: a, b, c, d each admitted on their second sighting; a, used again in the next generation, stays; b, not
    // used in it, goes and is computed again
    for (const text of ['a', 'a', 'b', 'b', 'a', 'c', 'c', 'a', 'd', 'd', 'b', 'a', 'x'.repeat(11), 'x'.repeat(11)]) noise(text);
    // Assess
    expect(seen).toEqual(['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'b', 'x'.repeat(11), 'x'.repeat(11)]);
  });

  it('lets texts seen once pass without an entry: a flood of new lines does not push out one that repeats', () => {
    // Prepare: room for two texts per generation; `a` admitted
    const seen: string[] = [];
    const memo = memoizeText((text: string) => (seen.push(text), text.length), 4, 100);
    memo('a');
    memo('a');
    // Act: twenty lines never seen again, then `a`
    for (let i = 0; i < 20; i++) memo(`host-${i} failed`);
    memo('a');
    // Assess: `a` was computed on its two first sightings and then served from the memo, not computed again
    expect(seen).toEqual(['a', 'a', ...Array.from({ length: 20 }, (_, i) => `host-${i} failed`)]);
  });
});

describe('maskVariables: a pattern is run only where the text holds what it needs', () => {
  it('masks every text as running every pattern does (random texts of dates, addresses, ids, numbers and paths)', () => {
    // Prepare: texts of the pieces the patterns look for, glued in random order, and some lines of real outputs.
    let seed = 23;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const pieces = [
      '2026-12-07', 'T', '10:00:00', '.123', 'Z', ' ', ' ', ':', '-', '.', '/', '(', ')', '1', '42', '2026', 'Dec', ' 7', 'Mon', ',',
      '10.0.3.7', ':3306', 'fe80::1', '::', 'de:ad:be:ef:00:01', 'i-bp1abc123', 't-hzzosfpyvuetgz', '0x1F', 'deadbeef', 'cafe12',
      '550e8400-e29b-41d4-a716-446655440000', 'a@b.io', 'https://x.io/p?q=1', 'exit code 2', 'errno 111', '1190 bytes (1.16 KB)',
      '1m30s', '5.2 KB', '12s', '/home/u1/app.log', 'C:\\Users\\x1', '<*>', '\ue003', '\u00a0', '\t', 'é', '٣', 'abcdef', 'ABCDEF12',
    ];
    const texts = [
      'dial tcp 10.0.3.7:3306: connect: connection refused',
      'Dec  7 10:00:01 db-2 deploy.sh[12]: gzip: stdin: not in gzip format',
      'E: Unable to locate package nginx-extra-1.2.3',
      "KeyError: 'region'",
    ];
    for (let k = 0; k < 3000; k++) texts.push(Array.from({ length: Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)] ?? '').join(''));
    for (const t of texts) {
      // Act, Assess
      expect(maskVariables(t)).toBe(maskVariables(t, false));
    }
  });
});
