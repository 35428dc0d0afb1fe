/**
 * The failure reader's memo of whole texts that repeat byte for byte (lib/causes/failure.ts, `ExactTextMemo`): a hit
 * returns exactly what a reading without the memo returns, texts that differ anywhere are read apart, and what it keeps
 * is bounded.
 */
import { describe, expect, it } from 'vitest';
import { createFailureReader, type FailureText } from '../../lib/causes/failure';
import { maskSecrets } from '../../lib/causes/secrets';

/** What a reading says, as plain data (the example as the aggregation asks for it). */
function plain(text: FailureText): unknown {
  return { candidates: text.candidates, example: text.example(2048), errorCode: text.errorCode, exitCode: text.exitCode };
}

/** An output of a fleet's failing script, varied by `n` in one place. */
function output(n: number, where: 'start' | 'middle' | 'end'): string {
  const lines = ['Downloading agent 1.4.2 ...', 'Unpacking into /opt/agent', 'E: Unable to locate package agent-plugin', 'cleaning up', 'step install failed with exit code 100'];
  if (where === 'start') lines[0] = `Downloading agent 1.4.${n} ...`;
  if (where === 'middle') lines[2] = `E: Unable to locate package agent-plugin-${n}`;
  if (where === 'end') lines[4] = `step install failed with exit code ${n}`;
  return `${lines.join('\n')}\n`;
}

describe('createFailureReader: the memo of whole texts', () => {
  it('returns on a hit exactly what a reader without the memo returns (ECS, cut ECS, ErrorInfo, OOS)', () => {
    // Prepare: the same texts, each read four times in turn, by a reader with the memo and by one without.
    const texts = [output(1, 'middle'), output(2, 'middle'), output(1, 'end'), 'no newline at the end: permission denied', ''];
    const withMemo = createFailureReader();
    const without = createFailureReader({ memoChars: 0 });
    for (let round = 0; round < 4; round++) {
      for (const t of texts) {
        // Act
        const ecs = withMemo.ecs('The command execution exit code is not zero.', t);
        const cut = withMemo.ecs('', t, true);
        const oos = withMemo.oos(`Task 'runCommand' failed: ExitCodeNonzero: The command execution exit code is not zero. (InstanceId: i-${round}, ExitCode: 2)`, JSON.stringify({ invocationOutput: t, exitCode: 2 }));
        // Assess
        expect(plain(ecs)).toEqual(plain(without.ecs('The command execution exit code is not zero.', t)));
        expect(plain(cut)).toEqual(plain(without.ecs('', t, true)));
        expect(plain(oos)).toEqual(plain(without.oos(`Task 'runCommand' failed: ExitCodeNonzero: The command execution exit code is not zero. (InstanceId: i-${round}, ExitCode: 2)`, JSON.stringify({ invocationOutput: t, exitCode: 2 }))));
      }
    }
  });

  it('reads apart texts that differ in one character anywhere, however alike their fingerprints', () => {
    // Prepare: long texts that differ in one character only, at every position in turn (most positions are not
    // among those a fingerprint looks at).
    const base = `${'x'.repeat(300)}\nfatal: could not read config ${'y'.repeat(300)}\n`;
    const reader = createFailureReader();
    const plainReader = createFailureReader({ memoChars: 0 });
    for (let round = 0; round < 3; round++) {
      for (let at = 0; at < base.length; at += 7) {
        const text = `${base.slice(0, at)}${base[at] === 'Z' ? 'W' : 'Z'}${base.slice(at + 1)}`;
        // Act, Assess
        expect(plain(reader.ecs('', text))).toEqual(plain(plainReader.ecs('', text)));
        expect(plain(reader.ecs('', base))).toEqual(plain(plainReader.ecs('', base)));
      }
    }
  });

  it('shows secrets masked on a hit as on a miss: a repeated output never returns its secret', () => {
    // Prepare
    const text = 'mysql -uroot -phunter2 -e "select 1"\nERROR 1045 (28000): Access denied for user root\n';
    const reader = createFailureReader();
    for (let round = 0; round < 3; round++) {
      // Act
      const read = reader.ecs('', text);
      // Assess
      expect(JSON.stringify(plain(read))).not.toContain('hunter2');
      expect(read.candidates[0]?.raw).toBe('ERROR 1045 (28000): Access denied for user root');
    }
  });

  it('keeps reading right as it turns over many times, and reads a text longer than its bound each time', () => {
    // Prepare: a small memo, and many different texts (each seen twice, so that each is kept) larger than a tenth of it.
    const reader = createFailureReader({ memoChars: 40_000 });
    const plainReader = createFailureReader({ memoChars: 0 });
    const big = (n: number) => `${'progress line\n'.repeat(300)}E: Unable to locate package p${n}\n`;
    for (let n = 0; n < 2000; n++) {
      // Act
      reader.ecs('', big(n));
      const again = reader.ecs('', big(n));
      // Assess: still right after the memo turned over many times
      if (n % 250 === 0) expect(plain(again)).toEqual(plain(plainReader.ecs('', big(n))));
    }
    // Assess: a text longer than the memo's half is read each time, and rightly.
    const huge = `${'x'.repeat(30_000)}\nfatal: disk full\n`;
    expect(plain(reader.ecs('', huge))).toEqual(plain(plainReader.ecs('', huge)));
    expect(reader.ecs('', huge)).not.toBe(reader.ecs('', huge));
  });

  it('a repeated text is read once more, then served: the third reading is the second one', () => {
    // Prepare
    const reader = createFailureReader();
    const text = output(7, 'middle');
    // Act
    const first = reader.ecs('', text);
    const second = reader.ecs('', text);
    const third = reader.ecs('', text);
    // Assess: the first sighting keeps nothing of the text; the second reading is kept and served from then on.
    expect(second).not.toBe(first);
    expect(third).toBe(second);
    expect(reader.ecs('', `${text} `)).not.toBe(second);
  });
});

