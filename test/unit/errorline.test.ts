/**
 * Finding the error line of a multi-line output (lib/causes/errorline.ts) and grouping failures by it
 * (lib/causes/failure.ts): each extraction rule, boilerplate and variable detection, keys across script shapes.
 */
import { describe, expect, it } from 'vitest';
import { errorTemplate, findErrorLines, lineStrength, outputLines, sameButNumbers } from '../../lib/causes/errorline';
import { CauseGrouper, createFailureReader } from '../../lib/causes/failure';
import { errorLine, groupOutputs } from '../helpers/causes';

/** Groups outputs as one invocation (status Failed, exit code 1 unless given). */
const group = (outputs: readonly string[], exitCode: number | null = 1) => groupOutputs(outputs, exitCode);

describe('findErrorLines: where the error line stands', () => {
  it.each([
    [
      'Python traceback: the exception line below the frames, not the source line or its caret underline',
      'Traceback (most recent call last):\n  File "/srv/job.py", line 9, in <module>\n    main()\n  File "/srv/job.py", line 5, in main\n    print(cfg["region"])\n          ~~~^^^^^^^^^^\nKeyError: \'region\'\n',
      "KeyError: 'region'",
    ],
    [
      "Node: the error above its stack, not the source excerpt, the frames or the runtime's footer",
      "/srv/app/index.js:3\nconst x = cfg.db.host;\n                 ^\n\nTypeError: Cannot read properties of undefined (reading 'host')\n    at Object.<anonymous> (/srv/app/index.js:3:18)\n    at node:internal/main/run_main_module:28:49\n\nNode.js v20.20.2\n",
      "TypeError: Cannot read properties of undefined (reading 'host')",
    ],
    [
      'Java: the root cause (the last `Caused by:`) rather than the wrapper, frames and `... N more` skipped',
      'Exception in thread "main" java.lang.IllegalStateException: startup failed\n\tat App.main(App.java:12)\nCaused by: java.io.FileNotFoundException: /etc/app/agent.toml (No such file or directory)\n\tat java.base/java.io.FileInputStream.open0(Native Method)\n\t... 3 more\n',
      'Caused by: java.io.FileNotFoundException: /etc/app/agent.toml (No such file or directory)',
    ],
    ['Go: the panic, not `exit status 2` after the goroutine dump', 'panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/tmp/x.go:5 +0x1d\nexit status 2\n', 'panic: runtime error: index out of range [5] with length 3'],
    [
      '.NET: the unhandled exception',
      "Unhandled exception. System.IO.DirectoryNotFoundException: Could not find a part of the path '/data/in'.\n   at System.IO.FileSystem.Open(String path)\n   at Program.Main() in /src/Program.cs:line 8\n",
      "Unhandled exception. System.IO.DirectoryNotFoundException: Could not find a part of the path '/data/in'.",
    ],
    [
      "PowerShell: the error record's message, not its position, excerpt or detail lines",
      "Get-Item : Cannot find path 'C:\\app\\x.txt' because it does not exist.\nAt line:1 char:1\n+ Get-Item C:\\app\\x.txt\n+ ~~~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : ObjectNotFound: (C:\\app\\x.txt:String) [Get-Item], ItemNotFoundException\n    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand\n",
      "Get-Item : Cannot find path 'C:\\app\\x.txt' because it does not exist.",
    ],
    ['shell diagnostic after progress lines', 'Downloading pkg 1.2.3 ...\n  45% [#####] 300 kB/s\n/tmp/deploy.sh: line 12: jq: command not found\n', '/tmp/deploy.sh: line 12: jq: command not found'],
    ['`E:` of apt above a status line', 'Reading package lists...\nE: Unable to locate package nginx-extra\nDone\n', 'E: Unable to locate package nginx-extra'],
    ['`fatal:` of git', "Cloning into 'app'...\nfatal: repository 'https://git.example.com/app.git/' not found\n", "fatal: repository 'https://git.example.com/app.git/' not found"],
    ['`ERROR` of a log line', 'INFO starting sync\nERROR sync failed: bucket missing\nINFO shutting down\n', 'ERROR sync failed: bucket missing'],
    ['a compiler diagnostic with a location', 'main.c: In function main:\nmain.c:3:5: error: unknown type name foo\n    3 |     foo x;\n      |     ^~~\n', 'main.c:3:5: error: unknown type name foo'],
    ['an error word when nothing says more, over a later status line', 'connecting\nconnect to 10.0.0.5 port 22 failed: Connection refused\ndone\n', 'connect to 10.0.0.5 port 22 failed: Connection refused'],
    ['the last line when no line holds an error word', 'step 1\nstep 2 of 3: waiting for lock\n', 'step 2 of 3: waiting for lock'],
    ['a warning is not the error', 'E: Package foo has no installation candidate\nW: Some index files failed to download.\n', 'E: Package foo has no installation candidate'],
    [
      'a heading that ends in a colon takes its message from the next line (Rust)',
      "thread 'main' (4242) panicked at src/main.rs:7:66:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
      "thread 'main' (4242) panicked at src/main.rs:7:66: called `Option::unwrap()` on a `None` value",
    ],
    [
      'the first line of a block under one level prefix states the error, the rest are details',
      'npm error Missing script: "bundle"\nnpm error\nnpm error To see a list of scripts, run:\nnpm error   npm run\nnpm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log\n',
      'npm error Missing script: "bundle"',
    ],
    ["a command's diagnostic without an error word, over a child's exit status", 'gzip: stdin: not in gzip format\ntar: Child returned status 1\n', 'gzip: stdin: not in gzip format'],
  ])('%s', (_what, output, expected) => {
    // Prepare: the output above; Act
    const line = errorLine(output);
    // Assess
    expect(line).toBe(expected);
  });

  it('cuts the per-line header: timestamp, host and prog[pid]: tags', () => {
    // Prepare: the same output bare and with every line prefixed
    const stamped = '2026-12-07T10:00:00Z web-3 starting\n2026-12-07T10:00:01Z web-3 E: Unable to locate package nginx-extra\n2026-12-07T10:00:01Z web-3 done\n';
    const syslog = 'Dec  7 10:00:01 web-3 deploy[4242]: E: Unable to locate package nginx-extra\n';
    // Act, Assess
    expect(errorLine(stamped)).toBe('E: Unable to locate package nginx-extra');
    expect(errorLine(syslog)).toBe('E: Unable to locate package nginx-extra');
  });

  it('keeps the indentation after a header, so a prefixed stack frame is still a frame', () => {
    // Prepare
    const output = ['TypeError: x is not a function', '    at main (/srv/a.js:1:1)', '    at run (/srv/error-handler.js:9:3)'].map((l) => `2026-12-07 10:00:00 web-1 ${l}`).join('\n');
    // Act, Assess
    expect(findErrorLines(outputLines(output).read).map((f) => f.content)).toEqual(['TypeError: x is not a function']);
  });

  it('finds the error at the end of a line longer than any window (issue 21)', () => {
    // Prepare: a single 100 KB line ending in two different errors
    const a = `${'x'.repeat(100_000)} Error: disk full on /dev/vda1`;
    const b = `${'x'.repeat(100_000)} Error: certificate expired`;
    // Act
    const [ga, gb] = group([a, b]);
    // Assess: each keeps its own error, so they are two causes
    expect(ga?.title).toContain('disk full');
    expect(gb?.title).toContain('certificate expired');
    expect(ga?.key).not.toBe(gb?.key);
  });

  it("drops the cut last line of an output the API truncated", () => {
    // Prepare: an output cut in the middle of a line
    const reader = createFailureReader();
    const output = 'processed batch 1/9 (rows=12)\nprocessed batch 2/9 (rows=7)\npro';
    // Act
    const cut = reader.ecs('', output, true).candidates[0]?.template;
    const whole = reader.ecs('', output, false).candidates[0]?.template;
    // Assess
    expect(cut).toBe('processed batch <*>/9 (rows=<*>)');
    expect(whole).toBe('pro');
  });

  it('ranks by strength: a stated error over an error word over plain text', () => {
    expect(lineStrength('KeyError: x', 'KeyError: x')).toBe(3);
    expect(lineStrength('curl: (7) Failed to connect', 'curl: (7) Failed to connect')).toBe(2);
    expect(lineStrength('health check failed after 3 attempts', 'health check failed after 3 attempts')).toBe(1);
    expect(lineStrength('Unpacking foo (1.2) ...', 'Unpacking foo (1.2) ...')).toBe(0);
    expect(lineStrength('at main (/a.js:1:1)', '    at main (/a.js:1:1)')).toBe(-1);
    expect(lineStrength('~~~^^^', '          ~~~^^^')).toBe(-1);
    expect(lineStrength('Node.js v20.20.2', 'Node.js v20.20.2')).toBe(-1);
  });
});

