import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { causeListKey, failuresKey, manifestKey, partKey, reportKey, reportPageKey, retryListKey, summaryKey, summaryMarkdownKey, truncatedListKey, type ArchiveRef } from '../../lib/archive/layout';
import { readAllParts, readManifest, readRecords } from '../../lib/archive/reader';
import { InputError, StorageError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { classifyStatus } from '../../lib/status';
import { loadSummary, summarizeArchive } from '../../lib/summary/index';
import type { Summary } from '../../lib/summary/summary';
import { durationStats, timelineOf } from '../../lib/summary/summary';
import { childTokens } from '../../lib/summary/children';
import { jsonPieces } from '../../lib/summary/json-pieces';
import { ecsRecord, instanceId, oosChild, oosRecord, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';
import { rejection } from '../helpers/rejection';

const ECS: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const OOS: ArchiveRef = { source: 'oos', regionId: 'cn-shanghai', id: 'exec-6be6d6ff805349d9ac13' };
const NOW = () => new Date('2024-05-02T00:00:00.000Z');

const iso = (base: number, seconds: number) => new Date(base + seconds * 1000).toISOString().replace('.000Z', 'Z');
const T0 = Date.parse('2024-05-01T10:00:00Z');

/** 2,000 instances: 1,500 ok, 300 disk full (exit 1), 150 refused (exit 2), 40 timeouts, 10 running. */
function* seededEcs(): Generator<Record<string, unknown>> {
  for (let n = 0; n < 2000; n++) {
    const id = instanceId(n);
    const start = iso(T0, Math.floor(n / 4));
    const finish = iso(T0, Math.floor(n / 4) + 2 + (n % 7));
    if (n < 1500) {
      yield ecsRecord({ InstanceId: id, StartTime: start, FinishedTime: finish, Output: `deployed build 4711 on ${id}\n` });
    } else if (n < 1800) {
      yield ecsRecord({
        InstanceId: id,
        InvocationStatus: 'Failed',
        ExitCode: 1,
        ErrorCode: 'ExitCodeNonzero',
        ErrorInfo: 'The command execution exit code is not zero.',
        Output: `[${start}] unpacking release-${n}.tar.gz\nwrite /var/lib/app/releases/${n}/bundle.js: no space left on device\ndf: /dev/vda${n % 3}: 100% used (${40 + (n % 9)}G)\n\n`,
        StartTime: start,
        FinishedTime: finish,
      });
    } else if (n < 1950) {
      yield ecsRecord({
        InstanceId: id,
        InvocationStatus: 'Failed',
        ExitCode: 2,
        ErrorCode: 'ExitCodeNonzero',
        ErrorInfo: 'The command execution exit code is not zero.',
        Output: `curl: (7) Failed to connect to 10.0.${n % 250}.${(n * 7) % 250} port ${3000 + (n % 5)}: Connection refused\n`,
        StartTime: start,
        FinishedTime: finish,
      });
    } else if (n < 1990) {
      yield ecsRecord({
        InstanceId: id,
        InvocationStatus: 'Timeout',
        ExitCode: -1,
        ErrorCode: 'ExecutionTimeout',
        ErrorInfo: 'The command execution has been timeout.',
        Output: '',
        StartTime: start,
        FinishedTime: iso(T0, Math.floor(n / 4) + 60),
      });
    } else {
      yield ecsRecord({ InstanceId: id, InvocationStatus: 'Running', InvokeRecordStatus: 'Running', Output: '', StartTime: start, FinishedTime: '' });
    }
  }
}

async function summarize(store = createMemoryStore(), ref: ArchiveRef = ECS): Promise<Summary> {
  return (await summarizeArchive({ store, ref, logger: silentLogger, now: NOW })).summary;
}


describe('summarizeArchive (ECS)', () => {
  it('counts exactly and groups by cause on a seeded archive', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: seededEcs(), recordsPerPart: 300, related: { invocation: [{ InvokeId: ECS.id, CommandName: 'deploy-app', InvocationStatus: 'PartialFailed' }] } });
    const s = await summarize(store);

    expect(s.total).toBe(2000);
    expect(s.byStatus).toEqual({ Success: 1500, Failed: 450, Timeout: 40, Running: 10 });
    expect(s.failures).toBe(490);
    expect(s.unfinished).toBe(10);
    expect(s.succeeded).toBe(1500);
    expect(s.failureRatio).toBe(0.245);
    expect(s.subject).toEqual({ name: 'deploy-app', status: 'PartialFailed', startedAt: null, endedAt: null });
    expect(s.groups.map((g) => [g.count, g.status, g.exitCode, g.errorCode])).toEqual([
      [300, 'Failed', 1, 'ExitCodeNonzero'],
      [150, 'Failed', 2, 'ExitCodeNonzero'],
      [40, 'Timeout', -1, 'ExecutionTimeout'],
    ]);
    const [disk, refused, timeout] = s.groups;
    // The error line of each output, wherever it stands (not the `df` line after it, not the generic ErrorInfo).
    expect(disk?.signature).toBe('write /var/<*>.js: no space left on device');
    expect(refused?.signature).toBe('curl: (<*>) Failed to connect to <*> port <*>: Connection refused');
    expect(timeout?.signature).toBe('The command execution has been timeout.');
    expect(disk?.resourceIds).toHaveLength(300);
    expect(disk?.resourceIds[0]).toBe(instanceId(1500));
    expect(disk?.example.id).toBe(instanceId(1500));
    expect(disk?.example.text).toContain('no space left on device');
    expect(disk?.share).toBe(0.6122);
    expect(s.retry.count).toBe(490);
    expect(s.retry.ids).toHaveLength(490);
    expect(s.retry.runCommand).toEqual({ RegionId: 'cn-hangzhou', CommandId: 'c-hz0jdfwcsr0001', InstanceIds: s.retry.ids });
    expect(s.truncatedOutputs).toEqual({ count: 0, bytesDropped: 0, ids: [] });
    expect(s.durations).toEqual({ basis: 'records', count: 1990, p50: 5, p90: 8, max: 60 });
    expect(s.timeline).not.toBeNull();
    const buckets = s.timeline?.buckets ?? [];
    expect(buckets.length).toBeGreaterThanOrEqual(20);
    expect(buckets.length).toBeLessThanOrEqual(60);
    expect(buckets.reduce((a, b) => a + b.finished, 0)).toBe(1990);
    expect(buckets.reduce((a, b) => a + b.failed, 0)).toBe(490);
    expect(s.manifest).toEqual({ key: manifestKey(ECS), records: 2000, finishedAt: '2024-05-01T10:05:00.000Z', complete: true, parts: 7 });
    expect(s.generatedAt).toBe('2024-05-02T00:00:00.000Z');
  });

  it('writes summary.json, summary.md, report.html and retry.txt', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: seededEcs() });
    const { summary, keys } = await summarizeArchive({ store, ref: ECS, logger: silentLogger, now: NOW });
    expect(keys).toEqual({ summary: summaryKey(ECS), markdown: summaryMarkdownKey(ECS), report: reportKey(ECS), retry: retryListKey(ECS) });
    expect(JSON.parse(store.text(summaryKey(ECS)) ?? '')).toEqual(summary);
    expect(store.text(retryListKey(ECS))?.trimEnd().split('\n')).toEqual(summary.retry.ids);
    const md = store.text(summaryMarkdownKey(ECS)) ?? '';
    expect(md).toContain('490 of 2,000 failed (24.5%) in 3 causes; 10 unfinished');
    expect(md).toContain('300 × Failed · exit 1 · ExitCodeNonzero');
    expect(md).toContain('490 resources to re-run');
    expect(store.text(reportKey(ECS))).toMatch(/^<!doctype html>/);
    expect(store.objects.get(reportKey(ECS))?.contentType).toBe('text/html; charset=utf-8');
  });

  it('makes one group of 3,000 failures with one cause and varying ids, addresses and times', async () => {
    const store = createMemoryStore();
    function* records() {
      for (let n = 0; n < 3000; n++) {
        const ip = `172.${16 + (n % 16)}.${n % 256}.${(n * 13) % 256}`;
        yield ecsRecord({
          InstanceId: instanceId(n, 'z'),
          InvocationStatus: 'Failed',
          ExitCode: 1,
          ErrorCode: 'ExitCodeNonzero',
          ErrorInfo: 'The command execution exit code is not zero.',
          Output:
            `${iso(T0, n)} host web-${n}.prod.internal (${ip}) pid ${1000 + n}\n` +
            `Error: request ${crypto.randomUUID()} to https://${ip}:8443/api/v1/nodes/i-bp1${n.toString(36).padStart(17, '0')}?sig=${n.toString(16)}abc failed: ` +
            `certificate expired at ${iso(T0 - 86_400_000 * (n % 30), 0)} (serial 0x${(n * 99991).toString(16)}ab)\n`,
          StartTime: iso(T0, n),
          FinishedTime: iso(T0, n + 3),
        });
      }
    }
    await writeArchive(store, { ref: ECS, records: records(), recordsPerPart: 1000 });
    const s = await summarize(store);
    expect(s.failures).toBe(3000);
    expect(s.groups).toHaveLength(1);
    expect(s.groups[0]?.count).toBe(3000);
    expect(s.groups[0]?.share).toBe(1);
    // summary.json holds the first 1,000 of each list and names the object that holds all of them.
    const all = Array.from({ length: 3000 }, (_, n) => instanceId(n, 'z'));
    expect(s.groups[0]?.resourceIds).toEqual(all.slice(0, 1000));
    expect(s.groups[0]?.resourceCount).toBe(3000);
    expect(s.groups[0]?.resourceIdsKey).toBe(causeListKey(ECS, s.groups[0]?.key ?? ''));
    expect(store.text(causeListKey(ECS, s.groups[0]?.key ?? ''))).toBe(all.join('\n') + '\n');
    expect(s.retry).toMatchObject({ count: 3000, ids: all.slice(0, 1000), idsKey: retryListKey(ECS) });
    expect(store.text(retryListKey(ECS))).toBe(all.join('\n') + '\n');
    const failed = gunzipSync(store.objects.get(failuresKey(ECS))?.body ?? Buffer.alloc(0)).toString('utf8').trimEnd().split('\n');
    expect(failed.map((l) => JSON.parse(l) as unknown)).toEqual(all.map((id) => ({ id, cause: s.groups[0]?.key })));
    // The report carries the first ids and links the page that lists every failed instance, and the full list.
    const report = store.text(reportKey(ECS)) ?? '';
    expect(report).toContain('href="report/instances-00001.html"');
    expect(report).toContain(`href="causes/${s.groups[0]?.key ?? ''}.txt"`);
    const page = store.text(reportPageKey(ECS, 1)) ?? '';
    expect(page.match(/<tr><td class="mono id">/g)).toHaveLength(3000);
    expect(page).toContain(`<td class="mono id">${all[2999] ?? ''}</td>`);
    expect(store.text(reportPageKey(ECS, 2))).toBeUndefined();
  });

  it('writes summary.json as the pieces of JSON.stringify(value, null, 2), byte for byte', () => {
    const value = { a: [1, { b: [], c: {}, d: [null, 'x\ny', { e: [1, [2, [3]]] }] }], u: undefined, f: () => 1, n: null, s: 'é"\u2028', t: new Date(0) };
    expect([...jsonPieces(value)].join('')).toBe(JSON.stringify(value, null, 2));
    expect([...jsonPieces([])].join('')).toBe('[]');
    expect([...jsonPieces('x')].join('')).toBe('"x"');
  });

  it('keeps each list once per resource and in archive order when a resource fails more than once, across causes', async () => {
    const store = createMemoryStore();
    function* records() {
      for (let n = 0; n < 2600; n++) {
        // Resource n % 1300 fails twice: first with exit 1, then (from record 1300 on) with exit 2.
        const exit = n < 1300 ? 1 : 2;
        yield ecsRecord({ InstanceId: instanceId(n % 1300), InvocationStatus: 'Failed', ExitCode: exit, ErrorCode: 'ExitCodeNonzero', Output: `step ${exit} failed\n`, Dropped: n % 2 === 0 ? 10 : 0 });
      }
    }
    await writeArchive(store, { ref: ECS, records: records(), recordsPerPart: 500 });
    const s = await summarize(store);
    const ids = Array.from({ length: 1300 }, (_, n) => instanceId(n));
    expect(s.groups.map((g) => [g.count, g.resourceCount, g.resourceIds.length])).toEqual([[1300, 1300, 1000], [1300, 1300, 1000]]);
    for (const g of s.groups) expect(store.text(g.resourceIdsKey ?? '')).toBe(ids.join('\n') + '\n');
    expect(s.retry.count).toBe(1300);
    expect(store.text(retryListKey(ECS))).toBe(ids.join('\n') + '\n');
    const even = ids.filter((_, n) => n % 2 === 0);
    expect(s.truncatedOutputs).toEqual({ count: 1300, bytesDropped: 13_000, ids: even.slice(0, 650) });
    expect(store.text(truncatedListKey(ECS))).toBeUndefined();
  });

  it('keeps 200 different causes as 200 groups', async () => {
    const store = createMemoryStore();
    const word = (n: number) => String.fromCharCode(97 + Math.floor(n / 26) % 26) + String.fromCharCode(97 + (n % 26));
    function* records() {
      for (let n = 0; n < 400; n++) {
        const w = word(n % 200);
        yield ecsRecord({
          InstanceId: instanceId(n),
          InvocationStatus: 'Failed',
          ExitCode: 1,
          ErrorInfo: 'The command execution exit code is not zero.',
          Output: `${w}ctl: ${w}conf unreadable (${w}err)\n`,
        });
      }
    }
    await writeArchive(store, { ref: ECS, records: records() });
    const s = await summarize(store);
    expect(s.groups).toHaveLength(200);
    expect(s.groups.every((g) => g.count === 2 && g.resourceIds.length === 2)).toBe(true);
    expect(new Set(s.groups.map((g) => g.signature)).size).toBe(200);
  });

  it('generalises a position that varies from instance to instance into one cause', async () => {
    const store = createMemoryStore();
    const word = (n: number) => String.fromCharCode(97 + Math.floor(n / 26) % 26) + String.fromCharCode(97 + (n % 26));
    await writeArchive(store, {
      ref: ECS,
      records: Array.from({ length: 200 }, (_, n) =>
        ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ExitCode: 100, ErrorInfo: 'The command execution exit code is not zero.', Output: `E: Unable to locate package lib${word(n)}-dev\n` }),
      ),
    });
    const s = await summarize(store);
    expect(s.groups.map((g) => [g.count, g.title])).toEqual([[200, 'E: Unable to locate package <*>']]);
  });

  it('never merges causes that differ only after a long common text', async () => {
    const store = createMemoryStore();
    const long = `step ${'x'.repeat(3000)}\n`;
    await writeArchive(store, {
      ref: ECS,
      records: ['disk full', 'certificate expired', 'disk full'].map((cause, n) =>
        ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ExitCode: 1, ErrorInfo: 'The command execution exit code is not zero.', Output: `${long}Error: ${cause}\n` }),
      ),
    });
    const s = await summarize(store);
    expect(s.groups.map((g) => [g.count, g.title])).toEqual([
      [2, 'Error: disk full'],
      [1, 'Error: certificate expired'],
    ]);
    expect(s.groups[0]?.signature.length).toBeLessThanOrEqual(400);
  });

  it('never merges different exit codes, error codes or statuses with the same text', async () => {
    const store = createMemoryStore();
    const base = { ErrorInfo: 'boom', Output: 'same text\n' };
    await writeArchive(store, {
      ref: ECS,
      records: [
        ecsRecord({ ...base, InstanceId: instanceId(1), InvocationStatus: 'Failed', ExitCode: 1, ErrorCode: 'ExitCodeNonzero' }),
        ecsRecord({ ...base, InstanceId: instanceId(2), InvocationStatus: 'Failed', ExitCode: 2, ErrorCode: 'ExitCodeNonzero' }),
        ecsRecord({ ...base, InstanceId: instanceId(3), InvocationStatus: 'Failed', ExitCode: 1, ErrorCode: 'ExecutionException' }),
        ecsRecord({ ...base, InstanceId: instanceId(4), InvocationStatus: 'Error', ExitCode: 1, ErrorCode: 'ExitCodeNonzero' }),
        ecsRecord({ ...base, InstanceId: instanceId(5), InvocationStatus: 'Failed', ExitCode: 1, ErrorCode: 'ExitCodeNonzero', Output: 'disk full on /dev/vda1\n' }),
        ecsRecord({ ...base, InstanceId: instanceId(6), InvocationStatus: 'Failed', ExitCode: 1, ErrorCode: 'ExitCodeNonzero', Output: 'Connection refused\n' }),
      ],
    });
    const s = await summarize(store);
    expect(s.groups).toHaveLength(6);
  });

  it('summarizes an empty archive', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: [] });
    const s = await summarize(store);
    expect(s).toMatchObject({ total: 0, failures: 0, unfinished: 0, failureRatio: 0, byStatus: {}, groups: [], durations: null, timeline: null });
    expect(s.retry).toMatchObject({ count: 0, ids: [] });
    expect(store.text(retryListKey(ECS))).toBe('');
    expect(store.text(summaryMarkdownKey(ECS))).toContain('The archive holds no records.');
  });

  it('has no groups and an empty retry list when everything succeeded', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: Array.from({ length: 120 }, (_, n) => ecsRecord({ InstanceId: instanceId(n) })) });
    const s = await summarize(store);
    expect(s.total).toBe(120);
    expect(s.failures).toBe(0);
    expect(s.groups).toEqual([]);
    expect(s.retry.ids).toEqual([]);
    expect(s.retry.runCommand?.InstanceIds).toEqual([]);
    expect(store.text(summaryMarkdownKey(ECS))).toContain('Nothing to re-run.');
  });

  it('reports truncated outputs', async () => {
    const store = createMemoryStore();
    await writeArchive(store, {
      ref: ECS,
      records: [
        ecsRecord({ InstanceId: instanceId(1), Dropped: 2048, Output: 'x'.repeat(24 * 1024) }),
        ecsRecord({ InstanceId: instanceId(2), Dropped: 0 }),
        ecsRecord({ InstanceId: instanceId(3), Dropped: 10, InvocationStatus: 'Failed', ExitCode: 1, Output: 'y'.repeat(24 * 1024) + '\nError: late failure' }),
      ],
    });
    const s = await summarize(store);
    expect(s.truncatedOutputs).toEqual({ count: 2, bytesDropped: 2058, ids: [instanceId(1), instanceId(3)] });
    expect(Buffer.byteLength(s.groups[0]?.example.text ?? '')).toBeLessThanOrEqual(2048);
    expect(s.groups[0]?.example.text.endsWith('Error: late failure')).toBe(true);
    expect(store.text(summaryMarkdownKey(ECS))).toContain('2 outputs were truncated');
  });

  it('treats unknown statuses as failures', async () => {
    expect(classifyStatus('ecs', 'Exploded')).toBe('failed');
    expect(classifyStatus('ecs', '')).toBe('failed');
    expect(classifyStatus('ecs', 'Scheduled')).toBe('unfinished');
    expect(classifyStatus('oos', 'Skipped')).toBe('skipped');
    expect(classifyStatus('oos', 'Cancelled')).toBe('failed');
    expect(classifyStatus('ecs', 'Success')).toBe('succeeded');
  });

  it('folds causes beyond maxGroups into one "other" group', async () => {
    const store = createMemoryStore();
    const word = (n: number) => String.fromCharCode(97 + Math.floor(n / 26)) + String.fromCharCode(97 + (n % 26));
    await writeArchive(store, {
      ref: ECS,
      records: Array.from({ length: 30 }, (_, n) => ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ExitCode: 1, Output: `${word(n)}ctl: missing ${word(n)}lib\n` })),
    });
    const { summary } = await summarizeArchive({ store, ref: ECS, logger: silentLogger, now: NOW, maxGroups: 10 });
    expect(summary.groups).toHaveLength(11);
    expect(summary.overflowCauses).toBe(20);
    expect(summary.groups.find((g) => g.key === 'other')?.count).toBe(20);
    expect(summary.groups.reduce((a, g) => a + g.count, 0)).toBe(30);
  });
});

