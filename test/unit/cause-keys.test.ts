/**
 * What a cause key is made of once the error line is found (lib/causes/failure.ts): which of a failure's lines the
 * grouper keeps when a wrapper's lines stand beside every cause, and which words of a template are kinds or values.
 * Each rule with a look-alike pair that must stay apart.
 */
import { describe, expect, it } from 'vitest';
import { groupOutputs } from '../helpers/causes';

/** Groups outputs as one invocation (status Failed, exit code 2 unless given). */
const group = (outputs: readonly string[], exitCode: number | null = 2) => groupOutputs(outputs, exitCode);

/** A release script's run: its step's output, then the same closing line after every failure (loud: a level word). */
const released = (body: string) => `==> installing certificates\n${body}ERROR: release aborted, see the lines above\n`;

describe('the grouper: which line of a failure is its error line', () => {
  it('when every line of a failure is boilerplate, the one that stood beside the fewest lines is its error line', () => {
    // Prepare: a tool's generic last line follows its specific messages (boilerplate beside them), and two causes print
    // only such a generic line (one each) under the script's closing line (boilerplate beside everything, and louder)
    const outputs = [0, 1, 2, 3].flatMap((i) => [
      released(`Could not read certificate from /etc/ssl/a${i}/tls.crt\nUnable to load certificate\n`),
      released(`Could not find a certificate in /etc/ssl/b${i}/ca.pem\nUnable to load certificate\n`),
      released(`Could not read key from /etc/ssl/k${i}/tls.key\nUnable to load private key\n`),
      released(`Could not find a private key in /etc/ssl/q${i}/key.pem\nUnable to load private key\n`),
      released('Unable to load certificate\n'),
      released('Unable to load private key\n'),
    ]);
    // Act
    const causes = group(outputs);
    // Assess: the two outputs of only a generic line are two causes, titled by it, not one under the closing line
    const certs = causes.filter((_c, i) => i % 6 === 4);
    const keys = causes.filter((_c, i) => i % 6 === 5);
    expect(new Set(certs.map((c) => c.key)).size).toBe(1);
    expect(new Set(keys.map((c) => c.key)).size).toBe(1);
    expect(certs[0]?.key).not.toBe(keys[0]?.key);
    expect(certs[0]?.title).toBe('Unable to load certificate');
    expect(keys[0]?.title).toBe('Unable to load private key');
  });
});

describe('the grouper: lines beside an error line', () => {
  it('lines that differ in one value are one line: an error line they stand beside is no boilerplate; lines that differ in a kind are two', () => {
    // Prepare: a runtime's error after a step's own line that names the step (a value); look-alike: a script's loud
    // closing line after two errors that differ in one word of the error vocabulary (two causes: it is boilerplate)
    const steps = ['crm', 'crm', 'search', 'search'].map((s) => `${s}: loading\nException: Not_found.\n`);
    const fetches = ['refused', 'refused', 'reset', 'reset'].map((k) => `fetch: connection ${k}\nERROR: deploy aborted, rolling back\n`);
    // Act
    const causes = group([...steps, ...fetches]);
    // Assess
    expect(new Set(causes.slice(0, 4).map((c) => c.title))).toEqual(new Set(['Exception: Not_found.']));
    expect(causes[4]?.title).toBe('fetch: connection refused');
    expect(causes[6]?.title).toBe('fetch: connection reset');
    expect(new Set(causes.map((c) => c.key)).size).toBe(3);
  });
});

describe('words of a template: kinds and values', () => {
  it("an error type's name is a kind: two exceptions with the same words after them stay two causes", () => {
    // Prepare: one tag in front of every line (a program's name), then a runtime's exception line: two exception types
    // with the same message shape, each twice, and two qualified type names once each
    const tagged = (type: string, value: string) => `worker: starting batch\nworker: ${type}: '${value}'\n`;
    const outputs = [tagged('KeyError', 'region'), tagged('KeyError', 'tier'), tagged('IndexError', 'region'), tagged('IndexError', 'zone')];
    // Act
    const causes = group([...outputs, 'worker: java.io.IOException: stream closed\n', 'worker: java.io.EOFException: stream closed\n']);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).toBe(keys[3]);
    expect(keys[0]).not.toBe(keys[2]);
    expect(causes[0]?.title).toBe("worker: KeyError: '<*>'");
    expect(keys[4]).not.toBe(keys[5]);
  });
});

