/**
 * No secret printed by a command reaches anything summarize writes or serves (summary.json, summary.md,
 * report.html, retry.txt, the JSON and DingTalk notifications, the HTTP bodies of loadSummary), while the archive's
 * parts keep every byte; and ordinary lines reach the report unchanged.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partKey, reportKey, retryListKey, summaryKey, summaryMarkdownKey, type ArchiveRef } from '../../lib/archive/layout';
import { silentLogger } from '../../lib/log';
import { loadSummary, summarizeArchive } from '../../lib/summary/index';
import type { NotifyConfig } from '../../lib/summary/notify';
import type { Summary } from '../../lib/summary/summary';
import { ecsRecord, instanceId, oosChild, oosRecord, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore, type MemoryStore } from '../helpers/memory-store';
import { MULTI_LINE_SECRETS, ORDINARY_LINES, SECRET_LINES } from '../fixtures/secret-corpus';

/** A webhook on 127.0.0.1 that keeps every body it receives. */
let hook: { server: Server; url: string; bodies: string[] };
beforeAll(async () => {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
});
afterAll(async () => {
  await new Promise((resolve) => hook.server.close(resolve));
});

const notify = (format: NotifyConfig['format']): NotifyConfig => ({ webhookUrl: hook.url, format, minFailures: 1, minFailureRatio: 0 });

/** Every object summarize wrote for `ref`, and what loadSummary serves in each format. */
async function outputsOf(store: MemoryStore, ref: ArchiveRef): Promise<Record<string, string>> {
  const read = async (key: string) => (await store.get(key))?.toString('utf8') ?? '';
  const served = async (format: 'json' | 'html' | 'md') => (await loadSummary({ store, ref, logger: silentLogger }, format)).read().then((b) => b.toString('utf8'));
  return {
    'summary.json': await read(summaryKey(ref)),
    'summary.md': await read(summaryMarkdownKey(ref)),
    'report.html': await read(reportKey(ref)),
    'retry.txt': await read(retryListKey(ref)),
    'served json': await served('json'),
    'served html': await served('html'),
    'served md': await served('md'),
  };
}

/** The forms a value may take in an output: as is, JSON-escaped, HTML-escaped. */
function forms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const html = secret.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return [...new Set([secret, json, html, json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')])];
}

/** What of a secret must not be shown: all of it, and (issue 21's measure) none of its 8-character pieces. */
function pieces(secret: string): string[] {
  if (secret.length <= 8) return [secret];
  return Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8)).filter((p) => p.trim().length === 8);
}

function expectAbsent(outputs: Record<string, string>, secrets: readonly string[]): void {
  for (const [name, body] of Object.entries(outputs)) {
    for (const secret of secrets) {
      for (const piece of pieces(secret)) {
        for (const form of forms(piece)) expect(body.includes(form), `${name} shows ${JSON.stringify(piece)} of ${JSON.stringify(secret)}`).toBe(false);
      }
    }
  }
}