describe('summarizeArchive (OOS)', () => {
  it('links failed rows to failed child executions and groups by their StatusMessage', async () => {
    const store = createMemoryStore();
    const rows: Record<string, unknown>[] = [];
    const children: Record<string, unknown>[] = [];
    for (let n = 0; n < 60; n++) {
      const id = instanceId(n);
      if (n < 30) {
        rows.push(oosRecord({ ResourceId: id, ExecutionTime: iso(T0, n * 10) }));
        continue;
      }
      rows.push(oosRecord({ ResourceId: id, Status: n === 59 ? 'Cancelled' : 'Failed', ExecutionTime: iso(T0, n * 10), Outputs: '{}' }));
      const refused = n % 2 === 0;
      const message = refused
        ? `Execution failed: the instance ${id} (10.1.${n}.4) returned: dial tcp 10.1.${n}.4:22: connect: connection refused`
        : `Execution failed: InvalidInstance.NotRunning: The instance ${id} is not running. RequestId: ${crypto.randomUUID()}`;
      // Every shape of "which resource" seen in child executions.
      const parameters =
        n % 3 === 0
          ? { instanceId: id, commandContent: 'echo hi' }
          : n % 3 === 1
            ? { InstanceId: [id], rateControl: { Mode: 'Concurrency' } }
            : { targets: JSON.stringify({ Type: 'ResourceIds', ResourceIds: [id], RegionId: 'cn-shanghai' }) };
      children.push(oosChild({ ExecutionId: `exec-child${String(n).padStart(10, '0')}`, StatusMessage: message, Parameters: parameters, StartDate: iso(T0, n), EndDate: iso(T0, n + n) }));
    }
    rows.push(oosRecord({ ResourceId: instanceId(99), Status: 'Skipped' }));
    rows.push(oosRecord({ ResourceId: instanceId(98), Status: 'Running' }));
    await writeArchive(store, {
      ref: OOS,
      records: rows,
      related: {
        execution: [{ ExecutionId: OOS.id, TemplateName: 'ACS-ECS-BulkyRunCommand', Status: 'Failed', StartDate: '2024-05-01T10:00:00Z', EndDate: '2024-05-01T10:10:00Z' }],
        'failed-child-executions': children,
      },
    });
    const s = await summarize(store, OOS);
    expect(s.byStatus).toEqual({ Success: 30, Failed: 29, Cancelled: 1, Running: 1, Skipped: 1 });
    expect(s.failures).toBe(30);
    expect(s.skipped).toBe(1);
    expect(s.unfinished).toBe(1);
    expect(s.subject.name).toBe('ACS-ECS-BulkyRunCommand');
    expect(s.groups.map((g) => [g.status, g.count])).toEqual([
      ['Failed', 15],
      ['Failed', 14],
      ['Cancelled', 1],
    ]);
    const refused = s.groups.find((g) => g.signature.includes('connection refused'));
    expect(refused?.signature).toBe('Execution failed: the instance i-<*> (<*>) returned: dial tcp <*>: connect: connection refused');
    expect(refused?.count).toBe(15);
    expect(refused?.exitCode).toBeNull();
    expect(refused?.example.text).toContain('connection refused');
    const notRunning = s.groups.find((g) => g.signature.includes('not running'));
    expect(notRunning?.signature).toBe('Execution failed: InvalidInstance.NotRunning: The instance i-<*> is not running. RequestId: <*>');
    expect(s.retry.startExecution).toEqual({
      RegionId: 'cn-shanghai',
      TemplateName: 'ACS-ECS-BulkyRunCommand',
      targets: { Type: 'ResourceIds', RegionId: 'cn-shanghai', ResourceIds: s.retry.ids },
    });
    expect(s.retry.ids).toHaveLength(30);
    expect(s.durations).toEqual({ basis: 'failed-child-executions', count: 30, p50: 44, p90: 56, max: 59 });
    expect(s.timeline?.buckets.reduce((a, b) => a + b.finished, 0)).toBe(61);
  });

  it('groups failed rows without a linked child by their Outputs', async () => {
    const store = createMemoryStore();
    await writeArchive(store, {
      ref: OOS,
      records: [
        oosRecord({ ResourceId: instanceId(1), Status: 'Failed', Outputs: JSON.stringify({ commandOutput: 'step 1 ok\nError: yum lock held by pid 1234\n' }) }),
        oosRecord({ ResourceId: instanceId(2), Status: 'Failed', Outputs: JSON.stringify({ commandOutput: 'step 1 ok\nError: yum lock held by pid 987\n' }) }),
        oosRecord({ ResourceId: instanceId(3), Status: 'Failed', Outputs: JSON.stringify({ commandOutput: 'Error: package not signed\n' }) }),
      ],
    });
    const s = await summarize(store, OOS);
    expect(s.groups.map((g) => [g.count, g.signature])).toEqual([
      [2, 'Error: yum lock held by pid <*>'],
      [1, 'Error: package not signed'],
    ]);
    expect(s.durations).toBeNull();
  });
});