describe('a name in capitals in front of a message: a code or a subject', () => {
  it("a program's own code named for what went wrong is a kind; a variable's name is a value", () => {
    // Prepare: two codes of no standard vocabulary, named for the failure, before the same words (each twice); two
    // more whose failure word is one of their parts; look-alike: shell variables' names before the same words (join)
    const coded = ['AUTH_FAILED', 'AUTH_FAILED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', 'ERR_NO_SPACE', 'ERR_NO_SPACE'].map(
      (code, i) => `pushing batch ${i}\n${code}: request rejected by the upstream service\n`,
    );
    const variables = ['DB_HOST', 'DB_PORT', 'SHARD_KEY'].map((v, i) => `/tmp/job-${i}.sh: line 3: ${v}: unbound variable\n`);
    // Act
    const causes = group([...coded, ...variables]);
    const keys = causes.map((c) => c.key);
    // Assess
    for (let i = 0; i < 8; i += 2) expect(keys[i]).toBe(keys[i + 1]);
    expect(new Set(keys.slice(0, 8)).size).toBe(4);
    expect(new Set(keys.slice(8)).size).toBe(1);
    expect(causes[8]?.title).toBe('<*>: unbound variable');
  });
});

describe('a loud trailer after causes seen once each', () => {
  it('is boilerplate, not their error line: three different errors, one result each, are three causes', () => {
    // Prepare: a deploy script's progress line, its error, its cleanup and its trailer (a level word: louder than the
    // programs' diagnostics); each cause failed on one instance only, so no line stood beside the trailer twice
    const run = (version: string, error: string) => `Downloading agent ${version} ...\n${error}\ncleaning up /tmp/work\nERROR: step deploy failed, see above\n`;
    const outputs = [
      run('1.2.3', 'config error: missing key region'),
      run('1.2.4', 'curl: (6) Could not resolve host: repo.example.com'),
      run('1.2.5', 'tar: agent.tgz: Cannot open: No such file or directory'),
    ];
    // Act
    const causes = group(outputs);
    // Assess: three keys, none titled by the trailer
    expect(new Set(causes.map((c) => c.key)).size).toBe(3);
    for (const c of causes) expect(c.title).not.toContain('step deploy failed');
  });
});

describe("a message's last word after its label", () => {
  it('one word after the last label is the value the message is about; a word that names a kind stays', () => {
    // Prepare: one check's message with a different bad input each time (each seen once, so no other template shows the
    // place varies), once with the call in front (R's `Error in f(x) :`); look-alikes: a message whose last word after
    // the label is a kind (`timeout`, `refused`), each twice
    const counts = ['none', '378x', 'auto'].map((v) => `Error: invalid worker count: ${v}\nExecution halted\n`);
    counts.push('Error in check(Sys.getenv("WORKERS")) : invalid worker count: many\nExecution halted\n');
    const kinds = ['timeout', 'timeout', 'refused', 'refused'].map((k) => `sync: upstream fetch failed: ${k}\n`);
    // Act
    const causes = group([...counts, ...kinds]);
    const keys = causes.map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(causes[0]?.title).toBe('Error: invalid worker count: <*>');
    expect(keys[4]).toBe(keys[5]);
    expect(keys[6]).toBe(keys[7]);
    expect(keys[4]).not.toBe(keys[6]);
    expect(causes[4]?.title).toBe('sync: upstream fetch failed: timeout');
  });
});

describe("a message's last word after a label that asks for a state", () => {
  it('is which state held, a kind: two states are two causes, and one state from several runs is one', () => {
    // Prepare: a check that prints the state it found (each state three times), a job that prints why it stopped; the
    // look-alike in the same form whose label asks for a value (`invalid worker count: none` / `auto`)
    const states = ['unhealthy', 'unhealthy', 'unhealthy', 'starting', 'starting', 'starting'].map((s) => `health check: status: ${s}\n`);
    const stops = ['cancelled', 'preempted'].map((c) => `job stopped: cause: ${c}\n`);
    const values = ['none', 'auto'].map((v) => `Error: invalid worker count: ${v}\n`);
    // Act
    const keys = group([...states, ...stops, ...values]).map((c) => c.key);
    // Assess
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(new Set(keys.slice(3, 6)).size).toBe(1);
    expect(keys[0]).not.toBe(keys[3]);
    expect(keys[6]).not.toBe(keys[7]);
    expect(keys[8]).toBe(keys[9]);
  });
});

