import { describe, expect, it } from 'vitest';
import { FAILURE_CAUSES } from '@execution-archive/local-cloud/datasets/outputs';
import { Rng } from '@execution-archive/local-cloud/datasets/prng';
import { createAggregator } from '../../lib/summary/aggregate';
import { spoolChildren } from '../../lib/summary/children';
import { OVERFLOW, TemplateMiner } from '../../lib/causes/miner';
import { prepareMessage } from '../../lib/causes/signature';

/** Mines messages (prepared as summarize prepares them) and returns each one's final template. */
function mine(messages: readonly string[], miner = new TemplateMiner()): string[] {
  const ids = messages.map((m) => miner.add(prepareMessage(m)));
  miner.settle();
  return ids.map((id) => miner.template(id));
}

const word = (n: number) => String.fromCharCode(97 + (Math.floor(n / 26) % 26)) + String.fromCharCode(97 + (n % 26));

describe('TemplateMiner', () => {
  it('is deterministic for a given input order', () => {
    const rng = new Rng(7);
    const messages = Array.from({ length: 500 }, () => {
      const n = rng.int(5);
      return [`Disk ${rng.alnum(6)} is ${rng.pick(['full', 'busy'])}`, `user ${rng.pick(['root', 'admin', 'ops', 'web', 'db'])} logged in from ${rng.int(255)}.0.0.1`, `yum: package ${rng.alnum(5)} not found`, 'service nginx failed to start', `timeout after ${rng.int(90)}s on ${rng.alnum(8)}`][n] ?? '';
    });
    const first = mine(messages);
    expect(mine(messages)).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  it('generalises a position that varies into <*>', () => {
    const messages = Array.from({ length: 40 }, (_, n) => `Failed to mount volume vol${word(n)}x on host node${word(n + 3)}y: device busy`);
    const templates = mine(messages);
    expect(new Set(templates)).toEqual(new Set(['Failed to mount volume <*> on host <*> device busy']));
  });

  it('generalises a position whose words never come back, even when there are only two', () => {
    expect(new Set(mine(['session for alice closed unexpectedly', 'session for bob closed unexpectedly']))).toEqual(new Set(['session for <*> closed unexpectedly']));
  });

  it('never merges distinct causes that differ in one word when the words recur', () => {
    const messages = Array.from({ length: 60 }, (_, n) => `[instance: ${'abcdef'[n % 6]}1b2c3d4-0000-4000-8000-00000000000${n % 10}] VM ${['Started', 'Stopped', 'Paused'][n % 3]} (Lifecycle Event)`);
    const templates = mine(messages);
    expect(new Set(templates)).toEqual(
      new Set(['[instance: <*>] VM Started (Lifecycle Event)', '[instance: <*>] VM Stopped (Lifecycle Event)', '[instance: <*>] VM Paused (Lifecycle Event)']),
    );
    const packages = mine(['E: Unable to locate package nginx', 'E: Unable to locate package redis', 'E: Unable to locate package nginx', 'E: Unable to locate package redis']);
    expect(new Set(packages).size).toBe(2);
  });

  it('keeps 200 distinct causes as 200 groups', () => {
    const messages = Array.from({ length: 400 }, (_, n) => `${word(n % 200)}ctl: ${word(n % 200)}conf unreadable (${word(n % 200)}err)`);
    const templates = mine(messages);
    expect(new Set(templates).size).toBe(200);
    expect(templates[0]).toBe('aactl: aaconf unreadable (aaerr)');
  });

  it('gives the same template to a message however many times it is seen, and never merges different lengths', () => {
    const templates = mine(['connection reset by peer', 'connection reset by peer', 'connection reset', 'connection reset by remote peer']);
    expect(templates).toEqual(['connection reset by peer', 'connection reset by peer', 'connection reset', 'connection reset by remote peer']);
  });

  it('is bounded: beyond maxGroups a new message is overflow; known causes still match', () => {
    const miner = new TemplateMiner({ maxGroups: 10 });
    const ids = Array.from({ length: 30 }, (_, n) => miner.add(prepareMessage(`${word(n)}ctl: ${word(n)}conf unreadable (${word(n)}err)`)));
    expect(ids.slice(0, 10).every((id) => id >= 0)).toBe(true);
    expect(ids.slice(10).every((id) => id === OVERFLOW)).toBe(true);
    expect(miner.size).toBe(10);
    expect(miner.add(prepareMessage('aactl: aaconf unreadable (aaerr)'))).toBe(ids[0]);
  });

  it('keeps its state flat however many messages of one cause it sees', () => {
    const miner = new TemplateMiner();
    const rng = new Rng(3);
    let id = -2;
    for (let n = 0; n < 20_000; n++) id = miner.add(prepareMessage(`worker ${rng.alnum(10)} lost lease on shard ${rng.alnum(6)} after ${rng.int(100)} ms`));
    miner.settle();
    expect(miner.size).toBe(1);
    expect(miner.template(id)).toBe('worker <*> lost lease on shard <*> after <*> ms');
    // Differing positions that vary remember no words at all: what is kept does not grow with the messages.
    expect(miner.stats()).toEqual({ templates: 1, groups: 1, words: 0 });
  });

  it('bounds the words of a message', () => {
    const miner = new TemplateMiner({ maxWords: 8 });
    expect(miner.words('a b c d e f g h i j k')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h i j k']);
  });
});

describe('grouping the demo data', () => {
  it('gives each failure cause of the local cloud one group over 3,000 failures (ECS and OOS)', async () => {
    for (const cause of FAILURE_CAUSES) {
      const rng = new Rng(11);
      const ecs = createAggregator({ source: 'ecs' });
      const exitCodes = new Set<number>();
      for (let n = 0; n < 3000; n++) {
        const instanceId = `i-${rng.pick(['bp1', 'uf6', 'wz9'])}${rng.alnum(17)}`;
        const r = cause.render(rng, { instanceId });
        exitCodes.add(r.exitCode);
        ecs.add({ InstanceId: instanceId, InvocationStatus: cause.status, ErrorCode: cause.errorCode, ErrorInfo: cause.errorInfo, ExitCode: r.exitCode, Output: cause.ran ? r.output : '' });
      }
      const groups = (await ecs.finish()).groups;
      expect(groups.map((g) => g.count), cause.id).toEqual([3000]);
      expect(exitCodes.size).toBe(1);
    }
  });

  it("reads an OOS child's StatusMessage and Outputs: the error line as the title, its error code and exit code into the key", async () => {
    const rng = new Rng(5);
    const children: Record<string, unknown>[] = [];
    const agg = async () => createAggregator({ source: 'oos', children: await spoolChildren(children) });
    const records: Record<string, unknown>[] = [];
    for (let n = 0; n < 3000; n++) {
      const resourceId = `i-bp1${rng.alnum(17)}`;
      const invokeId = `t-hz${rng.int(3) === 0 ? 'zosfpyvuetgz'.slice(0, 8) + rng.alnum(4).replace(/\d/g, 'q') : rng.alnum(12)}`;
      const cause = FAILURE_CAUSES[n % 3];
      if (!cause) throw new Error('the local cloud has fewer than 3 failure causes');
      const r = cause.render(rng, { instanceId: resourceId });
      children.push({
        ExecutionId: `exec-${rng.hex(20)}`,
        StatusMessage: `Task 'runCommand' failed: ${cause.errorCode}: ${r.reason} (InstanceId: ${resourceId}, InvokeId: ${invokeId}, ExitCode: ${r.exitCode})`,
        Parameters: { instanceId: resourceId },
      });
      records.push({ ResourceId: resourceId, Status: 'Failed', Outputs: JSON.stringify({ invocationOutput: r.output, exitCode: r.exitCode }) });
    }
    const a = await agg();
    for (const r of records) a.add(r);
    const groups = (await a.finish()).groups;
    expect(groups.map((g) => g.count)).toEqual([1000, 1000, 1000]);
    expect(groups.every((g) => g.errorCode === 'ExitCodeNonzero')).toBe(true);
    expect(groups.map((g) => [g.title, g.exitCode]).sort()).toEqual(
      [
        ['yum: Cannot find a valid baseurl for repo: base/7/x86_64', 1],
        // The line the program printed says more than the child's summary of it.
        ['error: disk full on /dev/<*> (<*>)', 1],
        ['curl: (<*>) Failed to connect to <*> port <*>: Connection refused', 7],
      ].sort(),
    );
    // The same template gives the same key in another archive.
    const b = await agg();
    for (const r of records.slice(0, 300).reverse()) b.add(r);
    expect(new Set((await b.finish()).groups.map((g) => g.key))).toEqual(new Set(groups.map((g) => g.key)));
  });
});