describe('trust: only complete archives are summarized', () => {
  it('answers 404 ArchiveNotFound when nothing is stored', async () => {
    const err = await rejection(summarize(createMemoryStore()));
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'ArchiveNotFound', status: 404 });
  });

  it('answers 409 ArchiveIncomplete while parts exist without a manifest', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: [ecsRecord()], commit: false });
    expect(await rejection(summarize(store))).toMatchObject({ code: 'ArchiveIncomplete', status: 409 });
    expect(store.objects.has(summaryKey(ECS))).toBe(false);
  });

  it('answers 409 for a manifest that says complete: false', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: [ecsRecord()], manifest: { complete: false } });
    expect(await rejection(summarize(store))).toMatchObject({ code: 'ArchiveIncomplete', status: 409 });
  });

  it('refuses a part whose bytes were damaged (ChecksumMismatch)', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: seededEcs(), recordsPerPart: 500 });
    const body = store.objects.get(partKey(ECS, 2))?.body ?? Buffer.alloc(0);
    const damaged = Buffer.from(body);
    damaged[Math.floor(damaged.length / 2)] = (damaged[Math.floor(damaged.length / 2)] ?? 0) ^ 0xff;
    store.corrupt(partKey(ECS, 2), damaged);
    const err = await rejection(summarize(store));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'ChecksumMismatch', key: partKey(ECS, 2) });
    expect(store.objects.has(summaryKey(ECS))).toBe(false);
  });

  it('refuses a part replaced by other valid gzip (ChecksumMismatch)', async () => {
    const store = createMemoryStore();
    await writeArchive(store, { ref: ECS, records: [ecsRecord({ InstanceId: instanceId(1) })] });
    store.corrupt(partKey(ECS, 0), gzipSync(JSON.stringify(ecsRecord({ InstanceId: instanceId(2) })) + '\n'));
    expect(await rejection(summarize(store))).toMatchObject({ code: 'ChecksumMismatch' });
  });

  it('refuses a part with another record count (RecordCountMismatch)', async () => {
    const store = createMemoryStore();
    const manifest = await writeArchive(store, { ref: ECS, records: [ecsRecord(), ecsRecord()], commit: false });
    const part = manifest.parts[0];
    if (!part) throw new Error('no part');
    await store.put(manifestKey(ECS), JSON.stringify({ ...manifest, records: 3, parts: [{ ...part, records: 3 }] }));
    expect(await rejection(summarize(store))).toMatchObject({ code: 'RecordCountMismatch' });
  });

  it('refuses a malformed manifest (CorruptManifest)', async () => {
    const store = createMemoryStore();
    await store.put(manifestKey(ECS), '{"format": "execution-archive/1"');
    expect(await rejection(readManifest(store, ECS))).toMatchObject({ code: 'CorruptManifest' });
    await store.delete(manifestKey(ECS));
    await store.put(manifestKey(ECS), JSON.stringify({ format: 'x', source: 'ecs' }));
    expect(await rejection(summarize(store))).toMatchObject({ code: 'CorruptManifest' });
  });
});

