import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { notifiedKey, type ArchiveRef } from '../../lib/archive/layout';
import { ConfigError } from '../../lib/errors';
import { createLogger, silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import { loadConfig } from '../../lib/config';
import { maskUrl, type NotifyConfig } from '../../lib/summary/notify';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore, type MemoryStore } from '../helpers/memory-store';

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const TOKEN = 'SECRET-TOKEN-0123456789abcdef';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A webhook receiver on 127.0.0.1 that records requests and answers with `reply`. */
async function receiver(reply: (req: Received, res: ServerResponse) => void = (_r, res) => res.end('{"errcode":0,"errmsg":"ok"}')) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      reply(r, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { received, url: `http://127.0.0.1:${port}/robot/send?access_token=${TOKEN}` };
}

/** 10 records, 4 failed (40%); one output carries a password. */
async function archive(): Promise<MemoryStore> {
  const store = createMemoryStore();
  await writeArchive(store, {
    ref: REF,
    records: Array.from({ length: 10 }, (_, n) =>
      n < 4
        ? ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ExitCode: 1, ErrorCode: 'ExitCodeNonzero', ErrorInfo: 'The command execution exit code is not zero.', Output: `mysql -uroot --password=hunter2 -h 10.0.0.${n}\nERROR 2003 (HY000): Can't connect to MySQL server on '10.0.0.${n}:3306' (111)\n` })
        : ecsRecord({ InstanceId: instanceId(n) }),
    ),
  });
  return store;
}

function logs() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

const config = (url: string, over: Partial<NotifyConfig> = {}): NotifyConfig => ({ webhookUrl: url, format: 'json', minFailures: 1, minFailureRatio: 0, ...over });

