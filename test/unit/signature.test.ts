import { describe, expect, it } from 'vitest';
import { clip, excerpt, isNoiseLine, meaningfulTail, normalizeText, redactSecrets, signatureOf } from '../../lib/summary/signature';

describe('normalizeText', () => {
  it.each([
    ['instance ids', 'instance i-bp1abc123def456ghij7 not running', 'instance i-<id> not running'],
    ['execution, invoke and command ids', 'exec-6be6d6ff805349d9ac13 t-hz0jdfwd9f0a1b c-hz0jdfwcsr0001', 'exec-<id> t-<id> c-<id>'],
    ['IPv4 with port', 'dial tcp 10.0.3.7:3306: connect: connection refused', 'dial tcp <ip>: connect: connection refused'],
    ['IPv4 with CIDR', 'route 192.168.0.0/16 unreachable', 'route <ip> unreachable'],
    ['IPv6', 'from fe80::1ff:fe23:4567:890a and 2001:db8::1', 'from <ip> and <ip>'],
    ['UUID', 'request 3f2b8c1e-1111-4a2b-9c3d-abcdef012345 failed', 'request <uuid> failed'],
    ['ISO timestamp', 'failed at 2024-05-01T10:00:03.123Z', 'failed at <time>'],
    ['date and time', '2024/05/01 10:00:03 ERROR boom', '<time> ERROR boom'],
    ['syslog date', 'May  1 10:00:03 web-17 kernel: Out of memory: Killed process 12345 (java)', '<date> <time> web-<n> kernel: Out of memory: Killed process <n> (java)'],
    ['date(1) output', 'Mon May 1 10:00:03 UTC 2024 starting', '<date> <time> <n> starting'],
    ['hex digests', 'checksum 5d41402abc4b2a76b9719d911017c592 mismatch', 'checksum <hex> mismatch'],
    ['0x numbers', 'segfault at 0x7ffd1234 ip 0x0000000000401136', 'segfault at <hex> ip <hex>'],
    ['numbers and sizes', 'needs 512MB, only 97MB free after 12.5s', 'needs <n>MB, only <n>MB free after <n>s'],
    ['device paths', 'disk full on /dev/vda1', 'disk full on /dev/<*>'],
    ['log file paths', 'write /var/log/app-2024-01-02.log: no space left on device', 'write /var/log/<*>: no space left on device'],
    ['home directories', 'open /home/alice/.ssh/id_rsa: permission denied', 'open /home/<*>/.ssh/id_rsa: permission denied'],
    ['temp files', 'bash: /tmp/tmp.Xk2Jd9/run.sh: No such file or directory', 'bash: /tmp/<*>/run.sh: No such file or directory'],
    ['Windows paths', 'C:\\Users\\Administrator\\AppData\\Local\\Temp\\abc123.ps1 not found', 'C:\\Users\\<*>\\AppData\\Local\\Temp\\<*> not found'],
    ['emails', 'mail to ops@example.com bounced', 'mail to <email> bounced'],
    ['MAC addresses', 'link 00:16:3e:01:02:03 down', 'link <mac> down'],
    ['URL query strings', 'GET https://api.example.com/v1/x?token=abcd1234&x=1 failed', 'GET https://api.example.com/v<n>/x?<*> failed'],
    ['secrets', 'mysql --password=hunter2 -h db', 'mysql --password=<redacted> -h db'],
    ['bearer tokens', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', 'Authorization: <redacted>'],
    ['random tokens', 'session Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5 expired', 'session <token> expired'],
    ['ANSI colours', '\u001b[31mERROR\u001b[0m: boom', 'ERROR: boom'],
    ['whitespace', '  too   many\tspaces  ', 'too many spaces'],
  ])('masks %s', (_name, input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it.each([
    ['exit codes', 'exit code 2', 'exit code 2'],
    ['HTTP status codes', 'HTTP/1.1 404 Not Found', 'HTTP/<n> 404 Not Found'],
    ['returned codes', 'The requested URL returned error: 503', 'The requested URL returned error: 503'],
    ['errno', 'connect failed errno 111', 'connect failed errno 111'],
    ['MySQL error numbers', 'ERROR 1045 (28000): Access denied for user admin@10.1.2.3', 'ERROR 1045 (<n>): Access denied for user admin@<ip>'],
    ['status codes', 'process exited with status 137', 'process exited with status 137'],
  ])('keeps %s (they are part of the cause)', (_name, input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it('gives one signature to one cause seen on many instances', () => {
    const lines = Array.from({ length: 50 }, (_, n) =>
      normalizeText(
        `2024-05-0${(n % 9) + 1}T0${n % 10}:1${n % 6}:00Z i-bp1${String(n).padStart(17, 'x')}9 curl: (7) Failed to connect to 10.${n}.0.${n + 1} port ${8000 + n}: Connection refused (req ${n * 7919})`,
      ),
    );
    expect(new Set(lines).size).toBe(1);
  });

  it('keeps different causes apart', () => {
    const causes = [
      'disk full on /dev/vda1',
      'Connection refused',
      'exit code 1',
      'exit code 2',
      'HTTP 404',
      'HTTP 500',
      'yum: command not found',
      'apt-get: command not found',
      'Permission denied (publickey)',
      'Host key verification failed.',
      'E: Unable to locate package nginx',
      'E: Unable to locate package redis',
      '/usr/bin/java: not found',
      '/usr/bin/node: not found',
    ];
    const normalized = causes.map(normalizeText);
    expect(new Set(normalized).size).toBe(causes.length);
  });

  it('is idempotent', () => {
    const input = 'i-bp1abc123def456ghij7 at 2024-05-01T10:00:03Z /var/log/app-1.log 10.0.0.1:80 0xdeadbeef status 500';
    expect(normalizeText(normalizeText(input))).toBe(normalizeText(input));
  });

  it('bounds the work on huge text, keeping both ends', () => {
    const out = normalizeText('start ' + 'word '.repeat(10_000) + 'the end');
    expect(out.startsWith('start word')).toBe(true);
    expect(out.endsWith('word the end')).toBe(true);
    expect(out.length).toBeLessThan(17_000);
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

describe('signatureOf', () => {
  it('joins normalised pieces, drops empty and repeated ones', () => {
    expect(signatureOf(['The command execution exit code is not zero.', '', undefined, 'df: /dev/vda1: No space left on device', 'df: /dev/vdb1: No space left on device'])).toBe(
      'The command execution exit code is not zero. | df: /dev/<*>: No space left on device',
    );
  });
  it('keeps the last piece however long the earlier ones are', () => {
    const noise = 'progress '.repeat(200);
    expect(signatureOf([noise, 'Error: cause alpha'])).not.toBe(signatureOf([noise, 'Error: cause beta']));
    expect(signatureOf([noise, 'Error: cause alpha']).endsWith('Error: cause alpha')).toBe(true);
  });
  it('is empty when there is no text', () => {
    expect(signatureOf(['', undefined])).toBe('');
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
    expect(redactSecrets('token: abc')).toBe('token: <redacted>');
  });
});