describe('reader', () => {
  it('streams parts without loading them whole, and may stop early', async () => {
    const store = createMemoryStore({ chunkSize: 512 });
    const manifest = await writeArchive(store, { ref: ECS, records: seededEcs(), recordsPerPart: 700 });
    let n = 0;
    for await (const record of readAllParts(store, manifest)) {
      expect(typeof record.InstanceId).toBe('string');
      n++;
    }
    expect(n).toBe(2000);
    expect(store.calls.get).toBe(0);
    expect(store.calls.getStream).toBe(3);
    const first = manifest.parts[0];
    if (!first) throw new Error('no part');
    let seen = 0;
    for await (const _ of readRecords(store, first)) if (++seen === 5) break;
    expect(seen).toBe(5);
  });

  it('tells a failing read apart from damaged bytes', async () => {
    const store = createMemoryStore();
    const manifest = await writeArchive(store, { ref: ECS, records: seededEcs() });
    const part = manifest.parts[0];
    if (!part) throw new Error('no part');
    const body = store.objects.get(part.key)?.body ?? Buffer.alloc(0);
    const flaky = {
      ...store,
      getStream: async () =>
        new Readable({
          read() {
            this.push(body.subarray(0, 1000));
            this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
          },
        }),
    };
    const err = await rejection((async () => { for await (const _ of readRecords(flaky, part)) void _; })());
    expect(err).toMatchObject({ code: 'ReadFailed', message: expect.stringContaining('socket hang up') });
  });

  it('reports a missing part', async () => {
    const store = createMemoryStore();
    const manifest = await writeArchive(store, { ref: ECS, records: [ecsRecord()] });
    await store.delete(partKey(ECS, 0));
    const part = manifest.parts[0];
    if (!part) throw new Error('no part');
    expect(await rejection((async () => { for await (const _ of readRecords(store, part)) void _; })())).toMatchObject({ code: 'MissingObject' });
  });
});