describe('errorTemplate: what of an error line is mined', () => {
  it.each([
    ['a step counter in front is status', '[2/3] check-env', 'check-env'],
    ['a step counter with a word', 'attempt 2/5: check-env', 'check-env'],
    ["a shell's job report keeps the signal, not the script's command", '28325 Killed                  ( echo "waiting"; timeout -s KILL 0.4 tail -f /dev/null )', 'Killed'],
    ['the shell script prefix goes: the same error from two scripts is one template', '/tmp/a.sh: line 12: jq: command not found', 'jq: command not found'],
    ['dash prefix', 'sh: 1: jq: not found', 'jq: not found'],
    ["a program's own `line N:` is not a shell's script prefix", 'awk: line 1: missing ) near }', 'awk: line <*>: missing ) near }'],
    ['quoted values are variables', "KeyError: 'region'", "KeyError: '<*>'"],
    ['a path keeps its root and the type of its file', 'cat: /etc/app/agent.toml: No such file or directory', 'cat: /etc/<*>.toml: No such file or directory'],
    ['a path without an extension', 'bash: /opt/tool/bin/run: Permission denied', 'bash: /opt/<*>: Permission denied'],
    ['numbers, addresses', 'curl: (7) Failed to connect to 10.0.0.5 port 8080: Connection refused', 'curl: (<*>) Failed to connect to <*> port <*>: Connection refused'],
    ["a file's name without a folder keeps its type only", 'west.c: In function ‘main’:', "<*>.c: In function '<*>':"],
    ['a file name with a version and two types', 'xz: app-1.2.tar.xz: File format not recognized', 'xz: <*>.xz: File format not recognized'],
    ['dotted names that are not files are kept', 'java.io.FileNotFoundException: x (No such file or directory)', 'java.io.FileNotFoundException: x (No such file or directory)'],
  ])('%s', (_what, line, expected) => {
    expect(errorTemplate(line)).toBe(expected);
  });
});

describe('findErrorLines: one scan of the whole text', () => {
  it('reads a long output of repeated error words at its ends: the error below them, the one above them', () => {
    // Prepare: 600 retry lines with error words, the stated error after them; and another error above them
    const retries = Array.from({ length: 600 }, (_v, i) => `retry ${i}: request failed, will retry`).join('\n');
    const below = `${retries}\nE: Unable to locate package nginx-extra\n`;
    const above = `Error: EACCES: permission denied, open '/srv/app.log'\n${retries}\n`;
    // Act
    const foundBelow = findErrorLines(outputLines(below).read, 5).map((f) => f.content);
    const foundAbove = findErrorLines(outputLines(above).read, 5).map((f) => f.content);
    // Assess
    expect(foundBelow[0]).toBe('E: Unable to locate package nginx-extra');
    expect(foundAbove[0]).toBe("Error: EACCES: permission denied, open '/srv/app.log'");
  });

  it('finds the same lines with the whole text scanned at once as line by line', () => {
    // Prepare: outputs of every kind the fixture above and the rules name, with headers, frames, trailers
    const outputs = [
      'Traceback (most recent call last):\n  File "/srv/job.py", line 9, in <module>\nKeyError: \'region\'\n',
      '2026-12-07T10:00:00Z web-1 starting\n2026-12-07T10:00:01Z web-1 E: Unable to locate package foo\n2026-12-07T10:00:02Z web-1 done\n',
      'Dec  7 10:00:01 db-err-2 deploy.sh[12]: gzip: stdin: not in gzip format\nDec  7 10:00:01 db-err-2 deploy.sh[12]: tar: Child returned status 1\n',
      'west.c: In function ‘main’:\nwest.c:5:24: error: ‘x’ undeclared (first use in this function)\n    5 |  x;\n      |  ^\n',
      'requireStack: [ \'/srv/a.js\' ]\nexited with code 3\n[E] something odd\n',
    ];
    for (const output of outputs) {
      const { read, text } = outputLines(output);
      // Act
      const whole = findErrorLines(read, 5, text);
      const byLine = findErrorLines(read, 5);
      // Assess
      expect(text).toBeDefined();
      expect(whole).toEqual(byLine);
    }
  });
});

describe('sameButNumbers: two lines equal once each run of digits is one 0, compared in place', () => {
  it('says what comparing the lines with their digit runs replaced says (random texts)', () => {
    // Prepare: short texts of digits, letters, digits outside ASCII and other characters, many alike.
    let seed = 3;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const alphabet = '0123456789aa0 :é٣\u0000';
    const text = () => Array.from({ length: Math.floor(random() * 9) }, () => alphabet[Math.floor(random() * alphabet.length)] ?? '').join('');
    for (let k = 0; k < 5000; k++) {
      const a = text();
      const b = random() < 0.3 ? a.replace(/\d/g, (d) => String((Number(d) + 1) % 10)) : text();
      // Act, Assess
      expect(sameButNumbers(a, b)).toBe(a.replace(/\d+/g, '0') === b.replace(/\d+/g, '0'));
    }
    expect(sameButNumbers('retry 1 of 3 failed', 'retry 22 of 3 failed')).toBe(true);
    expect(sameButNumbers('retry 1 of 3 failed', 'retry 1 of 3 failed!')).toBe(false);
    expect(sameButNumbers('a1', 'a')).toBe(false);
  });
});