describe('secrets never reach what summarize writes or serves', () => {
  it.each(SECRET_LINES.map((s, i) => [i, s.line.slice(0, 50), s] as const))('ECS line %i: %s', async (i, _name, s) => {
    // Prepare: an invocation whose command is named with the line, one instance printing the line last, one whose
    // ErrorInfo is the line, one whose output carries it among other lines; a JSON and a DingTalk notification.
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: `t-hz0jdfwd9f${String(i).padStart(4, '0')}` };
    const failed = { InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, ErrorInfo: 'The command execution exit code is not zero.' };
    await writeArchive(store, {
      ref,
      records: [
        ecsRecord({ ...failed, InstanceId: instanceId(1), Output: `starting\n${s.line}\n` }),
        ecsRecord({ ...failed, InstanceId: instanceId(2), ErrorInfo: s.line, Output: '' }),
        ecsRecord({ ...failed, InstanceId: instanceId(3), Output: `step 1\n${s.line}\nstep 2 failed\n` }),
        ecsRecord({ InstanceId: instanceId(4) }),
      ],
      related: { invocation: [{ InvokeId: ref.id, CommandName: `deploy ${s.line}`, InvocationStatus: 'Failed', CreationTime: '2024-05-01T10:00:00Z' }] },
    });
    const before = hook.bodies.length;

    // Act
    const { summary } = await summarizeArchive({ store, ref, logger: silentLogger, notify: notify(i % 2 === 0 ? 'json' : 'dingtalk') });
    const outputs = await outputsOf(store, ref);
    outputs.notification = hook.bodies.slice(before).join('\n');

    // Assess: sent and written, without the secret; the parts keep it
    expect(outputs.notification).not.toBe('');
    expect(summary.failures).toBe(3);
    expectAbsent(outputs, s.secrets);
    expect(outputs['summary.json']).toContain('<redacted>');
    const part = gunzipSync((await store.get(partKey(ref, 0))) ?? Buffer.alloc(0)).toString('utf8');
    for (const secret of s.secrets) expect(part).toContain(JSON.stringify(secret).slice(1, -1));
  });

  it('OOS: secrets in the failed children\'s StatusMessage and in Outputs', async () => {
    // Prepare: one resource per secret line, its child execution's message and its Outputs carrying the line
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac13' };
    const rows = SECRET_LINES.map((s, n) => oosRecord({ ResourceId: instanceId(n), Status: 'Failed', Outputs: JSON.stringify({ commandOutput: `run\n${s.line}\n`, exitCode: 1 }) }));
    const children = SECRET_LINES.map((s, n) =>
      oosChild({ ExecutionId: `exec-child${String(n).padStart(10, '0')}`, StatusMessage: `Task 'runCommand' failed: ExitCodeNonzero: ${s.line} (InstanceId: ${instanceId(n)}, ExitCode: 1)`, Parameters: { instanceId: instanceId(n) } }),
    );
    await writeArchive(store, { ref, records: rows, related: { 'failed-child-executions': children } });
    const before = hook.bodies.length;

    // Act
    await summarizeArchive({ store, ref, logger: silentLogger, notify: notify('json') });
    const outputs = await outputsOf(store, ref);
    outputs.notification = hook.bodies.slice(before).join('\n');

    // Assess
    expect(outputs.notification).not.toBe('');
    expectAbsent(outputs, SECRET_LINES.flatMap((s) => s.secrets));
  });

  it.each(MULTI_LINE_SECRETS.map((s, i) => [i, s.line.split('\n')[0] ?? '', s] as const))('a multi-line construct %i (%s…) inside an output', async (i, _name, s) => {
    // Prepare: the construct among other lines of one instance's output, and as the whole output of another
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: `t-hz0jdfwd9fm${String(i).padStart(3, '0')}` };
    const failed = { InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, ErrorInfo: 'The command execution exit code is not zero.' };
    await writeArchive(store, {
      ref,
      records: [
        ecsRecord({ ...failed, InstanceId: instanceId(1), Output: `step 1 ok\n${s.line}\nerror: step 2 failed\n` }),
        ecsRecord({ ...failed, InstanceId: instanceId(2), Output: `${s.line}\n` }),
      ],
    });

    // Act
    await summarizeArchive({ store, ref, logger: silentLogger });
    const outputs = await outputsOf(store, ref);

    // Assess: no line of it is shown, in the example, the error lines or the title
    expectAbsent(outputs, s.secrets);
  });

  it('bidirectional controls are shown as escapes, never obeyed, in everything summarize writes or serves', async () => {
    // Prepare: an output and an error message whose file name hides its extension behind a right-to-left override
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9fbidi' };
    const hidden = 'invoice\u202egnp.exe';
    await writeArchive(store, {
      ref,
      records: [
        ecsRecord({ InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, InstanceId: instanceId(1), ErrorInfo: `cannot open ${hidden}`, Output: `copy \u2066${hidden}\u2069 failed\n` }),
      ],
      related: { invocation: [{ InvokeId: ref.id, CommandName: `fetch ${hidden}`, InvocationStatus: 'Failed', CreationTime: '2024-05-01T10:00:00Z' }] },
    });
    const before = hook.bodies.length;

    // Act
    await summarizeArchive({ store, ref, logger: silentLogger, notify: notify('dingtalk') });
    const outputs = await outputsOf(store, ref);
    outputs.notification = hook.bodies.slice(before).join('\n');

    // Assess: no raw control anywhere (JSON may escape it as \u202e: parsed, it must be the visible escape)
    for (const [name, body] of Object.entries(outputs)) {
      expect(/[\u202a-\u202e\u2066-\u2069]/.test(body), `${name} holds a raw bidirectional control`).toBe(false);
      if (name.includes('json') || name === 'notification') expect(JSON.stringify(JSON.parse(body))).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    }
    expect(outputs['summary.md']).toContain('invoice\\u202egnp.exe');
    expect(outputs['report.html']).toContain('invoice\\u202egnp.exe');
  });

  it('a stored summary computed without the masking rules is recomputed, not served', async () => {
    // Prepare: a summary, then the same summary.json as an older build would have left it (no `masking`, a secret)
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0old' };
    await writeArchive(store, { ref, records: [ecsRecord({ InvocationStatus: 'Failed', ExitCode: 1, Output: 'mysql -uroot -phunter2\n' })] });
    const { summary } = await summarizeArchive({ store, ref, logger: silentLogger });
    const { masking: _masking, ...old } = summary;
    await store.put(summaryKey(ref), JSON.stringify({ ...old, groups: [{ ...summary.groups[0], title: 'mysql -uroot -phunter2' }] }));

    // Act
    const served = await loadSummary({ store, ref, logger: silentLogger }, 'json');

    // Assess
    expect(served.computed).toBe(true);
    expect((await served.read()).toString('utf8')).not.toContain('hunter2');
  });
});

describe('ordinary lines reach the report unchanged', () => {
  it('each instance\'s own error line is the line it printed', async () => {
    // Prepare: one failed instance per ordinary line, the line printed last
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0ord' };
    const lines = ORDINARY_LINES.filter((l) => l.trim() !== '');
    await writeArchive(store, {
      ref,
      records: lines.map((line, n) => ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, Output: `begin\n${line}\n` })),
    });

    // Act
    const { summary } = await summarizeArchive({ store, ref, logger: silentLogger });

    // Assess: every instance's error is its own line, unmasked (the noise filter may skip a line that is only a
    // prompt, which then shows the line before it)
    const errors = new Map(summary.groups.flatMap((g: Summary['groups'][number]) => g.instanceErrors.map((e) => [e.id, e.error] as const)));
    lines.forEach((line, n) => {
      const error = errors.get(instanceId(n));
      expect([line.replace(/\s+/g, ' ').trim(), 'begin']).toContain(error);
    });
    expect(lines.filter((line, n) => errors.get(instanceId(n)) === line.replace(/\s+/g, ' ').trim()).length).toBeGreaterThanOrEqual(40);
  });
});