describe('loadSummary', () => {
  it('serves the stored summary while it matches the manifest and recomputes when it is stale or missing', async () => {
    const store = createMemoryStore();
    const manifest = await writeArchive(store, { ref: ECS, records: seededEcs() });
    const first = await loadSummary({ store, ref: ECS, logger: silentLogger, now: NOW });
    expect(first.computed).toBe(true);
    const second = await loadSummary({ store, ref: ECS, logger: silentLogger, now: NOW }, 'html');
    expect(second.computed).toBe(false);
    expect((await second.read()).toString('utf8')).toBe(store.text(reportKey(ECS)));
    const md = await loadSummary({ store, ref: ECS, logger: silentLogger, now: NOW }, 'md');
    expect(md.computed).toBe(false);
    expect((await md.read()).toString('utf8')).toBe(store.text(summaryMarkdownKey(ECS)));

    // The archive was collected again: a newer manifest makes the stored summary stale.
    await store.delete(manifestKey(ECS));
    await store.put(manifestKey(ECS), JSON.stringify({ ...manifest, finishedAt: '2024-05-03T00:00:00.000Z' }));
    const later = () => new Date('2024-05-03T01:00:00.000Z');
    const third = await loadSummary({ store, ref: ECS, logger: silentLogger, now: later });
    expect(third.computed).toBe(true);
    expect(third.summary.manifest.finishedAt).toBe('2024-05-03T00:00:00.000Z');

    await store.delete(reportKey(ECS));
    const fourth = await loadSummary({ store, ref: ECS, logger: silentLogger, now: later }, 'html');
    expect(fourth.computed).toBe(true);
    expect(store.objects.has(reportKey(ECS))).toBe(true);

    await store.put(summaryKey(ECS), 'not json');
    expect((await loadSummary({ store, ref: ECS, logger: silentLogger, now: later })).computed).toBe(true);
  });
});

