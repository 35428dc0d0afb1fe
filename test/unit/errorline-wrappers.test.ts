/**
 * Where the error line is found under loggers' and runners' wrappers (lib/causes/errorline.ts, docs/causes.md "Wrappers,
 * fourth round"): each rule with a look-alike that must stay apart.
 */
import { describe, expect, it } from 'vitest';
import { findErrorLines, outputLines } from '../../lib/causes/errorline';
import { errorLine, groupOutputs } from '../helpers/causes';

/** Groups outputs as one invocation (status Failed, exit code 1 unless given). */
const group = (outputs: readonly string[], exitCode: number | null = 1) => groupOutputs(outputs, exitCode);

/** `lines` each led by `lead(i, line)`, as one output. */
const wrap = (lines: readonly string[], lead: (i: number, line: string) => string): string => `${lines.map((l, i) => `${lead(i, l)}${l}`).join('\n')}\n`;
const ts = (i: number) => `2026-12-07 10:00:0${i},1${i}3`;

describe("a logger's level field after its header", () => {
  it("is cut off: the same error bare and under a logger that logs stdout at INFO and stderr at ERROR is one cause; another error stays apart", () => {
    // Prepare: svn's error bare, and under a wrapper that logs each line as `time logger LEVEL line` (stdout INFO,
    // stderr ERROR); the look-alike: another svn error under the same wrapper
    const svn = (url: string) => ['checking out', `svn: E170000: URL '${url}' doesn't exist`];
    const other = ['checking out', "svn: E155007: None of the targets are working copies"];
    const logged = (lines: string[], step: string) =>
      wrap(lines, (i, l) => `${ts(i)} deploy.${step} ${l.startsWith('svn') ? 'ERROR' : 'INFO'} `);
    const outputs = [
      `${svn('file:///srv/repo/trunk/a').join('\n')}\n`,
      `${svn('file:///srv/repo/tags/b').join('\n')}\n`,
      logged(svn('file:///srv/repo/trunk/c'), 'checkout'),
      logged(svn('file:///srv/repo/branches/d'), 'sync'),
      logged(other, 'update'),
      logged(other, 'checkout'),
    ];
    // Act
    const causes = group(outputs);
    // Assess
    expect(new Set(causes.slice(0, 4).map((c) => c.key)).size).toBe(1);
    expect(causes[0]?.title).toBe("svn: <*>: URL '<*>' doesn't exist");
    expect(causes[4]?.key).not.toBe(causes[0]?.key);
    expect(causes[4]?.title).toBe('svn: <*>: None of the targets are working copies');
  });

  it("reads the line under the level as printed, even on an output of one line; a program's own level in brackets or with a code stays", () => {
    // Prepare: one line under a padded level (log4j's `%-5p`), under a logger's name and level, under `name - LEVEL - `;
    // the look-alikes: mysql's own `ERROR 1045 (28000):` and maven's own `[ERROR]` under a timestamp, which are the
    // programs' levels, and a level word inside a message
    const line = 'cp: cannot stat /srv/app/release.tar: No such file or directory';
    // Act
    const padded = errorLine(`${ts(0)} INFO  ${line}\n`);
    const named = errorLine(`${ts(0)} web-1 ERROR ${line}\n`);
    const fields = errorLine(`${ts(0)} - deploy - INFO - ${line}\n`);
    const mysql = errorLine(`${ts(0)} ERROR 1045 (28000): Access denied for user 'app'@'localhost' (using password: YES)\n`);
    const maven = errorLine(`${ts(0)} [INFO] Building api 1.0\n${ts(1)} [ERROR] Failed to execute goal on project api: Could not resolve dependencies\n`);
    const colon = errorLine(`${ts(0)} ERROR: sync failed: bucket missing\n`);
    // Assess
    expect([padded, named, fields]).toEqual([line, line, line]);
    expect(mysql).toBe("ERROR 1045 (28000): Access denied for user 'app'@'localhost' (using password: YES)");
    expect(maven).toBe('[ERROR] Failed to execute goal on project api: Could not resolve dependencies');
    expect(colon).toBe('ERROR: sync failed: bucket missing');
  });

  it('a lower-case level or one a number follows is a field only as a column of the output (all lines but one in ten)', () => {
    // Prepare: a logger's lower-case levels on every line; the look-alike: one line whose message starts with a
    // lower-case level word under a timestamp, beside lines without one
    const column = `${ts(0)} info fetching release 2.4.1\n${ts(1)} info 3 targets in batch 2\n${ts(2)} error tar: release.tar: Cannot open: No such file or directory\n`;
    const message = `${ts(0)} fetching release 2.4.1\n${ts(1)} unpacking\n${ts(2)} error handling failed: exit hook missing\n`;
    // Act
    const inColumn = errorLine(column);
    const inMessage = errorLine(message);
    // Assess
    expect(inColumn).toBe('tar: release.tar: Cannot open: No such file or directory');
    expect(inMessage).toBe('error handling failed: exit hook missing');
  });
});