describe('CauseGrouper: one cause per error line, decided over the whole invocation', () => {
  it("OOS: the service's generic message titles an empty output only, never an output that printed something", () => {
    // Prepare: the same generic StatusMessage over empty outputs and over outputs whose error the cut dropped
    const reader = createFailureReader();
    const grouper = new CauseGrouper();
    const message = (i: number) => `Task 'runCommand' failed: ExitCodeNonzero: The command execution exit code is not zero. (InstanceId: i-${i}, ExitCode: 1)`;
    const texts = [0, 1, 2, 3].flatMap((n) => [
      reader.oos(message(n), JSON.stringify({ invocationOutput: '', exitCode: 1 })),
      reader.oos(message(n + 10), JSON.stringify({ invocationOutput: `processed batch ${n}/40 (rows=${n * 7}, 31 ms)\nprocessed batch ${n + 1}/40 (rows=${n * 3}, 40 ms)\n`, exitCode: 1 })),
    ]);
    const ids = texts.map((t) => grouper.add('Failed', t.errorCode ?? '', t.exitCode ?? null, t));
    // Act
    const causeOf = grouper.finish();
    // Assess: two causes, the empty outputs under the message, the others under their own last line
    const titles = ids.map((id) => causeOf(id).title);
    expect(new Set(titles.filter((_t, i) => i % 2 === 0))).toEqual(new Set(['The command execution exit code is not zero.']));
    expect(new Set(titles.filter((_t, i) => i % 2 === 1)).size).toBe(1);
    expect(titles[1]).not.toBe(titles[0]);
  });

  it("a tool's generic last line is boilerplate even when one of the causes it follows failed only once", () => {
    // Prepare: three failures of one cause, one of another, all ending in the tool's generic line
    const outputs = [0, 1, 2].map((n) => `Could not open file or uri for loading certificate from /etc/ssl/app${n}/tls.crt\nUnable to load certificate\n`);
    outputs.push('Could not read certificate from media.pem\nUnable to load certificate\n');
    // Act
    const causes = group(outputs);
    // Assess: two causes; the one that failed once keeps its own line
    expect(new Set(causes.map((c) => c.key)).size).toBe(2);
    expect(causes[3]?.title).toBe('Could not read certificate from <*>.pem');
  });

  it("a script trailer's lines with error words do not crowd out the error: five candidates are read", () => {
    // Prepare: two causes of one tool that both end in its generic line, each behind a three-line trailer
    const trailer = (rc: number) => `!! deploy aborted in stage certs (rc=${rc})\nposting failure to #ops-alerts\nlock /var/lock/deploy.lock released\n`;
    const outputs: string[] = [];
    for (let n = 0; n < 4; n++) {
      outputs.push(`Could not open file or uri for loading certificate from /etc/ssl/app${n}/tls.crt\nUnable to load certificate\n${trailer(1)}`);
      outputs.push(`Could not read certificate from app${n}.pem\nUnable to load certificate\n${trailer(1)}`);
    }
    // Act
    const causes = group(outputs);
    // Assess: two causes, each titled by its own line
    expect(new Set(causes.map((c) => c.key)).size).toBe(2);
    expect([...new Set(causes.map((c) => c.title))].sort()).toEqual(['Could not open file or uri for loading certificate from /etc/<*>.crt', 'Could not read certificate from <*>.pem']);
  });

  it('a trailer printed after every failure is boilerplate: each failure keeps its own error line', () => {
    // Prepare: three causes, each printed by a script whose trap prints the same trailer, 4 instances each
    const trailer = (step: string) => `cleaning up\nERROR: step '${step}' failed, see the log\n`;
    const outputs: string[] = [];
    for (let n = 0; n < 4; n++) {
      outputs.push(`curl: (7) Failed to connect to 10.0.0.${n} port 80: Connection refused\n${trailer('fetch')}`);
      outputs.push(`tar: app-${n}.tgz: Cannot open: No such file or directory\n${trailer('unpack')}`);
      outputs.push(`Error: EACCES: permission denied, open '/srv/app/${n}.log'\n${trailer('start')}`);
    }
    // Act
    const causes = group(outputs);
    // Assess: three causes, titled by their error lines, never by the trailer
    expect(new Set(causes.map((c) => c.key)).size).toBe(3);
    expect([...new Set(causes.map((c) => c.title))].sort()).toEqual([
      "Error: EACCES: permission denied, open '<*>'",
      'curl: (<*>) Failed to connect to <*> port <*>: Connection refused',
      'tar: <*>.tgz: Cannot open: No such file or directory',
    ]);
  });

  it('a wrapper exception over different root causes is boilerplate too', () => {
    // Prepare: the same wrapper line above two different root causes
    const outputs: string[] = [];
    for (let n = 0; n < 3; n++) {
      outputs.push(`Error: job failed\nCaused by: ConnectionError: timed out after ${n + 5}s`);
      outputs.push(`Error: job failed\nCaused by: PermissionError: /data/${n} is read-only`);
    }
    // Act
    const titles = new Set(group(outputs).map((c) => c.title));
    // Assess
    expect(titles).toEqual(new Set(['Caused by: ConnectionError: timed out after <*>', 'Caused by: PermissionError: /data/<*> is read-only']));
  });

  it('peels trailers in layers: a script trailer beside every cause, then a tool trailer beside its few', () => {
    // Prepare: tar's own trailer follows its two causes; the script's trap trailer follows every cause
    const trap = (code: number) => `cleaning up\nstep 'deploy' failed with exit code ${code}\n`;
    const outputs: string[] = [];
    for (let n = 0; n < 3; n++) {
      outputs.push(`tar (child): /srv/r-${n}.tgz: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n${trap(2)}`);
      outputs.push(`gzip: stdin: not in gzip format\ntar: Error is not recoverable: exiting now\n${trap(2)}`);
      outputs.push(`curl: (6) Could not resolve host: h${n}.example.com\n${trap(6)}`);
      outputs.push(`E: Unable to locate package p${n}x\n${trap(100)}`);
    }
    // Act
    const titles = new Set(group(outputs).map((c) => c.title));
    // Assess
    expect(titles).toEqual(
      new Set([
        'tar (child): /srv/<*>.tgz: Cannot open: No such file or directory',
        'gzip: stdin: not in gzip format',
        'curl: (<*>) Could not resolve host: <*>.com',
        'E: Unable to locate package <*>',
      ]),
    );
  });

  it('a line that stands beside one error line only is not boilerplate', () => {
    // Prepare: one cause whose output always holds the same two error lines
    const outputs = Array.from({ length: 5 }, (_, n) => `error: build ${n} failed\nfatal: out of disk space`);
    // Act
    const causes = group(outputs);
    // Assess: one cause, its last stated error
    expect(new Set(causes.map((c) => c.key)).size).toBe(1);
    expect(causes[0]?.title).toBe('fatal: out of disk space');
  });

  it('values that vary at one position are variables, digits or not', () => {
    // Prepare: one cause with many different names (no digits) at one position
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
    const outputs = names.map((n) => `Failed to start ${n}.service: Unit ${n}.service not found.`);
    // Act
    const causes = group(outputs);
    // Assess
    expect(new Set(causes.map((c) => c.key)).size).toBe(1);
  });

  it('never takes a word of the error vocabulary, a code or a path for a value', () => {
    // Prepare: templates that differ in one word each, which names the kind of failure
    const outputs = [
      ...Array.from({ length: 3 }, () => 'Error: connection refused by upstream'),
      ...Array.from({ length: 3 }, () => 'Error: connection reset by upstream'),
      ...Array.from({ length: 3 }, () => 'npm ERR! code E404'),
      ...Array.from({ length: 3 }, () => 'npm ERR! code ENOENT'),
      ...Array.from({ length: 3 }, () => 'bash: /etc/app/agent.toml: No such file or directory'),
      ...Array.from({ length: 3 }, () => 'bash: /usr/local/bin/agent: No such file or directory'),
    ];
    // Act
    const keys = new Set(group(outputs).map((c) => c.key));
    // Assess
    expect(keys.size).toBe(6);
  });

  it('keeps look-alike causes apart: different messages, different exit codes', () => {
    // Prepare
    const refused = Array.from({ length: 4 }, (_, n) => `curl: (7) Failed to connect to 10.0.0.${n} port 80: Connection refused`);
    const timedOut = Array.from({ length: 4 }, (_, n) => `curl: (28) Failed to connect to 10.0.0.${n} port 80 after 3000 ms: Timeout was reached`);
    // Act
    const keys = group([...refused, ...timedOut]).map((c) => c.key);
    const killed = group(['Killed'], 137)[0]?.key;
    const timeout = group(['Killed'], 124)[0]?.key;
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(new Set(keys.slice(4)).size).toBe(1);
    expect(keys[0]).not.toBe(keys[4]);
    expect(killed).not.toBe(timeout);
  });

  it('gives the same key to the same error whatever script printed it, in every archive', () => {
    // Prepare: one error bare, after progress, timestamp-prefixed, and before a trailer, in separate invocations
    const error = (n: number) => `/tmp/job-${n}.sh: line ${n + 3}: jq: command not found`;
    const shapes = [
      (n: number) => `${error(n)}\n`,
      (n: number) => `Downloading pkg-${n}.2 ...\n  ${n * 10}% [###]\n${error(n)}\n`,
      (n: number) => `2026-12-07T10:00:0${n}Z web-${n} step 1\n2026-12-07T10:00:0${n}Z web-${n} ${error(n)}\n`,
      (n: number) => `${error(n)}\ncleaning up /tmp/work-${n}\n`,
    ];
    // Act: each shape alone
    const keys = shapes.map((shape) => new Set(group([0, 1, 2, 3].map(shape)).map((c) => c.key)));
    // Assess: one key, the same in all four
    for (const k of keys) expect(k.size).toBe(1);
    expect(new Set(keys.map((k) => [...k][0])).size).toBe(1);
  });

  it('keeps nothing per failure: the provisional groups of 20,000 failures of 3 causes stay few', () => {
    // Prepare
    const reader = createFailureReader();
    const grouper = new CauseGrouper();
    const ids = new Set<number>();
    // Act
    for (let n = 0; n < 20_000; n++) {
      const output = [`Downloading part ${n} (${n % 97}%)`, `E: Unable to fetch archive-${n}.deb`, `curl: (6) Could not resolve host: mirror-${n}.example.com`, `KeyError: 'k${n}'`][1 + (n % 3)];
      ids.add(grouper.add('Failed', 'ExitCodeNonzero', 1, reader.ecs('', output ?? '')));
    }
    const causeOf = grouper.finish();
    // Assess
    expect(ids.size).toBeLessThan(20);
    expect(new Set([...ids].map((id) => causeOf(id).key)).size).toBe(3);
  });
});