describe('statistics', () => {
  it('computes nearest-rank percentiles', () => {
    expect(durationStats(Float64Array.from([5, 1, 4, 2, 3, 6, 7, 8, 9, 10]), 'records')).toEqual({ basis: 'records', count: 10, p50: 5, p90: 9, max: 10 });
    expect(durationStats(new Float64Array(0), 'records')).toBeNull();
  });
  it('chooses 20-60 buckets for any span above a minute', () => {
    for (const span of [90, 600, 3600, 5 * 3600, 86_400, 3 * 86_400, 20 * 86_400]) {
      const at = Float64Array.from({ length: 100 }, (_, i) => 1_714_557_600 + (span * i) / 99);
      const t = timelineOf(at, new Uint8Array(100));
      expect(t?.buckets.length, `span ${span}`).toBeGreaterThanOrEqual(17);
      expect(t?.buckets.length, `span ${span}`).toBeLessThanOrEqual(60);
      expect(t?.buckets.reduce((a, b) => a + b.finished, 0)).toBe(100);
    }
  });
});

describe('childTokens', () => {
  it('indexes the id-like tokens of a long text wherever they sit in it, and the short strings whole', async () => {
    // Prepare: the resource ids appear only inside a long log line (longer than a whole string is indexed)
    const log = `${'step done; '.repeat(30)}restarted i-bp1abcdef0123 and xyzi-bp1q9 after 1a-bcdef; ab-cd is too short`;
    const child = oosChild({ ExecutionId: 'exec-child0000000009', Parameters: { region: 'cn-shanghai' }, Outputs: JSON.stringify({ log }) });
    // Act
    const tokens = childTokens(child);
    // Assess
    expect(tokens.sort()).toEqual(['a-bcdef', 'cn-shanghai', 'i-bp1abcdef0123', 'xyzi-bp1q9']);
  });
});