describe('notifications', () => {
  it('notifies once per archive, however many times it is summarized', async () => {
    const hook = await receiver();
    const store = await archive();
    const first = await summarizeArchive({ store, ref: REF, logger: silentLogger, notify: config(hook.url) });
    const second = await summarizeArchive({ store, ref: REF, logger: silentLogger, notify: config(hook.url) });
    expect(first.notification).toEqual({ sent: true, status: 200 });
    expect(second.notification).toEqual({ sent: false, reason: 'already-notified' });
    expect(hook.received).toHaveLength(1);
    const req = hook.received[0];
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(req?.body ?? '');
    expect(body).toMatchObject({ event: 'execution-archive.failures', source: 'ecs', regionId: 'cn-hangzhou', id: REF.id, total: 10, failures: 4, failureRatio: 0.4, causes: 1, retryCount: 4 });
    expect(body.headline).toBe('4 of 10 failed (40.0%) in 1 cause');
    expect(body.topGroups[0]).toMatchObject({ count: 4, status: 'Failed', exitCode: 1, errorCode: 'ExitCodeNonzero', exampleId: instanceId(0) });
    expect(body.topGroups[0].title).toBe("ERROR 2003 (HY000): Can't connect to MySQL server on '<*>' (<*>)");
    const marker = JSON.parse(store.text(notifiedKey(REF)) ?? '');
    expect(marker.target).toBe(`http://${new URL(hook.url).host}/robot/…?…`);
  });

  it('does not notify below the thresholds', async () => {
    const hook = await receiver();
    const store = await archive();
    const few = await summarizeArchive({ store, ref: REF, logger: silentLogger, notify: config(hook.url, { minFailures: 5 }) });
    expect(few.notification).toEqual({ sent: false, reason: 'below-threshold' });
    const share = await summarizeArchive({ store, ref: REF, logger: silentLogger, notify: config(hook.url, { minFailureRatio: 0.5 }) });
    expect(share.notification).toEqual({ sent: false, reason: 'below-threshold' });
    expect(hook.received).toHaveLength(0);
    expect(store.objects.has(notifiedKey(REF))).toBe(false);
  });

  it('never notifies an archive without failures', async () => {
    const hook = await receiver();
    const store = createMemoryStore();
    await writeArchive(store, { ref: REF, records: [ecsRecord()] });
    const r = await summarizeArchive({ store, ref: REF, logger: silentLogger, notify: config(hook.url, { minFailures: 0 }) });
    expect(r.notification).toEqual({ sent: false, reason: 'below-threshold' });
    expect(hook.received).toHaveLength(0);
  });

  it('sends a DingTalk markdown message, signed when a secret is set', async () => {
    const hook = await receiver();
    const store = await archive();
    const now = () => new Date(1_714_550_400_000);
    const r = await summarizeArchive({ store, ref: REF, logger: silentLogger, now, notify: config(hook.url, { format: 'dingtalk', dingtalkSecret: 'SEC-robot-secret' }) });
    expect(r.notification).toEqual({ sent: true, status: 200 });
    const req = hook.received[0];
    const body = JSON.parse(req?.body ?? '');
    expect(Object.keys(body)).toEqual(['msgtype', 'markdown']);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe(`execution-archive: 4 failed in ${REF.id}`);
    expect(body.markdown.text).toContain('**4 of 10 failed (40.0%) in 1 cause**');
    expect(body.markdown.text).toContain("1. **4** × Failed · exit 1 · ExitCodeNonzero (100.0%): `ERROR 2003 (HY000): Can't connect to MySQL server on '<*>' (<*>)`");
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.searchParams.get('access_token')).toBe(TOKEN);
    expect(url.searchParams.get('timestamp')).toBe('1714550400000');
    expect(url.searchParams.get('sign')).toBe(createHmac('sha256', 'SEC-robot-secret').update('1714550400000\nSEC-robot-secret').digest('base64'));
    expect(req?.body).not.toContain('SEC-robot-secret');
  });

  it('treats a DingTalk refusal (errcode) as a delivery failure', async () => {
    const hook = await receiver((_r, res) => res.end('{"errcode":310000,"errmsg":"keywords not in content"}'));
    const store = await archive();
    const { lines, logger } = logs();
    const r = await summarizeArchive({ store, ref: REF, logger, notify: config(hook.url, { format: 'dingtalk' }) });
    expect(r.notification).toMatchObject({ sent: false, reason: 'delivery-failed', error: 'errcode 310000: keywords not in content' });
    expect(lines.some((l) => l.includes('DingTalk refused the notification'))).toBe(true);
  });

  it('logs a 500 from the receiver and still succeeds', async () => {
    const hook = await receiver((_r, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const store = await archive();
    const { lines, logger } = logs();
    const r = await summarizeArchive({ store, ref: REF, logger, notify: config(hook.url) });
    expect(r.summary.failures).toBe(4);
    expect(r.notification).toEqual({ sent: false, reason: 'delivery-failed', status: 500 });
    const warn = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'the notification webhook answered with an error');
    expect(warn).toMatchObject({ level: 'warn', status: 500 });
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('logs an unreachable receiver (closed port) and still succeeds', async () => {
    const hook = await receiver();
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const store = await archive();
    const { lines, logger } = logs();
    const r = await summarizeArchive({ store, ref: REF, logger, notify: config(hook.url) });
    expect(r.notification).toMatchObject({ sent: false, reason: 'delivery-failed' });
    expect(r.notification && 'error' in r.notification ? r.notification.error : '').toMatch(/ECONNREFUSED/);
    expect(lines.some((l) => l.includes('the notification could not be delivered'))).toBe(true);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const hook = await receiver(() => undefined); // never answers
    const store = await archive();
    const started = Date.now();
    const r = await summarizeArchive({ store, ref: REF, logger: silentLogger, notify: config(hook.url, { timeoutMs: 300 }) });
    expect(r.notification).toMatchObject({ sent: false, reason: 'delivery-failed' });
    expect(Date.now() - started).toBeLessThan(3000);
    servers.pop()?.closeAllConnections();
  });

  it('sends no secret: neither the webhook token nor secrets printed in outputs, nor raw outputs', async () => {
    const hook = await receiver();
    const store = await archive();
    const { lines, logger } = logs();
    await summarizeArchive({ store, ref: REF, logger, notify: config(hook.url) });
    const body = hook.received[0]?.body ?? '';
    expect(body).not.toContain(TOKEN);
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('10.0.0.1');
    expect(body).not.toContain('10.0.0.'); // the raw output (the example) is not sent, only mined templates
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});

describe('the notification settings (loadConfig)', () => {
  const readNotifyConfig = (env: NodeJS.ProcessEnv) => loadConfig(env).notify;
  it('is off without a webhook URL', () => {
    expect(readNotifyConfig({})).toBeUndefined();
    expect(readNotifyConfig({ NOTIFY_WEBHOOK_URL: '  ' })).toBeUndefined();
  });
  it('reads the defaults and overrides', () => {
    expect(readNotifyConfig({ NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x' })).toEqual({
      webhookUrl: 'https://hooks.example.com/x',
      format: 'json',
      minFailures: 1,
      minFailureRatio: 0,
      dingtalkSecret: undefined,
    });
    expect(
      readNotifyConfig({ NOTIFY_WEBHOOK_URL: 'https://oapi.dingtalk.com/robot/send?access_token=x', NOTIFY_FORMAT: 'DingTalk', NOTIFY_MIN_FAILURES: '10', NOTIFY_MIN_FAILURE_RATIO: '0.05' }),
    ).toMatchObject({ format: 'dingtalk', minFailures: 10, minFailureRatio: 0.05 });
  });
  it.each([
    [{ NOTIFY_WEBHOOK_URL: 'not a url' }, 'NOTIFY_WEBHOOK_URL'],
    [{ NOTIFY_WEBHOOK_URL: 'ftp://x/y' }, 'NOTIFY_WEBHOOK_URL'],
    [{ NOTIFY_WEBHOOK_URL: 'https://x/y', NOTIFY_FORMAT: 'slack' }, 'NOTIFY_FORMAT'],
    [{ NOTIFY_WEBHOOK_URL: 'https://x/y', NOTIFY_MIN_FAILURES: '-1' }, 'NOTIFY_MIN_FAILURES'],
    [{ NOTIFY_WEBHOOK_URL: 'https://x/y', NOTIFY_MIN_FAILURE_RATIO: '1.5' }, 'NOTIFY_MIN_FAILURE_RATIO'],
  ])('rejects %o', (env, name) => {
    expect(() => readNotifyConfig(env)).toThrow(ConfigError);
    expect(() => readNotifyConfig(env)).toThrow(name);
  });
  it('masks URLs for logs', () => {
    expect(maskUrl('https://oapi.dingtalk.com/robot/send?access_token=abc')).toBe('https://oapi.dingtalk.com/robot/…?…');
    expect(maskUrl('https://hooks.slack.com/services/T000/B000/XXXX')).toBe('https://hooks.slack.com/services/…');
    expect(maskUrl('https://example.com')).toBe('https://example.com/');
  });
});