describe('rules from the second development set (dev2): other programs, other wrapper styles', () => {
  it("cuts a fleet shell's header written host first (`web-17: 2026-12-05 22:19:20.819 `), even on a one-line output", () => {
    // Prepare: a pdsh/clush-style prefix on every line, and an output of one line
    const many = 'web-17: 2026-12-05 22:19:20.819   checksum ok (sha256 d29b)\nweb-17: 2026-12-05 22:19:21.447 sysctl: permission denied on key "vm.swappiness"\n';
    const one = 'db-primary: 2026-12-05 22:19:21.049 sysctl: permission denied on key "fs.file-max"\n';
    // Act
    const lines = [errorLine(many), errorLine(one)];
    const keys = new Set(group([many, one, 'sysctl: permission denied on key "net.core.somaxconn"\n']).map((c) => c.key));
    // Assess: the header is gone, and the three are one cause with the bare output
    expect(lines).toEqual(['sysctl: permission denied on key "vm.swappiness"', 'sysctl: permission denied on key "fs.file-max"']);
    expect(keys.size).toBe(1);
  });

  it('keeps a level word or a glog level before a timestamp: they belong to the message, they are no host', () => {
    // Prepare: log4j's `%p %d` lines and klog's `E1207 10:00:01.123456` lines
    const log4j = 'ERROR 2026-12-07 10:00:00,123 [main] db: connection refused\nERROR 2026-12-07 10:00:01,123 [main] db: giving up\n';
    const klog = 'E1207 10:00:01.123456   12345 memcache.go:265] "Unhandled Error" err="connection refused"\nE1207 10:00:02.123456   12345 memcache.go:265] "Unhandled Error" err="connection refused"\n';
    // Act
    const lines = findErrorLines(outputLines(log4j).read).map((l) => l.content);
    const klogLine = errorLine(klog);
    // Assess
    expect(lines).toContain('ERROR 2026-12-07 10:00:00,123 [main] db: connection refused');
    expect(klogLine?.startsWith('E1207 ')).toBe(true);
  });

  it('a line that only reports a command ended with a status says less than the error, even behind ERROR:', () => {
    // Prepare: an ERR trap naming the failed command, after the tool's own message
    const output = (cmd: string, msg: string) => `job 21944: unpack on web-3\n${msg}\nERROR: command "${cmd}" exited with status 1 (line 13)\nrollback: restoring /srv/app/previous\n`;
    const zstd = [1, 2, 3].map((n) => output(`zstd -d -f app-${n}.tar.zst -o /tmp/out.tar`, `zstd: app-${n}.tar.zst: unsupported format`));
    const nc = [1, 2, 3].map((n) => output(`nc -v -w 2 -z db-${n}.invalid 5432`, `nc: getaddrinfo for host "db-${n}.invalid" port 5432: Name or service not known`));
    // Act
    const report = lineStrength('ERROR: command "tar -xzf a.tgz" exited with status 2 (line 12)', 'ERROR: command "tar -xzf a.tgz" exited with status 2 (line 12)');
    const stated = lineStrength('ERROR: deploy failed with exit code 2', 'ERROR: deploy failed with exit code 2');
    const titles = new Set(group([...zstd, ...nc]).map((c) => c.title));
    // Assess: the report ranks below a stated error; each cause is titled by its tool's message
    expect(report).toBeLessThan(1);
    expect(stated).toBe(3);
    expect(titles).toEqual(new Set(['zstd: <*>.zst: unsupported format', 'nc: getaddrinfo for host "<*>" port <*>: Name or service not known']));
  });

  it('reads a message wrapped under its heading as one message, wherever the wrap falls', () => {
    // Prepare: CMake's wrapped paragraphs, whose line breaks move with the package name's length
    const cmake = (pkg: string) => {
      const words = `By not providing "Find${pkg}.cmake" in CMAKE_MODULE_PATH this project has asked CMake to find a package configuration file provided by "${pkg}", but CMake did not find one.`.split(' ');
      const second = `Could not find a package configuration file provided by "${pkg}" with any of the following names:`.split(' ');
      const wrap = (ws: string[]) => {
        const out: string[] = [];
        let line = '';
        for (const w of ws) {
          if (line && line.length + w.length + 1 > 74) {
            out.push(`  ${line}`);
            line = w;
          } else line = line ? `${line} ${w}` : w;
        }
        return [...out, `  ${line}`].join('\n');
      };
      return `CMake Error at CMakeLists.txt:4 (find_package):\n${wrap(words)}\n\n${wrap(second)}\n\n    ${pkg}Config.cmake\n\n-- Configuring incomplete, errors occurred!\n`;
    };
    const include = (f: string) => `CMake Error at CMakeLists.txt:3 (include):\n  include could not find requested file:\n\n    cmake/${f}.cmake\n\n\n-- Configuring incomplete, errors occurred!\n`;
    const outputs = ['Ledger', 'FleetSync', 'Protobuf2', 'LibArchiveX', 'GRPCx', 'Yaml-cpp3'].map(cmake);
    // Act
    const causes = group([...outputs, include('BlueDeps'), include('MainOptions'), include('WestToolchain')]);
    // Assess: the six are one cause under the heading and its whole first paragraph; the missing include is another
    expect(new Set(causes.slice(0, 6).map((c) => c.key)).size).toBe(1);
    expect(causes[0]?.title).toBe('CMake Error at <*>.txt:<*> (find_package): By not providing "<*>" in CMAKE_MODULE_PATH this project has asked CMake to find a package configuration file provided by "<*>", but CMake did not find one.');
    expect(new Set(causes.slice(6).map((c) => c.key)).size).toBe(1);
    expect(causes[6]?.key).not.toBe(causes[0]?.key);
  });

  it('a row of a status table under its column names is no error line; the error above it is', () => {
    // Prepare: steps run in turn, a summary table at the end; the failed step's row has a word of the error vocabulary
    const table = (step: string, rc: number) => `\nSTEP           STATUS       TIME\npreflight      ok           0s\n${step.padEnd(15)}FAILED (${rc})   0s\nrestart        skipped      -\nrun failed: 1 step failed\n`;
    const dig = [1, 2, 3].map((n) => `### resolve\n;; communications error to 127.0.0.${n}#3053${n}: connection refused\n;; no servers could be reached\n${table('resolve', 9)}`);
    const ip = [1, 2, 3].map((n) => `### network\nCannot find device "eth${n}"\n${table('network', 1)}`);
    const noHeader = 'preflight      ok           0s\nnetwork        FAILED (1)   0s';
    // Act
    const titles = group([...dig, ...ip]).map((c) => c.title);
    const rowAlone = findErrorLines(outputLines(noHeader).read)[0];
    // Assess: each cause titled by its own line, never by its row; a row with no header above it is read as it is
    expect(new Set(titles)).toEqual(new Set([';; communications error to <*>#<*>: connection refused', 'Cannot find device "<*>"']));
    expect(rowAlone?.strength).toBe(1);
  });

  it('keeps `bad minute` and `bad day-of-week` apart: the word after an error adjective names what is wrong', () => {
    // Prepare: crontab's two look-alike messages, three times each, and one message whose value varies
    const minute = [0, 1, 2].map(() => '"-":0: bad minute\nerrors in crontab file, can\'t install.\n');
    const dow = [0, 1, 2].map(() => '"-":1: bad day-of-week\nerrors in crontab file, can\'t install.\n');
    const names = ['alpha', 'bravo', 'charlie'].map((n) => `useradd: user ${n} exists already on this host\n`);
    // Act
    const keys = group([...minute, ...dow, ...names]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(new Set(keys.slice(3, 6)).size).toBe(1);
    expect(keys[0]).not.toBe(keys[3]);
    expect(new Set(keys.slice(6)).size).toBe(1);
  });

  it('keeps an option glued to its value: a missing library (`-lssl`) is not a missing object file', () => {
    // Prepare: the linker's two look-alike messages, each with eight different names
    const objects = ['alpha_net', 'blue_io', 'main', 'west_db', 'canary', 'delta_io', 'east', 'stage_net'].map((o) => `ld: cannot find build/${o}.o: No such file or directory\n`);
    const libs = ['ssl', 'warehouse_core', 'orders-client', 'geo', 'pq', 'ledger_core', 'yaml', 'z'].map((l) => `ld: cannot find -l${l}: No such file or directory\n`);
    // Act
    const causes = group([...objects, ...libs]);
    // Assess: two causes, each one key
    expect(new Set(causes.slice(0, 8).map((c) => c.key)).size).toBe(1);
    expect(new Set(causes.slice(8).map((c) => c.key)).size).toBe(1);
    expect(causes[8]?.title).toBe('ld: cannot find -l<*>: No such file or directory');
    expect(causes[0]?.key).not.toBe(causes[8]?.key);
    expect(errorTemplate('error: unexpected argument --port=8080 found')).toBe('error: unexpected argument --port=<*> found');
  });

  it('reads a structured (JSON) log line as its message: the same cause as the plain text, look-alikes apart', () => {
    // Prepare: a log shipper's JSON lines (every line `info`), an application's own structured error, plain text
    const shipped = (host: string, lines: string[]) => `${lines.map((msg, i) => JSON.stringify({ ts: `2026-12-07T10:00:0${i}.123Z`, host, level: 'info', msg })).join('\n')}\n`;
    const refusedJson = ['web-1', 'web-2', 'db-primary'].map((h, n) => shipped(h, ['probing backends', `nc: connect to 10.0.0.${n} port 5432 (tcp) failed: Connection refused`]));
    const unknownJson = ['web-3', 'api-7'].map((h, n) => shipped(h, [`nc: getaddrinfo for host "db-${n}.invalid" port 5432: Name or service not known`]));
    const refusedText = 'probing backends\nnc: connect to 10.0.0.9 port 5432 (tcp) failed: Connection refused\n';
    const app = '{"level":"error","ts":1765101600.1,"caller":"sync/run.go:88","msg":"sync failed","error":"open /etc/app/sync.yaml: no such file or directory"}\n';
    const data = '{"name":"orders","replicas":3}\n';
    // Act
    const keys = group([...refusedJson, refusedText, ...unknownJson]).map((c) => c.key);
    const appLine = findErrorLines(outputLines(app).read)[0];
    const dataLine = outputLines(data).read[0];
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(new Set(keys.slice(4)).size).toBe(1);
    expect(keys[0]).not.toBe(keys[4]);
    expect(appLine).toMatchObject({ strength: 3, content: 'ERROR: sync failed: open /etc/app/sync.yaml: no such file or directory' });
    expect(dataLine).toBe('{"name":"orders","replicas":3}');
  });

  it('paths under one root that differ only in their file type are one variable; other roots stay apart', () => {
    // Prepare: a missing key file with and without `.pub` (each twice, so the miner keeps its words as constants), and
    // the same message for paths under another root
    const missing = (path: string) => `ssh-keygen: ${path}: No such file or directory\n`;
    const home = ['/home/deploy/.ssh/id_rsa.pub', '/home/ci/.ssh/id_ed25519'].flatMap((f) => [missing(f), missing(f)]);
    const etc = ['/etc/ssh/ssh_host_rsa_key.pub'].flatMap((f) => [missing(f), missing(f)]);
    // Act
    const causes = group([...home, ...etc]);
    // Assess
    expect(new Set(causes.slice(0, 4).map((c) => c.key)).size).toBe(1);
    expect(causes[0]?.title).toBe('ssh-keygen: /home/<*>: No such file or directory');
    expect(new Set(causes.slice(4).map((c) => c.key)).size).toBe(1);
    expect(causes[4]?.key).not.toBe(causes[0]?.key);
  });
  it('a quoted value of several words is one value, and so is a duration in parts; a quoted message stays', () => {
    // Prepare: a custom error thrown by a node script (stack and caret lines around it) naming a release with spaces,
    // and a wait that gave up after a duration printed in parts; look-alikes: two quoted messages of error words
    const thrown = (name: string, channel: string) =>
      `looking up ${channel}\n/srv/app/publish.js:4\n  throw new ReleaseNotFound(\`release "\${name}" not found in channel ${channel}\`);\n  ^\n\nReleaseNotFound: release "${name}" not found in channel ${channel}\n    at find (/srv/app/publish.js:4:9)\n\nNode.js v20.19.0\n`;
    const releases = [thrown('backup', 'main'), thrown('backup', 'main'), thrown('draft q3 report final', 'east'), thrown('final copy', 'west'), thrown('east export backup quarterly v2', 'blue')];
    const waits = ['45s', '1m30s', '1h5m0s', '900ms'].map((d) => `waiting for gateway\nTimeoutError: gateway not ready after ${d} (3 attempts)\n`);
    const said = (m: string) => `calling the registry\nerror: upstream answered "${m}" for this request\n`;
    const refused = [said('connection refused by the peer host'), said('connection refused by the peer host')];
    const denied = [said('permission denied for this access token'), said('permission denied for this access token')];
    // Act
    const keys = group([...releases, ...waits, ...refused, ...denied]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 5)).size).toBe(1);
    expect(new Set(keys.slice(5, 9)).size).toBe(1);
    expect(keys[9]).toBe(keys[10]);
    expect(keys[11]).toBe(keys[12]);
    expect(keys[9]).not.toBe(keys[11]);
    expect(errorTemplate('error: release "draft q3 report final" not found')).toBe('error: release "<*>" not found');
  });

  it('values at two positions of otherwise equal templates are variables; a kind at either position keeps them apart', () => {
    // Prepare: each text twice (so the miner keeps its words); a value at two places; look-alikes where the second
    // place is the word after an error adjective or a word of the error vocabulary
    const twice = (t: string) => [t, t];
    const member = ['alpha', 'bravo', 'charlie'].flatMap((u, i) => twice(`checking access\nid: user ${u} is not in group ${['wheel', 'docker', 'adm'][i] ?? ''} on this host\n`));
    const checksum = twice('deploy web-alpha stopped: bad checksum in manifest\n');
    const signature = twice('deploy web-bravo stopped: bad signature in manifest\n');
    const full = twice('worker alpha exited early: disk full\n');
    const busy = twice('worker bravo exited early: disk busy\n');
    // Act
    const keys = group([...member, ...checksum, ...signature, ...full, ...busy]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 6)).size).toBe(1);
    expect(keys[6]).not.toBe(keys[8]);
    expect(keys[10]).not.toBe(keys[12]);
    expect(new Set(keys.slice(6)).size).toBe(4);
  });
  it('lines that differ only in a file type are one check failing per file, not different errors', () => {
    // Prepare: sha256sum -c with 1-4 listed files missing (a pair of lines per file), and diff with a missing file,
    // each behind a trap's trailer; the look-alike: a digest that did not match (a different fix)
    const trailer = (step: string, rc: number) => `cleaning up /tmp/job.x1 ...\nstep '${step}' failed with exit code ${rc}\n`;
    const missing = (files: string[]) =>
      `running verify\n${files.map((f) => `sha256sum: ${f}: No such file or directory\n${f}: FAILED open or read\n`).join('')}sha256sum: WARNING: ${files.length} listed file${files.length > 1 ? 's' : ''} could not be read\n${trailer('verify', 1)}`;
    const unread = [['cfg.tar', 'lib.so'], ['lib.so', 'node.tgz', 'cfg.tar'], ['cfg.tar'], ['app.jar', 'cfg.tar', 'node.tgz', 'lib.so']].map(missing);
    const diff = ['geo/expected', 'mailer/rendered', 'pricing/rendered'].map((f) => `running compare\ndiff: /etc/${f}.conf: No such file or directory\n${trailer('compare', 2)}`);
    const mismatch = ['app.jar', 'node.tgz'].map((f) => `running verify\n${f}: FAILED\nsha256sum: WARNING: 1 computed checksum did NOT match\n${trailer('verify', 1)}`);
    // Act
    const keys = group([...unread, ...diff, ...mismatch]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(new Set(keys.slice(4, 7)).size).toBe(1);
    expect(new Set(keys.slice(7)).size).toBe(1);
    expect(new Set([keys[0], keys[4], keys[7]]).size).toBe(3);
  });
});