describe('createFailureReader: an OOS `Outputs` in each of its forms', () => {
  it('reads its text and its exit code whether it is a JSON string, an object, broken JSON, an array or plain text', () => {
    // Prepare
    const reader = createFailureReader();
    const message = "Task 'runCommand' failed: ExitCodeNonzero: The command execution exit code is not zero. (InstanceId: i-1, ExitCode: 9)";
    const read = (outputs: unknown) => {
      const t = reader.oos(message, outputs);
      return { exitCode: t.exitCode, line: t.candidates[0]?.raw };
    };
    // Act, Assess: the exit code the outputs state wins over the message's; text that is not JSON is read as it is.
    expect(read(JSON.stringify({ invocationOutput: 'E: Unable to locate package foo\n', exitCode: 100 }))).toEqual({ exitCode: 100, line: 'E: Unable to locate package foo' });
    expect(read(`  ${JSON.stringify({ invocationOutput: 'fatal: bad object\n', ExitCode: '3' })}  `)).toEqual({ exitCode: 3, line: 'fatal: bad object' });
    expect(read({ invocationOutput: 'E: Unable to locate package bar\n', exit_code: 4 })).toEqual({ exitCode: 4, line: 'E: Unable to locate package bar' });
    expect(read('{"invocationOutput": "fatal: cut JSON')).toEqual({ exitCode: 9, line: '{"invocationOutput": "fatal: cut JSON' });
    expect(read('["fatal: one", "error: two"]')).toEqual({ exitCode: 9, line: 'error: two' });
    expect(read('fatal: plain text\n')).toEqual({ exitCode: 9, line: 'fatal: plain text' });
  });
});

describe('createFailureReader: one pass masks the output and finds the lines with error stems', () => {
  it('reads every text as the plain path does (masking, then its own scans), hostile and random texts included', () => {
    // Prepare: the default reader (one pass masks and finds the stems' lines and control characters) and one given the
    // masker as an option (which masks, then scans the masked text itself); texts with secrets (the masking changes
    // them), control characters, redraws, colour codes, structured lines, headers, and random ones.
    const fused = createFailureReader({ memoChars: 0 });
    const plainPath = createFailureReader({ memoChars: 0, maskSecrets });
    const texts = [
      'Downloading 10% ...\nE: Unable to locate package foo\ncleanup done\n',
      'mysql -uroot -phunter2 -e "select 1"\nERROR 1045 (28000): Access denied for user root\n',
      'token=ghp_aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz12\nfatal: could not read Username\n',
      'progress\r50%\r100%\nerror: disk full\n',
      '\u001b[31mERROR\u001b[0m: connection refused\n',
      'a\u0000b\u0007 failed\n\u007f',
      '{"level":"error","msg":"request failed","error":"dial tcp 10.0.0.1:5432: connect: connection refused"}\n',
      '2026-12-07T10:00:00Z web-1 app[12]: timeout after 30s\n2026-12-07T10:00:01Z web-1 app[12]: giving up\n',
      '密码: hunter2\n口令=abc failed\n',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nssh: permission denied\n',
      '\ufdd0 protected \ufdd1 cannot open\n',
      '',
      '\n\n\n',
      'no newline at the end: permission denied',
    ];
    let seed = 17;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const pieces = ['error', 'Err', ' not ', 'failed', ':', ' ', '\n', '\r', '\t', '\u001b[0m', '\u0000', 'key=', 'password=', 'ghp_', 'aB3dE5fG7hJ9kL1mN2pQ4rS6', 'E: ', 'x', '2026-12-07 10:00:00 ', 'host1 ', '%', '...', '^^^', '密码', '{"msg":"', '"}', 'é', 'can\'t', 'Traceback', '  at f (x.js:1:2)'];
    for (let k = 0; k < 400; k++) {
      let text = '';
      const n = Math.floor(random() * 60);
      for (let i = 0; i < n; i++) text += pieces[Math.floor(random() * pieces.length)] ?? '';
      texts.push(text);
    }
    for (const t of texts) {
      // Act, Assess
      expect(plain(fused.ecs('', t))).toEqual(plain(plainPath.ecs('', t)));
      expect(plain(fused.ecs('', t, true))).toEqual(plain(plainPath.ecs('', t, true)));
      expect(plain(fused.oos('', JSON.stringify({ invocationOutput: t, exitCode: 1 })))).toEqual(plain(plainPath.oos('', JSON.stringify({ invocationOutput: t, exitCode: 1 }))));
    }
  });
});