describe('a level every line carries, on an output of one line', () => {
  it("is the wrapper's: the one line under `[INFO] ` or `ts [INFO] ` is the same cause as bare; two different lines stay apart", () => {
    // Prepare: one-line results bare and under a quiet level wrapper; the look-alike: another one-line error
    const a = (host: string) => `mkdir: cannot create directory '/srv/${host}': Permission denied`;
    const b = (host: string) => `curl: (6) Could not resolve host: ${host}.internal`;
    const outputs = [`${a('web-1')}\n`, `[INFO] ${a('web-2')}\n`, `2026-12-07T10:00:00Z [INFO] ${a('api')}\n`, `${b('web-1')}\n`, `[INFO] ${b('db')}\n`];
    // Act
    const keys = group(outputs).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(new Set(keys.slice(3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
  });

  it("the blanks that pad the level's field on every line are the field's; more on some lines are the line's own indentation", () => {
    // Prepare: a shell diagnostic under `INFO  ` (two blanks on every line), bare; the look-alike: an indented line under
    // a level padded by one blank
    const diag = '/tmp/deploy.sh: line 3: SHARD: unbound variable';
    // Act
    const keys = group([`${diag}\n`, `${ts(0)} INFO  ${diag}\n`, `INFO  fetching\nINFO  ${diag}\n`]).map((c) => c.key);
    const indented = outputLines('INFO fetching\nINFO   - item ok\n').read;
    const read = findErrorLines(indented)[0];
    // (a level that ends in its own colon, Python's `INFO:name:`, has no blank of its own: a frame stays indented)
    const lua = errorLine('INFO:deploy:lua5.4: probe.lua:3: attempt to index a nil value\nINFO:deploy:stack traceback:\nINFO:deploy:\tprobe.lua:3: in main chunk\n');
    // Assess
    expect(new Set(keys).size).toBe(1);
    expect(read?.content).toBe('- item ok');
    expect(read?.header).toBe(5);
    expect(lua).toBe('lua5.4: probe.lua:3: attempt to index a nil value');
  });
});

describe("a line that only says a job failed ranks below what the program printed", () => {
  it('a status report, a closing outcome or a count of errors says less than a line that says why', () => {
    // Prepare: lines that only report a status (make's `Error 2`, a runner's marker, a wrapper's step line, Jenkins'
    // closing outcome, a count of errors); the look-alikes: a status beside words that say how it failed, a count
    // beside another error, and an outcome that names what failed
    const only = ['make: *** [Makefile:14: lint] Error 2', '##[error]Process completed with exit code 1.', 'step sync failed (exit status 1)', 'Finished: FAILURE', 'msgfmt: found 2 fatal errors', '3 errors generated.'];
    const more = ['curl failed: connection refused (exit code 7)', 'msgfmt: found 1 fatal error: cannot open es.po', 'deploy: upload of release.tar failed'];
    // Act
    const onlyStrengths = only.map((l) => findErrorLines([l])[0]?.strength);
    const moreStrengths = more.map((l) => findErrorLines([l])[0]?.strength ?? 0);
    // Assess
    expect(onlyStrengths).toEqual(only.map(() => 0.5));
    expect(moreStrengths.every((s) => s >= 1)).toBe(true);
  });

  it("the last line a program printed comes before a wrapper's status line: two different tools' outputs under make stay apart", () => {
    // Prepare: two tools whose outputs state no error word (a module not found, a linter's closing hint), bare and under
    // make (which echoes the recipe and closes with `make: *** [...] Error 1`)
    const guile = (m: string) => `Backtrace:\nIn ice-9/boot-9.scm:\nno code for module (${m})\n`;
    const lint = (f: string, code = 'SC2086 -- Double quote to prevent globbing ...') => `In ${f} line 6:\nrm -rf /srv/$target\n\nFor more information:\n  https://www.shellcheck.net/wiki/${code}\n`;
    const make = (cmd: string, out: string, n: number) => `${cmd}\n${out}make: *** [Makefile:${n}: job] Error 1\n`;
    const other = 'SC2115 -- Use "${var:?}" to ensure this nev...';
    const outputs = [guile('gnutls'), make('guile job.scm', guile('yaml'), 13), make('guile sync.scm', guile('fibers'), 14), lint('a.sh'), make('shellcheck *.sh', lint('b.sh'), 13), make('shellcheck *.sh', lint('c.sh', other), 14), lint('d.sh', other)];
    // Act
    const causes = group(outputs);
    // Assess: a linter's footer heading (`For more information:`) and a link cut with an ellipsis are not progress
    expect(causes[1]?.title).toBe('no code for module <*>');
    expect(causes[4]?.title).toContain('SC2086');
    expect(causes[4]?.key).toBe(causes[3]?.key);
    expect(causes[5]?.key).toBe(causes[6]?.key);
    expect(causes[5]?.key).not.toBe(causes[4]?.key);
    expect(causes[1]?.key).not.toBe(causes[4]?.key);
  });

  it("a program's warning is no error (`svn: warning: …`); its error and its diagnostic stay", () => {
    // Prepare: a program's warning holding an error word; the look-alikes: the same program's error and diagnostic
    const lines = ['svn: warning: cannot set LC_CTYPE locale', 'svn: error: cannot set LC_CTYPE locale', 'svn: cannot set LC_CTYPE locale'];
    // Act
    const strengths = lines.map((l) => findErrorLines([l])[0]?.strength ?? 0);
    // Assess
    expect(strengths).toEqual([0, 3, 2]);
  });

  it('a source location then a message is a diagnostic: two errors under the same count of errors stay apart', () => {
    // Prepare: two errors in a file, each followed by the tool's count of errors and a script's closing line; the
    // look-alike: a line that starts with a number and a colon, no file
    const unterminated = (f: string) => `${f}.po:3: end-of-line within string\nmsgfmt: found 1 fatal error\ncatalogs compiled\n`;
    const duplicate = (f: string) => `${f}.po:4: duplicate message definition...\nmsgfmt: found 1 fatal error\ncatalogs compiled\n`;
    // Act
    const causes = group([unterminated('es'), unterminated('fr'), duplicate('de'), duplicate('zh_CN')]);
    const numbered = findErrorLines(['1: Setting LC_CTYPE to C', 'done'])[0];
    // Assess
    expect(causes[0]?.key).toBe(causes[1]?.key);
    expect(causes[2]?.key).toBe(causes[3]?.key);
    expect(causes[0]?.key).not.toBe(causes[2]?.key);
    expect(causes[0]?.title).toBe('<*>.po:<*>: end-of-line within string');
    expect(numbered?.content).toBe('done');
  });

  it("a runner's narrative lines (`[Pipeline] …`, `[retry] …`, `##[endgroup]`) are not the last line a command printed", () => {
    // Prepare: an output that states no error under Jenkins' narrative and under a retry loop's; the look-alike: a
    // bracketed tag that leads one line only (a program's own)
    const jenkins = (last: string) => `[Pipeline] stage\n[Pipeline] sh\n+ ./deploy.sh\nwaiting for ${last} on port 5432\n[Pipeline] }\n[Pipeline] // stage\n[Pipeline] End of Pipeline\nERROR: script returned exit code 124\nFinished: FAILURE\n`;
    const retry = `[retry] attempt 1 of 2\nwaiting for lock /var/lib/dpkg/lock\n[retry] attempt 2 of 2\nwaiting for lock /var/lib/dpkg/lock\n[retry] giving up\n`;
    const own = 'waiting for db\n[db-1] still starting\n';
    // Act
    const [j1, r1, o1] = [jenkins('db'), retry, own].map((o) => errorLine(o));
    const causes = group([jenkins('db'), jenkins('cache'), `${['build', 'unit tests'].join('\n')}\n`.replace(/^/, '[Pipeline] stage\n') + '[Pipeline] End of Pipeline\nFinished: FAILURE\n'], 124);
    // Assess
    expect(j1).toBe('waiting for db on port 5432');
    expect(r1).toBe('waiting for lock /var/lib/dpkg/lock');
    expect(o1).toBe('[db-1] still starting');
    expect(causes[0]?.key).toBe(causes[1]?.key);
    expect(causes[2]?.key).not.toBe(causes[0]?.key);
  });
});

describe('more runtimes, headings and wrappers (hold-out 2, wrapper check)', () => {
  it("Common Lisp's and Guile's stack frames carry no error; a numbered warning line stays", () => {
    // Prepare: SBCL's and Guile's frames (with error words inside); the look-alike: R's numbered warning lines
    const frames = ['12: (SB-IMPL::%OPEN-ERROR #P"/opt/app/init.sexp" 2 :IGNORE-THIS-ARG :ERROR)', '  1218:36  6 (expand-top-sequence (#<syntax:unknown file:1:0 (use-?>) ?)', '          12 (apply-smob/0 #<thunk 7fc1afc2c2e0>)', 'In unknown file:'];
    // Act
    const read = frames.map((l) => findErrorLines([l, 'done'])[0]?.content);
    const warning = findErrorLines(['2: Setting LC_COLLATE failed, using "C"', 'done'])[0]?.content;
    // Assess
    expect(read).toEqual(frames.map(() => 'done'));
    expect(warning).toBe('2: Setting LC_COLLATE failed, using "C"');
  });

  it("a heading is one message with the line under it, wrapped or not; a diagnostic's heading keeps the error below it apart", () => {
    // Prepare: OCaml's uncaught exception on one line and wrapped under `Exception:`; a diagnostic heading over the
    // message; the look-alikes: another exception, and gcc's `In function` heading over its error line
    const oneLine = 'Exception: Sys_error "/srv/app/input.dat: No such file or directory".\n';
    const wrapped = 'Exception:\nSys_error "/usr/local/etc/app/long-name-of-input.dat: No such file or directory".\n';
    const other = 'Exception: Not_found.\n';
    const guile = (m: string) => `Backtrace:\nice-9/boot-9.scm:3330:6: In procedure resolve-interface:\nno code for module (${m})\n`;
    const gcc = "main.c: In function 'main':\nmain.c:5:24: error: 'main_index' undeclared (first use in this function)\n";
    // Act
    const causes = group([oneLine, wrapped, other], 2);
    const guileLine = errorLine(guile('gnutls'));
    const gccLine = errorLine(gcc);
    // Assess
    expect(causes[0]?.key).toBe(causes[1]?.key);
    expect(causes[2]?.key).not.toBe(causes[0]?.key);
    expect(guileLine).toBe('ice-9/boot-9.scm:3330:6: In procedure resolve-interface: no code for module (gnutls)');
    expect(gccLine).toBe("main.c:5:24: error: 'main_index' undeclared (first use in this function)");
  });

  it("GNU parallel's tag and a TAI64N stamp on every line are headers; a name and a tab in one line of a table stay", () => {
    // Prepare: one error bare, under `parallel --tag` (host, tab) and under svlogd's TAI64N stamps; the look-alike:
    // another error under the same tag, and a table row with a tab
    const body = ['fetching release 2.4.1', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const tar = ['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory'];
    const outputs = [wrap(body, () => ''), wrap(body, () => 'web-1\t'), wrap(body, (i) => `@4000000067540a0${i}1d2c3b4a `), wrap(tar, () => 'web-2\t')];
    // Act
    const keys = group(outputs).map((c) => c.key);
    const row = errorLine('NAME\tSTATUS\nweb\tdown: connection refused\n');
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(row).toBe('web\tdown: connection refused');
  });
});

describe("a CI runner's step header", () => {
  it("the fold in which the runner echoes the step (`##[group]Run …`, `shell: …`, `env:`) is not read; a fold the script opens is", () => {
    // Prepare: a linter's report that states no error word, under GitHub Actions' raw log (the step's header fold, the
    // runner's closing status); the look-alike: an error inside a fold the script opened itself
    const ci = (out: string) => `##[group]Run ./ci/lint.sh\n./ci/lint.sh\nshell: /usr/bin/bash -e {0}\nenv:\n  APP: orders\n##[endgroup]\n${out}##[error]Process completed with exit code 1.\n`;
    const own = '##[group]Tests\ntests/a.sh: line 3: jq: command not found\n##[endgroup]\n##[error]Process completed with exit code 1.\n';
    // Act
    const linted = errorLine(ci('In deploy.sh line 6:\nrm -rf /srv/$target\n\nFor more information:\n  https://www.shellcheck.net/wiki/SC2086\n'));
    const inOwnFold = errorLine(own);
    // Assess
    expect(linted).toBe('https://www.shellcheck.net/wiki/SC2086');
    expect(inOwnFold).toBe('tests/a.sh: line 3: jq: command not found');
  });
});

describe("a lower-case level between tabs (zap's console format)", () => {
  it('is a field on any line, even of an output of one line; a lower-case level word before a blank on one line stays', () => {
    // Prepare: one line under `ts\terror\t`, the same line bare; the look-alike: `error handling …` after a timestamp
    const line = 'cp: cannot stat /srv/app/release.tar: No such file or directory';
    // Act
    const keys = group([`${line}\n`, `2026-12-07T10:00:00.123Z\terror\t${line}\n`]).map((c) => c.key);
    const message = errorLine('2026-12-07T10:00:00.123Z error handling failed: exit hook missing\n');
    // Assess
    expect(keys[0]).toBe(keys[1]);
    expect(message).toBe('error handling failed: exit hook missing');
  });
});

describe("the blanks after a logger's level field", () => {
  it("that every levelled line carries pad the field; more are the line's own indentation (a detail line stays a detail)", () => {
    // Prepare: a logger's lines at two levels, one of them an indented detail under the line above; the look-alike: the
    // same detail not indented is a program's diagnostic
    const logged = (detail: string) => `${ts(0)} app INFO fetching release\n${ts(1)} app WARN ${detail}symbol: method fetch()\n`;
    // Act
    const read = (detail: string) => findErrorLines(outputLines(logged(detail)).read).find((l) => l.line === 1)?.strength;
    // Assess
    expect(read('    ')).toBeUndefined();
    expect(read('')).toBe(0.75);
  });
});

describe("BuildKit's step number and seconds on every line", () => {
  it('are a header: the same error bare and in a `docker build` step is one cause; a heading with a hash stays', () => {
    // Prepare: one error bare and as BuildKit's plain progress prints a RUN step (`#8 0.412 <line>`); the look-alikes:
    // another error in a step, and go build's package heading (`# github.com/…`)
    const body = ['fetching release 2.4.1', 'cp: cannot stat /srv/app/release.tar: No such file or directory'];
    const tar = ['fetching release 2.4.1', 'tar: release.tar: Cannot open: No such file or directory'];
    const step = (n: number) => (i: number) => `#${n} ${(0.1 + i * 0.013).toFixed(3)} `;
    const outputs = [wrap(body, () => ''), wrap(body, step(8)), wrap(body, step(11)), wrap(tar, step(8))];
    // Act
    const keys = group(outputs).map((c) => c.key);
    const goBuild = errorLine('# github.com/acme/relay\n./main.go:9:26: undefined: drainTimeout\n');
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(goBuild).toBe('./main.go:9:26: undefined: drainTimeout');
  });
});

describe("syslog's host and tag on an output of one line", () => {
  it("are a header after syslog's timestamp; a program's own `prog: ` or `word error: ` after a timestamp stays", () => {
    // Prepare: one-line results bare and as syslog writes them (`logger -t deploy`, with and without the priority); the
    // look-alikes: another one-line error under syslog, moreutils' `ts` before a program's own diagnostic, and a
    // message whose second word is an error word
    const a = (p: string) => `mkdir: cannot create directory '/srv/${p}': Permission denied`;
    const b = 'curl: (6) Could not resolve host: db.internal';
    const outputs = [`${a('web-1')}\n`, `Dec  7 10:00:01 web-1 deploy: ${a('web-2')}\n`, `<13>Dec  7 10:00:02 api deploy: ${a('api')}\n`, `Dec  7 10:00:03 web-2 deploy: ${b}\n`];
    // Act
    const keys = group(outputs).map((c) => c.key);
    const ts = errorLine('Dec 07 10:00:01 cp: cannot stat /srv/a: No such file or directory\n');
    const parse = errorLine('Dec 07 10:00:01 parse error: Invalid numeric literal at line 1, column 5\n');
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(ts).toBe('cp: cannot stat /srv/a: No such file or directory');
    expect(parse).toBe('parse error: Invalid numeric literal at line 1, column 5');
  });
});

describe('review findings on the choice of line (02:25)', () => {
  it("a runner's outcome is a job's, not a program's: `Authentication failed` and `Connection failed` stay apart and titled", () => {
    // Prepare: short error statements after a progress line (one each); the look-alike: a runner's closing outcome
    const outputs = ['Connecting to api.example.com\nAuthentication failed\n', 'Connecting to api.example.com\nConnection failed\n', 'Starting upload\nUpload aborted\n'];
    // Act
    const causes = group(outputs);
    const outcome = findErrorLines(['Finished: FAILURE'])[0]?.strength;
    // Assess
    expect(causes.map((c) => c.title)).toEqual(['Authentication failed', 'Connection failed', 'Upload aborted']);
    expect(outcome).toBe(0.5);
  });

  it("a status line without an error stem is still a candidate: the title is never empty; two exit codes stay apart", () => {
    // Prepare: a wrapper's status line alone, and after a progress line
    // Act
    const alone = errorLine('command exited with code 124\n');
    const after = findErrorLines(outputLines('starting deploy\ncommand exited with code 137\n').read).map((l) => l.content);
    // Assess
    expect(alone).toBe('command exited with code 124');
    expect(after).toEqual(['starting deploy', 'command exited with code 137']);
  });

  it("stack frame patterns need the runtime's own marks: an indented HTTP status or `1: (config)` is no frame", () => {
    // Prepare: lines of other programs that look like SBCL's or Guile's frames
    // Act
    const http = errorLine('upload report\n  503 (Service Unavailable) from https://api.example.com/v1\n');
    const config = errorLine('1: (config) missing key "region"\n');
    const heading = errorLine('In main.py:\n');
    // Assess
    expect(http).toBe('503 (Service Unavailable) from https://api.example.com/v1');
    expect(config).toBe('1: (config) missing key "region"');
    expect(heading).toBe('In main.py:');
  });

  it("a footer heading that says nothing of its own (`For more information:`) is not the last plain line; one alone still is", () => {
    // Prepare: a linter's report ending in a footer heading; the look-alike: an output that is only a heading
    // Act
    const report = errorLine('In deploy.sh line 6:\nrm -rf /srv/$target\n\nFor more information:\n');
    const alone = errorLine('Did you mean:\n');
    // Assess
    expect(report).toBe('rm -rf /srv/$target');
    expect(alone).toBe('Did you mean:');
  });
});

describe('a structured line keeps the fields that name the kind of its failure (review)', () => {
  it('status, code, reason, kind and type fields stay after the message; other fields (url, id, time) stay out', () => {
    // Prepare: logfmt and JSON lines of one message with a status or a code field; the look-alike: fields that are values
    // Act
    const logfmt = errorLine('time="2026-12-07T10:00:00Z" level=error msg="request failed" url=http://h/x status=404\n');
    const json = errorLine('{"ts":"2026-12-07T10:00:00Z","level":"error","msg":"lookup failed","id":"x-1","error_code":"NotFound"}\n');
    const plain = errorLine('{"ts":"2026-12-07T10:00:00Z","level":"error","msg":"lookup failed","id":"x-1","host":"web-1"}\n');
    // Assess
    expect(logfmt).toBe('ERROR: request failed status=404');
    expect(json).toBe('ERROR: lookup failed error_code=NotFound');
    expect(plain).toBe('ERROR: lookup failed');
  });
});