describe('a number in a code or status slot', () => {
  it('is a kind after a word naming a code or status, or before a reason phrase; other numbers are values', () => {
    // Prepare: look-alike pairs that differ only in an HTTP status, each printed alone in its own run (a key must hold
    // across runs); and one message with the same status and a different host/port/size (one cause)
    const pairs = [
      ['Error: upload failed with status 404', 'Error: upload failed with status 503'],
      ['Error: GET https://h/api/x returned status code 404', 'Error: GET https://h/api/x returned status code 503'],
      ['response code: 404', 'response code: 500'],
      ['Server responded with 404', 'Server responded with 500'],
      ['fetch failed: statusCode: 404', 'fetch failed: statusCode: 503'],
      ['deploy failed: http_status=502', 'deploy failed: http_status=401'],
      ['requests.exceptions.HTTPError: 404 Client Error for url: https://h/x', 'requests.exceptions.HTTPError: 403 Client Error for url: https://h/x'],
      ['upload: 503 Service Unavailable', 'upload: 504 Gateway Timeout'],
      ['upload failed: status 401', 'upload failed: status 503'],
    ];
    const same = [
      ['deploy: got status 401 from 10.0.0.1:443 after 12 tries', 'deploy: got status 401 from 10.2.3.4:8443 after 3 tries'],
      // a server-side status (5xx) in a status slot is its class; a success status is a value; a key code is no code slot
      ['healthcheck: api unhealthy (status=500, 1 of 6 probes failed)', 'healthcheck: api unhealthy (status=503, 2 of 8 probes failed)'],
      ['GET /v2/servers status: 200 len: 1893', 'GET /v2/servers status: 204 len: 211'],
      ['interceptKeyTq keycode=3 interactive=true', 'interceptKeyTq keycode=4 interactive=true'],
    ];
    // Act: each output alone, one run each
    const keyOf = (o: string) => group([o])[0]?.key;
    // Assess
    for (const [a, b] of pairs) expect(keyOf(a ?? ''), `${a} / ${b}`).not.toBe(keyOf(b ?? ''));
    for (const [a, b] of same) expect(keyOf(a ?? ''), `${a} / ${b}`).toBe(keyOf(b ?? ''));
  });
});

describe('a word in a code slot, and codes seen once in an invocation', () => {
  it('a capitalised code after code/status, in brackets after `occurred`, or heading a message, and a code key`s value are kinds, even seen once', () => {
    // Prepare: look-alike pairs (two causes each), ONE result per cause in one invocation, so nothing but the words
    // tells the miner whether the position varies; and the same code with another value (one cause)
    const pairs = [
      ['Error: rpc error: code = NotFound desc = object a', 'Error: rpc error: code = PermissionDenied desc = object a'],
      ['An error occurred (AccessDenied) when calling the GetObject operation: denied', 'An error occurred (NoSuchBucket) when calling the GetObject operation: denied'],
      ['Error: InvalidAccessKeyId: The key does not exist', 'Error: SignatureDoesNotMatch: The key does not exist'],
      ['deploy failed: code=E_TIMEOUT', 'deploy failed: code=E_AUTH'],
      ['ERROR: dial failed: connection refused', 'ERROR: dial failed: permission denied'],
      ['Error: upload failed with status 404', 'Error: upload failed with status 503'],
    ];
    const same = ['Error: rpc error: code = NotFound desc = object orders-7', 'Error: rpc error: code = NotFound desc = object users-12'];
    // Act
    const causes = pairs.map((pair) => group(pair));
    const joined = group([...same, 'Error: rpc error: code = PermissionDenied desc = object a']);
    // Assess
    causes.forEach((c, i) => expect(c[0]?.key, pairs[i]?.join(' / ')).not.toBe(c[1]?.key));
    expect(joined[0]?.key).toBe(joined[1]?.key);
    expect(joined[0]?.key).not.toBe(joined[2]?.key);
  });
});

describe('plain words seen once', () => {
  it('two different plain words seen once each stay two causes; words that look like values still vary', () => {
    // Prepare: look-alike pairs that differ in one plain word (two causes), one result each in one invocation; and one
    // message whose differing word holds a digit or a dot (one cause with two values)
    const pairs = [
      ['error: VM started on node', 'error: VM stopped on node'],
      ['java.net.SocketTimeoutException: Read timed out', 'java.net.SocketTimeoutException: Connect timed out'],
      ['fatal: could not lock config file /etc/gitconfig: Permission denied', 'fatal: could not lock config file /etc/gitconfig: File exists'],
    ];
    const same = ['ReferenceError: logger2 is not defined', 'ReferenceError: uuidv4 is not defined'];
    // Act
    const causes = pairs.map((pair) => group(pair));
    const joined = group(same);
    // Assess
    causes.forEach((c, i) => expect(c[0]?.key, pairs[i]?.join(' / ')).not.toBe(c[1]?.key));
    expect(joined[0]?.key).toBe(joined[1]?.key);
  });
});