describe('rules from the unblinded first hold-out and the probes: one message in another wording', () => {
  const traceback = (fn: string, tail: string) =>
    `Traceback (most recent call last):\n  File "/srv/tree.py", line 7, in <module>\n    print(${fn}("east"))\n  File "/srv/tree.py", line 5, in ${fn}\n    return ${fn}(PARENT.get(node, node), seen + 1)\n  [Previous line repeated 996 more times]\nRecursionError: maximum recursion depth exceeded${tail}\n`;

  it('a name in capitals that a shell diagnostic is about is a value; a code inside a message and a level word stay kinds', () => {
    // Prepare: bash refusing to set read-only variables whose names are all capitals (no underscore to tell them from
    // a code); look-alikes: two DNS status codes inside a message, two level words in front
    const readonly = ['REGION', 'TIER', 'REGION', 'ZONE'].map((v, i) => `/tmp/job-${i}.sh: line 3: ${v}: readonly variable\n`);
    const status = (code: string) => `resolving db.internal\nlookup failed with status ${code} for db.internal\n`;
    const levels = ['WARNING', 'NOTICE'].flatMap((l) => [`${l}: replica cache is stale\n`, `${l}: replica cache is stale\n`]);
    // Act
    const causes = group([...readonly, status('NXDOMAIN'), status('NXDOMAIN'), status('SERVFAIL'), status('SERVFAIL'), ...levels]);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(causes[0]?.title).toBe('<*>: readonly variable');
    expect(keys[4]).toBe(keys[5]);
    expect(keys[6]).toBe(keys[7]);
    expect(keys[4]).not.toBe(keys[6]);
    expect(keys[8]).toBe(keys[9]);
    expect(keys[10]).toBe(keys[11]);
    expect(keys[8]).not.toBe(keys[10]);
  });

  it('a code of a standard vocabulary or a single letter in front of the same words is a kind, never a subject name (review)', () => {
    // Prepare: the same words after two errno names, two gRPC status codes and apt's two level letters, each twice;
    // the subject rule must still join two shell variables' names
    const pairs = [
      ['ENOENT', 'EACCES'],
      ['NOT_FOUND', 'PERMISSION_DENIED'],
      ['E', 'W'],
    ].flatMap(([a, b]) => [a, a, b, b].map((code) => `fetching index\n${code}: cannot open /var/lib/cache/index.db\n`));
    const variables = ['REGION', 'TIER'].map((v, i) => `/tmp/job-${i}.sh: line 3: ${v}: readonly variable\n`);
    // Act
    const keys = group([...pairs, ...variables]).map((c) => c.key);
    // Assess
    for (let i = 0; i < 12; i += 4) {
      expect(keys[i]).toBe(keys[i + 1]);
      expect(keys[i + 2]).toBe(keys[i + 3]);
      expect(keys[i]).not.toBe(keys[i + 2]);
    }
    expect(new Set(keys.slice(0, 12)).size).toBe(6);
    expect(keys[12]).toBe(keys[13]);
  });

  it('a message with and without a clause of circumstance (two runtime versions) is one cause; a new statement or two different clauses are not', () => {
    // Prepare: one recursion error as Python 3.8-3.10 and 3.11+ word it; look-alikes: a module missing against a
    // module that is not a package (a new statement after the shared words), and a message with two different clauses
    const recursion = [traceback('walk', ''), traceback('depth', ' while calling a Python object'), traceback('expand', ''), traceback('walk', ' while calling a Python object')];
    const module = ["ModuleNotFoundError: No module named 'yaml'\n", "ModuleNotFoundError: No module named 'yaml'\n"];
    const notPackage = ["ModuleNotFoundError: No module named 'yaml.parser'; 'yaml' is not a package\n", "ModuleNotFoundError: No module named 'yaml.parser'; 'yaml' is not a package\n"];
    const closed = ['', ' while reading the header', ' during login'].flatMap((tail) => [`error: connection closed by the server${tail}\n`, `error: connection closed by the server${tail}\n`]);
    // Act
    const causes = group([...recursion, ...module, ...notPackage, ...closed]);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(causes[1]?.title).toBe('RecursionError: maximum recursion depth exceeded');
    expect(keys[4]).toBe(keys[5]);
    expect(keys[6]).toBe(keys[7]);
    expect(keys[4]).not.toBe(keys[6]);
    expect(new Set(keys.slice(8)).size).toBe(3);
  });

  it('a clause of circumstance inside a message (a newer version of the tool) joins the message without it; what follows still decides', () => {
    // Prepare: curl before and after 7.75 (`after N ms` inserted before the colon), a connection refused; the
    // look-alike: the newer wording for a host with no route
    const refused = ['db-1', 'db-2'].flatMap((h, i) => [`probing ${h}\ncurl: (7) Failed to connect to ${h}.internal port 5432: Connection refused\n`, `probing ${h}\ncurl: (7) Failed to connect to ${h}.internal port 5432 after ${i + 1} ms: Connection refused\n`]);
    const noRoute = ['db-3', 'db-4'].map((h, i) => `probing ${h}\ncurl: (7) Failed to connect to ${h}.internal port 5432 after ${3000 + i} ms: No route to host\n`);
    // Act
    const causes = group([...refused, ...noRoute]);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(causes[1]?.title).toMatch(/ port <\*>: Connection refused$/);
    expect(keys[4]).toBe(keys[5]);
    expect(keys[4]).not.toBe(keys[0]);
  });

  it('quote marks that follow the locale are one mark: the same error under LANG=C and a UTF-8 locale is one cause', () => {
    // Prepare: numfmt and gcc as they print under LC_ALL=C and under C.UTF-8; the look-alike: numfmt's other mistake
    const suffix = ["numfmt: invalid suffix in input: '5Q'\n", 'numfmt: invalid suffix in input: ‘12XB’\n', 'numfmt: invalid suffix in input: ‘7Q’\n'];
    const gcc = ["west.c: In function 'main':\nwest.c:3:5: error: 'cfg' undeclared (first use in this function)\n", 'east.c: In function ‘main’:\neast.c:3:5: error: ‘opts’ undeclared (first use in this function)\n'];
    const number = ["numfmt: invalid number: 'x5'\n", 'numfmt: invalid number: ‘y7’\n'];
    // Act
    const keys = group([...suffix, ...gcc, ...number]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).toBe(keys[4]);
    expect(keys[5]).toBe(keys[6]);
    expect(new Set([keys[0], keys[3], keys[5]]).size).toBe(3);
    expect(errorTemplate('cannot open ‘a b’: it’s gone')).toBe("cannot open '<*>': it's gone");
  });

  it("a wrapper's tag on every line (compose, kubectl --prefix, stream tags, prog[pid]) is a header; a level or status in brackets is not", () => {
    // Prepare: one Python error printed bare and passed on by four wrappers; the look-alike: another error behind the
    // same tags, and outputs whose brackets hold a level or a status
    const trace = (key: string) => `loading settings\nTraceback (most recent call last):\n  File "/srv/app/run.py", line 3, in <module>\n    print(cfg["${key}"])\nKeyError: '${key}'\n`;
    const refused = (port: number) => `loading settings\nnc: connect to 10.0.0.5 port ${port} (tcp) failed: Connection refused\n`;
    const tagEach = (text: string, tag: (line: string) => string) => `${text.trimEnd().split('\n').map((l) => `${tag(l)} ${l}`).join('\n')}\n`;
    const wrappers = [(_l: string) => 'web-1       |', (_l: string) => '[pod/web-7d9f8b6c4-x2x9k/app]', (l: string) => (/Error|^ /.test(l) ? '[stderr]' : '[stdout]'), (_l: string) => 'deploy[4242]:'];
    const keyErrors = [trace('region'), ...wrappers.map((w, i) => tagEach(trace(['zone', 'tier', 'owner', 'shard'][i] ?? 'x'), w))];
    const refusals = [refused(5432), ...wrappers.map((w, i) => tagEach(refused(6379 + i), w))];
    const levels = ['[INFO] Scanning for projects...\n[ERROR] Failed to execute goal on project api\n', '[  OK  ] Started Journal Service.\n[FAILED] Failed to start nginx.service.\n'];
    // Act
    const causes = group([...keyErrors, ...refusals, ...levels]);
    const keys = causes.map((c) => c.key);
    const maven = findErrorLines(outputLines(levels[0] ?? '').read)[0];
    // Assess
    expect(new Set(keys.slice(0, 5)).size).toBe(1);
    expect(causes[3]?.title).toBe("KeyError: '<*>'");
    expect(new Set(keys.slice(5, 10)).size).toBe(1);
    expect(keys[0]).not.toBe(keys[5]);
    expect(maven?.content).toBe('[ERROR] Failed to execute goal on project api');
    expect(causes[11]?.title).toBe('[FAILED] Failed to start nginx.service.');
  });

  it("a logger's timestamp and fields are a header (date(1)'s format, Python's `name - LEVEL - `); glog's level letter is no host", () => {
    // Prepare: one error bare and under three wrappers that log each line with a timestamp; the look-alike: glog's own
    // lines under a timestamp (their first word is glog's level and date, not a host)
    const body = ['fetching release 2.4.1', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const stamped = (lead: (i: number) => string) => `${body.map((l, i) => `${lead(i)}${l}`).join('\n')}\n`;
    const cp = [
      `${body.join('\n')}\n`,
      stamped((i) => `Mon Dec  7 10:00:0${i} UTC 2026 `),
      stamped((i) => `2026-12-07 10:00:0${i},12${i} - deploy - INFO - `),
      stamped((i) => `2026-12-07T10:00:0${i}Z web-1 `),
    ];
    const glog = 'E1207 10:00:01.123456   12345 memcache.go:265] couldn\'t get current server API group list: connection refused\nE1207 10:00:01.223456   12345 memcache.go:265] couldn\'t get current server API group list: connection refused\n';
    const glogStamped = `${glog.trimEnd().split('\n').map((l, i) => `2026-12-07T10:00:0${i}Z ${l}`).join('\n')}\n`;
    // Act
    const keys = group([...cp, glog, glogStamped]).map((c) => c.key);
    const glogLine = findErrorLines(outputLines(glogStamped).read)[0];
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).toBe(keys[5]);
    expect(keys[0]).not.toBe(keys[4]);
    expect(glogLine?.content.startsWith('E1207 ')).toBe(true);
  });

  it('reads a logfmt line as its message, as a JSON one: the same cause as the plain text; data of key=value pairs stays as it is', () => {
    // Prepare: an agent logging each line of a command in logfmt (every line `info`), a program's own logfmt error
    // line, and the plain text; look-alikes: another cause in logfmt, lines of pairs without a message
    const shipped = (host: string, lines: string[]) => `${lines.map((msg, i) => `time="2026-12-07T10:00:0${i}Z" level=info host=${host} msg=${JSON.stringify(msg)}`).join('\n')}\n`;
    const refused = ['web-1', 'web-2'].map((h, n) => shipped(h, ['probing backends', `nc: connect to 10.0.0.${n} port 5432 (tcp) failed: Connection refused`]));
    const plain = 'probing backends\nnc: connect to 10.0.0.9 port 5432 (tcp) failed: Connection refused\n';
    const unknown = ['web-3', 'api-7'].map((h, n) => shipped(h, [`nc: getaddrinfo for host "db-${n}.invalid" port 5432: Name or service not known`]));
    const own = 'time=2026-12-07T10:00:00Z level=error caller=sync/run.go:88 msg="sync failed" err="open /etc/app/sync.yaml: no such file or directory"\n';
    const data = 'name=orders replicas=3 ready=1\n';
    // Act
    const keys = group([...refused, plain, ...unknown]).map((c) => c.key);
    const ownLine = findErrorLines(outputLines(own).read)[0];
    const dataLine = outputLines(data).read[0];
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).toBe(keys[4]);
    expect(keys[0]).not.toBe(keys[3]);
    expect(ownLine).toMatchObject({ strength: 3, content: 'ERROR: sync failed: open /etc/app/sync.yaml: no such file or directory' });
    expect(dataLine).toBe('name=orders replicas=3 ready=1');
  });

  it('a level every line carries is the wrapper\'s: cut off; a program\'s own levels, mixed, stay', () => {
    // Prepare: one error bare and under three wrappers that log every line at one level that says no error; the
    // look-alikes: maven's own `[INFO]` and `[ERROR]` lines, and another error under the same wrapper
    const body = ['fetching release 2.4.1', 'Downloading release.tar 40%', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const each = (lead: (i: number) => string, lines = body) => `${lines.map((l, i) => `${lead(i)}${l}`).join('\n')}\n`;
    const cp = [`${body.join('\n')}\n`, each(() => '[INFO] '), each(() => 'INFO:deploy:'), each((i) => `2026-12-07 10:00:0${i},12${i} INFO  `)];
    const tar = each(() => '[INFO] ', ['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory', 'tar: Error is not recoverable: exiting now']);
    const maven = '[INFO] Scanning for projects...\n[INFO] Building api 1.0\n[INFO] BUILD FAILURE\n[ERROR] Failed to execute goal on project api: Could not resolve dependencies\n';
    // Act
    const keys = group([...cp, tar]).map((c) => c.key);
    const mavenLine = findErrorLines(outputLines(maven).read)[0];
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).not.toBe(keys[0]);
    expect(mavenLine?.content).toBe('[ERROR] Failed to execute goal on project api: Could not resolve dependencies');
  });

  it("the container runtime's log format, seconds since start and syslog's priority are headers", () => {
    // Prepare: one error bare and as a node's container log (CRI: timestamp, stream, full-line flag), with seconds since
    // the start in brackets, and as syslog with its priority; the look-alike: another error in the CRI format
    const body = ['fetching release 2.4.1', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const each = (lead: (i: number, l: string) => string, lines = body) => `${lines.map((l, i) => `${lead(i, l)}${l}`).join('\n')}\n`;
    const cri = (i: number, l: string) => `2026-12-07T10:00:0${i}.12345678${i}Z ${l.startsWith('cp') ? 'stderr' : 'stdout'} F `;
    const cp = [`${body.join('\n')}\n`, each(cri), each((i) => `[${String(i).padStart(4)}.10${i}s] `), each((i) => `<13>Dec  7 10:00:0${i} web-1 deploy[4242]: `)];
    const other = each(cri, ['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory']);
    // Act
    const keys = group([...cp, other]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).not.toBe(keys[0]);
    expect(findErrorLines(outputLines('stdout F is not a header here\n').read)[0]?.content).toBe('stdout F is not a header here');
  });

  it("a wrapper's tag closing every line (host, time taken) is cut off; a program's own parenthesis stays", () => {
    // Prepare: one error bare and with a host or the time taken closing each line (blank lines too); the look-alike:
    // progress lines that end in their own parenthesis, and another error under the same tag
    const body = ['fetching release 2.4.1', '', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const each = (tag: (i: number) => string, lines = body) => `${lines.map((l, i) => `${l} ${tag(i)}`).join('\n')}\n`;
    const cp = [`${body.join('\n')}\n`, each(() => '[web-1]'), each(() => '(host=db-primary)'), each((i) => `(${(i * 0.37).toFixed(2)}s)`)];
    const other = each(() => '[web-1]', ['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory']);
    const batches = 'processed batch 1/9 (rows=3788, 262 ms)\nprocessed batch 2/9 (rows=1707, 293 ms)\n';
    // Act
    const keys = group([...cp, other]).map((c) => c.key);
    const read = outputLines(batches).read;
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).not.toBe(keys[0]);
    expect(read[0]).toBe('processed batch 1/9 (rows=3788, 262 ms)');
  });

  it('the same constant words with the values placed differently are one message; another constant word is another', () => {
    // Prepare: numfmt's two wordings of one mistake (an unknown suffix, a known one followed by garbage); the look-alike
    // differs in a constant word
    const suffix = ['5Q', '12XB'].map((v) => `numfmt: invalid suffix in input: ‘${v}’\n`).concat(['5Gb', '7MiBs'].map((v) => `numfmt: invalid suffix in input ‘${v}’: ‘${v.slice(-1)}’\n`));
    const digit = ['x5', 'y7'].map((v) => `numfmt: invalid digit in input: ‘${v}’\n`);
    // Act
    const causes = group([...suffix, ...digit]);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(causes[2]?.title).toBe("numfmt: invalid suffix in input: '<*>'");
    expect(keys[4]).toBe(keys[5]);
    expect(keys[4]).not.toBe(keys[0]);
  });

  it('a question after the message is a hint: the same error with and without it is one cause; the statement decides', () => {
    // Prepare: a name error as Python 3.9 prints it and as 3.10+ print it (with a suggestion that depends on the names
    // nearby); the look-alike: an attribute error with the same kind of hint
    const name = (v: string, hint: string) => `loading settings\nTraceback (most recent call last):\n  File "/srv/app/run.py", line 3, in <module>\n    print(${v}.dumps({}))\nNameError: name '${v}' is not defined${hint}\n`;
    const names = [name('jsn', ''), name('jsno', ". Did you mean: 'json'?"), name('sjon', ". Did you mean: 'json'?"), name('yml', '')];
    const attrs = ['getcwdd', 'getcdw'].map((a) => `loading settings\nAttributeError: module 'os' has no attribute '${a}'. Did you mean: 'getcwd'?\n`);
    // Act
    const causes = group([...names, ...attrs]);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(causes[1]?.title).toBe("NameError: name '<*>' is not defined");
    expect(keys[4]).toBe(keys[5]);
    expect(keys[4]).not.toBe(keys[0]);
    expect(errorTemplate('could not connect: Is the server running?')).toBe('could not connect: Is the server running?');
  });

  it('an escaped line break in a quoted slice of input drops the next line\'s indentation; the message around it counts', () => {
    // Prepare: maven's parser quoting the broken input, whose next line is indented 0, 2 or 4 spaces; the look-alike:
    // another parse error of the same file
    const pom = (indent: string, v: string) => `[INFO] Scanning for projects...\n[ERROR] [ERROR] Some problems were encountered while processing the POMs:\n[FATAL] Non-parseable POM /srv/app/pom.xml: expected > to finsh end tag not < from line 5 (position: TEXT seen ...<version>${v}</version\\n${indent}<... @6:${indent.length + 2})  @ line 6, column ${indent.length + 2}\n`;
    const broken = [pom('', '1.8'), pom('  ', '4.7'), pom('    ', '2.0')];
    const other = [1, 2].map((n) => `[INFO] Scanning for projects...\n[FATAL] Non-parseable POM /srv/app/pom.xml: Unrecognised tag: 'dependency' (position: START_TAG seen ...</version>\\n  <dependency>... @${n + 6}:17)  @ line ${n + 6}, column 17\n`);
    // Act
    const keys = group([...broken, ...other]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).toBe(keys[4]);
    expect(keys[0]).not.toBe(keys[3]);
    expect(errorTemplate('TEXT seen ...</a\\n   <... @6:4')).toBe(errorTemplate('TEXT seen ...</a\\n<... @6:4'));
  });

  it('an output embedded in a JSON report (Ansible, a runner) is read as its lines; its host and times are not', () => {
    // Prepare: one error bare, as Ansible's `stderr`/`stdout` (with `stdout_lines`, a host, times and its recap), as a
    // `msg` and as a runner's JSON line; the look-alike: another error under the same report from the same host
    const bare = 'connecting to db-primary:5432\npsql: error: connection to server failed: Connection refused\n';
    const report = (h: string, o: string, ms: number) =>
      `TASK [migrate] ****\nfatal: [${h}]: FAILED! => ${JSON.stringify({ changed: true, delta: `0:00:0${ms}`, msg: 'non-zero return code', rc: 2, stderr: o.trimEnd(), stdout: '', stdout_lines: [] })}\n\nPLAY RECAP ****\n${h} : ok=3 changed=0 unreachable=0 failed=1\n`;
    const same = [bare, report('web-1', bare, 1), report('db-2', bare, 7), `fatal: [api]: FAILED! => {"changed": false, "msg": ${JSON.stringify(bare)}}\n`, `${JSON.stringify({ host: 'web-3', rc: 2, stdout: bare })}\n`];
    const other = report('web-1', 'connecting to db-primary:5432\npsql: error: FATAL: password authentication failed for user "app"\n', 1);
    // Act
    const keys = group([...same, other]).map((c) => c.key);
    const logger = outputLines('{"level":"error","msg":"dial tcp: connection refused\\nretrying"}\n').read;
    // Assess
    expect(new Set(keys.slice(0, 5)).size).toBe(1);
    expect(keys[5]).not.toBe(keys[0]);
    expect(logger[0]).toBe('ERROR: dial tcp: connection refused');
  });

  it("syslog's tag without a pid after the host is a header; a program's own diagnostic word stays", () => {
    // Prepare: one error bare and under syslog's `timestamp host tag: ` on every line (two hosts); the look-alike:
    // another error under the same tag, and a host's lines whose first word after the host differs (no tag)
    const body = ['fetching release 2.4.1', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const syslog = (h: string, lines = body) => `${lines.map((l, i) => `Dec  7 10:00:0${i} ${h} deploy: ${l}`).join('\n')}\n`;
    const other = syslog('web-1', ['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory']);
    const untagged = 'Dec  7 10:00:00 web-1 fetching release 2.4.1\nDec  7 10:00:01 web-1 tar: release.tar: Cannot open\n';
    // Act
    const keys = group([`${body.join('\n')}\n`, syslog('web-1'), syslog('db-primary'), other]).map((c) => c.key);
    const line = errorLine(untagged);
    const levelled = errorLine('2026-12-07T10:00:00Z [INFO] cp: a\n2026-12-07T10:00:01Z [INFO] cp: cannot stat b: No such file or directory\n');
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(line).toBe('tar: release.tar: Cannot open');
    expect(levelled).toBe('cp: cannot stat b: No such file or directory');
  });
});

describe('a header rule never takes a level that says something went wrong (review)', () => {
  it("a logger's level before a pipe or among its fields is no wrapper's tag when it is an error's or a warning's", () => {
    // Prepare: a logger printing `LEVEL | message` (loguru's layout), twenty quiet lines then one of a level that says
    // something went wrong; and Python's `%(asctime)s - %(levelname)s - %(message)s` where most lines are errors and a
    // plain line follows
    const quiet = Array.from({ length: 20 }, (_, i) => `INFO     | step ${i} done`);
    const piped = (level: string) => `${[...quiet, `${level} | Disk quota reached on /data`].join('\n')}\n`;
    const logged = [
      '2026-12-07 10:00:00,123 - ERROR - Disk quota reached on /data',
      '2026-12-07 10:00:01,123 - ERROR - Retrying',
      '2026-12-07 10:00:02,123 - ERROR - Retrying',
      'cleanup: removed 3 temp files',
    ].join('\n');
    // Act
    const pipedLines = ['CRITICAL', 'SEVERE  ', 'WARNING '].map((level) => findErrorLines(outputLines(piped(level)).read)[0]);
    const loggedLine = findErrorLines(outputLines(`${logged}\n`).read)[0];
    // Assess: the level stays in the line, and so does its strength
    expect(pipedLines.map((l) => l?.content)).toEqual(['CRITICAL | Disk quota reached on /data', 'SEVERE   | Disk quota reached on /data', 'WARNING  | Disk quota reached on /data']);
    expect(pipedLines[0]?.strength).toBe(3);
    expect(loggedLine).toMatchObject({ strength: 3, content: 'ERROR - Disk quota reached on /data' });
  });

  it('a line counter in front of every line (cat -n, nl) is a header; numbers that do not count the lines stay', () => {
    // Prepare: one error bare, under `cat -n` (blank lines numbered), under `nl` (blank lines not) and alone on one
    // numbered line; the look-alike: another error under the same counter, and a program's own numbers in front
    const body = ['fetching release 2.4.1', '', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const catN = (lines: readonly string[]) => `${lines.map((l, i) => `${String(i + 1).padStart(6)}\t${l}`).join('\n')}\n`;
    let n = 0;
    const nl = `${body.map((l) => (l ? `${String(++n).padStart(6)}\t${l}` : '')).join('\n')}\n`;
    const one = catN([body[2] ?? '']);
    const other = catN(['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory']);
    const own = '3: cp: cannot stat a: No such file or directory\n7: cp: cannot stat b: No such file or directory\n';
    // Act
    const keys = group([`${body.join('\n')}\n`, catN(body), nl, one, other]).map((c) => c.key);
    const read = errorLine(own);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).not.toBe(keys[0]);
    expect(read).toBe('7: cp: cannot stat b: No such file or directory');
  });

  it("a stream's label in front of a line (pssh's `Stderr: `) is a header; the same word inside a message stays", () => {
    // Prepare: one error bare and as pssh -i prints a failed host (its banner, then `Stderr: ` before the stream);
    // the look-alike: another error under the same banner and label, and a message that names a stream mid-line
    const bare = 'ssh: connect to host 10.0.4.17 port 22: Connection refused\n';
    const pssh = (n: number, h: string, o: string) => `[${n}] 10:00:0${n} [FAILURE] ${h} Exited with error code 255\nStderr: ${o}`;
    const other = pssh(3, 'web-1', 'ssh: Could not resolve hostname db-9: Name or service not known\n');
    // Act
    const keys = group([bare, pssh(1, 'web-1', bare), pssh(2, 'db-primary', bare), other]).map((c) => c.key);
    const line = errorLine('worker: cannot write to stderr: Broken pipe\n');
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(line).toBe('worker: cannot write to stderr: Broken pipe');
  });

  it("a program's name before its own lower-case level under a timestamp is no host (npm error); a host stays a header", () => {
    // Prepare: npm's error bare and under a timestamp on every line; the look-alike: npm's other error under the same
    // timestamps, and a host word before the message that must still be cut
    const npm = (script: string) => `npm error Missing script: "${script}"\nnpm error\nnpm error To see a list of scripts, run:\nnpm error   npm run\n`;
    const stamped = (o: string) => `${o.trimEnd().split('\n').map((l, i) => `2026-12-07T10:10:0${i}.10${i}Z ${l}`).join('\n')}\n`;
    const other = stamped('npm error code EUSAGE\nnpm error The `npm ci` command can only install with an existing package-lock.json\n');
    const host = '2026-12-07T10:10:00Z web-1 fetching\n2026-12-07T10:10:01Z web-1 cp: cannot stat a: No such file or directory\n';
    // Act
    const keys = group([npm('deploy'), stamped(npm('build')), stamped(npm('deploy')), other]).map((c) => c.key);
    const line = errorLine(host);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(line).toBe('cp: cannot stat a: No such file or directory');
  });
});

describe("a program's own level is read from the general vocabulary (review)", () => {
  it("a program's name before a lower-case level word of any logger is no host under a timestamp; a host before a message stays a header", () => {
    // Prepare: a tool that prints `<name> fatal …` lines, bare and under a timestamp; the look-alike: its other fatal
    // error under the same timestamps
    const tool = (port: number) => `relayd fatal cannot bind 0.0.0.0:${port}: address already in use\nrelayd debug shutting down\n`;
    const stamped = (o: string) => `${o.trimEnd().split('\n').map((l, i) => `2026-12-07T10:10:0${i}.10${i}Z ${l}`).join('\n')}\n`;
    const other = stamped('relayd fatal cannot read /etc/relayd.conf: permission denied\nrelayd debug shutting down\n');
    // Act
    const keys = group([tool(80), stamped(tool(443)), stamped(tool(8080)), other]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
  });
});

describe('an embedded output does not eat the text around it (review)', () => {
  it("an answer a script printed (words then JSON, or a JSON line with an output field) leaves the script's own error line read", () => {
    // Prepare: a script that prints an API's answer, then fails; a runner's JSON line, then a program's error
    const answered = 'Uploading artifact\nresponse: {"id": 12, "message": "created"}\nerror: deploy failed: permission denied\n';
    const runner = '{"host": "web-1", "stdout": "all good"}\ntar: release.tar: Cannot open: No such file or directory\n';
    // Act
    const lines = [answered, runner].map((o) => errorLine(o));
    // Assess
    expect(lines).toEqual(['error: deploy failed: permission denied', 'tar: release.tar: Cannot open: No such file or directory']);
  });
});
