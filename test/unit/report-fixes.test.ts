/**
 * What a person reads in the report and the Markdown: no control characters, each instance's own error line,
 * exit codes only when known, titles cut between words.
 */
import { describe, expect, it } from 'vitest';
import { reportKey, summaryMarkdownKey, type ArchiveRef } from '../../lib/archive/layout';
import { silentLogger } from '../../lib/log';
import { ERRORS_PER_GROUP } from '../../lib/summary/aggregate';
import { summarizeArchive } from '../../lib/summary/index';
import { formatCount } from '../../lib/summary/render/markdown';
import { clipWords } from '../../lib/causes/signature';
import { ecsRecord, instanceId, oosChild, oosRecord, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0fix' };
const failed = { InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ErrorInfo: 'The command execution exit code is not zero.', ExitCode: 1 };
// Every C0 control but tab and newline, DEL and the C1 controls.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

async function summarize(records: Record<string, unknown>[]) {
  const store = createMemoryStore();
  await writeArchive(store, { ref: REF, records });
  const { summary } = await summarizeArchive({ store, ref: REF, logger: silentLogger });
  const html = (await store.get(reportKey(REF)))?.toString('utf8') ?? '';
  const md = (await store.get(summaryMarkdownKey(REF)))?.toString('utf8') ?? '';
  return { summary, html, md };
}

describe('control characters', () => {
  it('never land in summary.json, the Markdown or the report', async () => {
    // Prepare: outputs with NUL, BEL, ESC without a colour code, CR, DEL, a C1 control
    const noisy = 'build\u0007 failed\u0000 at\u001b step\r 3\u007f of\u0085 4';
    const { summary, html, md } = await summarize([
      ecsRecord({ ...failed, InstanceId: instanceId(1), Output: `start\n${noisy}\n` }),
      ecsRecord({ ...failed, InstanceId: instanceId(2), ErrorInfo: noisy, Output: '' }),
    ]);
    // Act: render done by summarize; Assess
    const json = JSON.stringify(summary);
    expect(json).not.toMatch(/\\u00[01][0-9a-f]|\\[rbf]/);
    expect(json).not.toMatch(CONTROLS);
    expect(html).not.toMatch(CONTROLS);
    expect(md).not.toMatch(CONTROLS);
    expect(summary.groups[0]?.example.text).toContain('build failed at step 3 of 4');
  });
});

describe('the instance table', () => {
  it("keeps each instance's own error line, masked, at most ERRORS_PER_GROUP per group", async () => {
    // Prepare: one cause over 250 instances, each printing its own address and a password
    const records = Array.from({ length: 250 }, (_, n) =>
      ecsRecord({ ...failed, InstanceId: instanceId(n), Output: `mysql -uroot -phunter${n} -h 10.0.${n % 200}.${n % 7}: ERROR 2003 (HY000): Can't connect to MySQL server\n` }),
    );
    // Act
    const { summary, html } = await summarize(records);
    // Assess
    expect(summary.groups).toHaveLength(1);
    const group = summary.groups[0];
    if (!group) throw new Error('no group');
    expect(group.resourceIds).toHaveLength(250);
    expect(group.instanceErrors).toHaveLength(ERRORS_PER_GROUP);
    expect(group.instanceErrors.map((e) => e.id)).toEqual(group.resourceIds.slice(0, ERRORS_PER_GROUP));
    expect(group.instanceErrors[5]).toEqual({ id: instanceId(5), error: "mysql -uroot -p<redacted> -h 10.0.5.5: ERROR 2003 (HY000): Can't connect to MySQL server" });
    expect(html).toContain('10.0.5.5');
    expect(html).not.toMatch(/hunter\d/);
  });
});

describe('exit codes', () => {
  it('are shown only when known: a task that never started wears no "exit 0"', async () => {
    // Prepare: the API reports ExitCode 0 for tasks that were never delivered or whose instance was not running
    const { summary, html, md } = await summarize([
      ecsRecord({ InstanceId: instanceId(1), InvocationStatus: 'Aborted', ErrorCode: 'DeliveryTimeout', ErrorInfo: 'The command delivery has been timeout.', ExitCode: 0, StartTime: '', Output: '' }),
      ecsRecord({ InstanceId: instanceId(2), InvocationStatus: 'Invalid', ErrorCode: 'InstanceNotRunning', ErrorInfo: 'The instance is not running.', ExitCode: 0, Output: '' }),
      ecsRecord({ ...failed, InstanceId: instanceId(3), ExitCode: 0, Output: 'exit 0 but failed\n' }),
    ]);
    // Assess
    const byStatus = Object.fromEntries(summary.groups.map((g) => [g.status, g.exitCode]));
    expect(byStatus).toEqual({ Aborted: null, Invalid: null, Failed: 0 });
    expect(html.match(/class="tag">exit 0</g)).toHaveLength(1);
    expect(md).toContain('Failed · exit 0');
    expect(md).not.toContain('Aborted · exit');
    expect(md).not.toContain('Invalid · exit');
  });
});

describe('exit codes (OOS)', () => {
  it('an OOS child that says DeliveryTimeout wears no exit code, though its message and Outputs state 0', async () => {
    // Prepare: as the local cloud and OOS write them
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac13' };
    const rows = [1, 2].map((n) => oosRecord({ ResourceId: instanceId(n), Status: 'Failed', Outputs: JSON.stringify({ invocationOutput: '', exitCode: n === 1 ? 0 : 2 }) }));
    const children = [
      oosChild({ ExecutionId: 'exec-child0000000001', Parameters: { instanceId: instanceId(1) }, StatusMessage: `Task 'runCommand' failed: DeliveryTimeout: The command delivery has been timeout. (InstanceId: ${instanceId(1)}, ExitCode: 0)` }),
      oosChild({ ExecutionId: 'exec-child0000000002', Parameters: { instanceId: instanceId(2) }, StatusMessage: `Task 'runCommand' failed: ExitCodeNonzero: tar: cannot open (InstanceId: ${instanceId(2)}, ExitCode: 2)` }),
    ];
    await writeArchive(store, { ref, records: rows, related: { 'failed-child-executions': children } });
    // Act
    const { summary } = await summarizeArchive({ store, ref, logger: silentLogger });
    const html = (await store.get(reportKey(ref)))?.toString('utf8') ?? '';
    // Assess
    expect(Object.fromEntries(summary.groups.map((g) => [g.errorCode, g.exitCode]))).toEqual({ DeliveryTimeout: null, ExitCodeNonzero: 2 });
    expect(html).not.toContain('exit 0');
    expect(html).toContain('class="tag">exit 2<');
  });
});

describe('titles', () => {
  it('are cut between words', async () => {
    // Prepare: a last line of 60 words
    const words = Array.from({ length: 60 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + ((i * 7) % 26))}`);
    const { summary } = await summarize([ecsRecord({ ...failed, Output: `${words.join(' ')}\n` })]);
    // Assess: ≤ 200 characters, and every word shown is whole
    const title = summary.groups[0]?.title ?? '';
    expect(title.length).toBeLessThanOrEqual(200);
    expect(title).toContain('…');
    for (const w of title.split(/[ …]+/).filter(Boolean)) expect(words).toContain(w);
  });

  it('clipWords keeps short text, cuts at spaces, and cuts a text without spaces where it must', () => {
    expect(clipWords('short', 10)).toBe('short');
    expect(clipWords('disk full on the root volume of this instance', 30)).toBe('disk full on the…this instance');
    expect(clipWords('a'.repeat(50), 10)).toBe('aaaaaa…aaa');
  });
});

describe('counts', () => {
  it('are grouped as toLocaleString("en-US") groups them, without calling it for integers', () => {
    const values = [0, -0, 7, 999, 1000, 1001, 65_536, 999_999, 1_000_000, 1_234_567, -1, -1000, -987_654_321, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 1234.5678, -0.5, Number.NaN];
    for (let digits = 1; digits <= 16; digits++) values.push(Number('9'.repeat(digits)), Number(`1${'0'.repeat(digits - 1)}`), -Number('4'.repeat(digits)));
    for (const n of values) expect(formatCount(n), String(n)).toBe(n.toLocaleString('en-US'));
  });
});

describe('group order', () => {
  it('is largest first, and groups of the same size by key', async () => {
    // Prepare: five causes of one failure each and one of two, in an order unrelated to their keys
    const errors = ['disk full', 'permission denied', 'no route to host', 'segmentation fault', 'killed by timeout'];
    const records = errors.map((e, i) => ecsRecord({ ...failed, InstanceId: instanceId(10 + i), ExitCode: 10 + i, Output: `${e}\n` }));
    records.push(ecsRecord({ ...failed, InstanceId: instanceId(20), ExitCode: 12, Output: `${errors[2] ?? ''}\n` }));
    // Act
    const { summary } = await summarize(records);
    // Assess
    expect(summary.groups.map((g) => g.count)).toEqual([2, 1, 1, 1, 1]);
    const ties = summary.groups.slice(1).map((g) => g.key);
    expect(ties).toEqual([...ties].sort());
  });
});
