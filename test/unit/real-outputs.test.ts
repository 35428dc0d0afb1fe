/**
 * The real-output benchmark's pieces: the Grouping Accuracy and the scores on hand-made cases, the 24 KB cut, the
 * baselines, reading a record's group back through the aggregation, and the invariants of the checked-in fixtures
 * (sizes, causes, programs, shapes, consistent labels). The hold-out fixtures are checked for their structure only
 * (nothing here reads their texts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupingAccuracy, scoreGrouping } from '../../bench/grouping';
import { BLIND_SHAPES, cutOutput, MORE_SHAPES, OUTPUT_LIMIT_BYTES, SHAPES, type RealOutput } from '../../bench/real-outputs/catalogue';
import { PlainDrain } from '../../bench/real-outputs/drain';
import { groupThroughProduct, lastLineBaseline, loadFixture, sizedOutputs, toInvocationResult, toOosRecords } from '../../bench/real-outputs/score';

const DATA = join(__dirname, '..', '..', 'bench', 'data');

const result = (cause: string, output: string, exitCode = 1, shape: RealOutput['shape'] = 'bare'): RealOutput => ({
  id: `x-${cause}-${output.length}`,
  cause,
  program: 'bash',
  shape,
  status: 'Failed',
  errorCode: 'ExitCodeNonzero',
  exitCode,
  output,
  dropped: 0,
  host: 'web-1',
});

describe('groupingAccuracy and scoreGrouping', () => {
  it('counts an item only when its group is exactly its true group', () => {
    // Prepare: group a = the whole of x; b mixes y and z; c holds the rest of z.
    const predicted = ['a', 'a', 'b', 'b', 'c'];
    const truth = ['x', 'x', 'y', 'z', 'z'];

    // Act
    const ga = groupingAccuracy(predicted, truth);
    const score = scoreGrouping(predicted, truth);

    // Assess
    expect(ga).toBe(2 / 5);
    expect(score).toEqual({ items: 5, ga: 0.4, groups: 3, truth: 3, mixed: 1, mixedLabels: ['y+z'], split: 1 });
  });

  it('is 1 for a perfect grouping whatever the group names, and rejects lists of different lengths', () => {
    expect(groupingAccuracy([7, 7, 9], ['p', 'p', 'q'])).toBe(1);
    expect(groupingAccuracy(['one', 'one', 'one'], ['p', 'p', 'q'])).toBe(0);
    expect(() => groupingAccuracy([1], ['p', 'q'])).toThrow(/1 predictions for 2 labels/);
  });
});

describe('cutOutput (Cloud Assistant keeps 24 KB)', () => {
  it('keeps short outputs whole and cuts long ones at a whole UTF-8 character, counting the rest', () => {
    expect(cutOutput(Buffer.from('short\n'))).toEqual({ output: 'short\n', dropped: 0 });
    // 'é' is 2 bytes: an odd-length ASCII run puts one of them across the limit.
    const long = Buffer.from('a'.repeat(OUTPUT_LIMIT_BYTES - 1) + 'é'.repeat(10));
    const cut = cutOutput(long);
    expect(Buffer.byteLength(cut.output)).toBe(OUTPUT_LIMIT_BYTES - 1);
    expect(cut.dropped).toBe(long.length - (OUTPUT_LIMIT_BYTES - 1));
  });
});

describe('baselines and the product path', () => {
  it('the last-line baseline masks digit runs and skips trailing blank lines', () => {
    const keys = lastLineBaseline([result('a', 'step 1\nerror 404 at 10:22\n\n'), result('a', 'error 500 at 9:1')]);
    expect(keys).toEqual(['error 0 at 0:0', 'error 0 at 0:0']);
  });

  it('plain Drain joins messages of one template and keeps others apart', () => {
    const drain = new PlainDrain();
    const ids = ['connect to db1 failed after 3 tries', 'connect to db7 failed after 12 tries', 'disk /dev/vda1 is full', 'connect to db2 failed', 'disk /dev/vdb2 is full'].map((m) => drain.add(m));
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[4]);
    expect(new Set(ids).size).toBe(3);
  });

  it('a record is stored as the archive stores DescribeInvocationResults results', () => {
    const r = toInvocationResult(result('a', 'boom\n', 2), 't-1', 'i-1', 0);
    expect(r).toMatchObject({ InvokeId: 't-1', InstanceId: 'i-1', InvocationStatus: 'Failed', ExitCode: 2, ErrorCode: 'ExitCodeNonzero', Output: 'boom\n', Dropped: 0 });
  });

  it('reads back each record’s group from the aggregation: equal outputs one group, another exit code another', async () => {
    // Prepare
    const list = [result('a', 'cat: /etc/x: No such file or directory\n'), result('a', 'cat: /etc/x: No such file or directory\n'), result('b', 'cat: /etc/x: No such file or directory\n', 2)];

    // Act
    const { keys, titles } = await groupThroughProduct(list, 't-test');

    // Assess
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(titles.size).toBe(2);
  });

  it('the OOS path reads back each record’s group too: equal outputs one group, another exit code another', async () => {
    // Prepare
    const list = [result('a', 'cat: /etc/x: No such file or directory\n'), result('a', 'cat: /etc/x: No such file or directory\n'), result('b', 'cat: /etc/x: No such file or directory\n', 2)];

    // Act
    const { keys } = await groupThroughProduct(list, 't-test', 'oos');

    // Assess
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('an OOS child names the task, the error code and the exit code, as the parent row points to it', () => {
    const { row, child } = toOosRecords(result('a', 'boom\n', 3), 'exec-1', 'i-9', 0);
    expect(row).toMatchObject({ ResourceId: 'i-9', Status: 'Failed', ExecutionId: child.ExecutionId });
    expect(child.StatusMessage).toBe("Task 'runCommand' failed: ExitCodeNonzero: The command execution exit code is not zero. (InstanceId: i-9, InvokeId: t-1, ExitCode: 3)");
    expect(JSON.parse(String(row.Outputs))).toEqual({ invocationOutput: 'boom\n', exitCode: 3 });
  });

  it('sized outputs are exactly the asked size', () => {
    const sized = sizedOutputs([result('a', 'x\n'), result('b', 'y'.repeat(5000))], 2048, 3);
    expect(sized.map((r) => Buffer.byteLength(r.output))).toEqual([2048, 2048, 2048]);
    expect(sized.map((r) => r.cause)).toEqual(['a', 'b', 'a']);
  });
});

describe('the checked-in fixtures', () => {
  const mainFile = join(DATA, 'real-outputs.jsonl.gz');
  const holdoutFile = join(DATA, 'real-outputs-holdout.jsonl.gz');

  it('main: ≥ 1,000 results of ≥ 40 causes from ≥ 10 programs in the 4 shapes, labels consistent', () => {
    const results = loadFixture(mainFile);
    const causes = new Map<string, RealOutput[]>();
    for (const r of results) causes.set(r.cause, [...(causes.get(r.cause) ?? []), r]);

    expect(results.length).toBeGreaterThanOrEqual(1000);
    expect(causes.size).toBeGreaterThanOrEqual(40);
    expect(new Set(results.map((r) => r.program)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(results.map((r) => r.shape))).toEqual(new Set(SHAPES));
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
    for (const [cause, list] of causes) {
      // Each cause: 8–50 instances, one program, one status and exit code, in every shape.
      expect({ cause, n: list.length >= 8 && list.length <= 50 }).toEqual({ cause, n: true });
      expect({ cause, programs: new Set(list.map((r) => r.program)).size }).toEqual({ cause, programs: 1 });
      expect({ cause, exits: new Set(list.map((r) => `${r.status}/${r.exitCode}`)).size }).toEqual({ cause, exits: 1 });
      expect({ cause, shapes: new Set(list.map((r) => r.shape)).size }).toEqual({ cause, shapes: SHAPES.length });
    }
    for (const r of results) {
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES);
      expect(r.exitCode === 0 && r.status === 'Failed').toBe(false);
    }
  });

  it('dev: ≥ 300 results of ≥ 25 causes from ≥ 20 programs, none of them in the main set, in the 4 shapes', () => {
    const dev = loadFixture(join(DATA, 'real-outputs-dev.jsonl.gz'));
    const main = loadFixture(mainFile);
    const mainPrograms = new Set(main.map((r) => r.program));
    const mainCauses = new Set(main.map((r) => r.cause));
    expect(dev.length).toBeGreaterThanOrEqual(300);
    expect(new Set(dev.map((r) => r.cause)).size).toBeGreaterThanOrEqual(25);
    expect(new Set(dev.map((r) => r.program)).size).toBeGreaterThanOrEqual(20);
    expect(new Set(dev.map((r) => r.shape))).toEqual(new Set(SHAPES));
    expect(dev.filter((r) => mainPrograms.has(r.program) || mainCauses.has(r.cause))).toEqual([]);
    for (const r of dev) expect(r.exitCode === 0 || r.output === '').toBe(false);
  });

  it('dev2: ≥ 400 results of ≥ 25 causes from ≥ 10 programs in none of main and dev, in 6 shapes, labels consistent', () => {
    const dev2 = loadFixture(join(DATA, 'real-outputs-dev2.jsonl.gz'));
    const earlier = [...loadFixture(mainFile), ...loadFixture(join(DATA, 'real-outputs-dev.jsonl.gz'))];
    const earlierPrograms = new Set(earlier.map((r) => r.program));
    const earlierCauses = new Set(earlier.map((r) => r.cause));
    const causes = new Map<string, RealOutput[]>();
    for (const r of dev2) causes.set(r.cause, [...(causes.get(r.cause) ?? []), r]);

    expect(dev2.length).toBeGreaterThanOrEqual(400);
    expect(causes.size).toBeGreaterThanOrEqual(25);
    expect(new Set(dev2.map((r) => r.program)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(dev2.map((r) => r.shape))).toEqual(new Set([...SHAPES, ...MORE_SHAPES]));
    expect(dev2.filter((r) => earlierPrograms.has(r.program) || earlierCauses.has(r.cause))).toEqual([]);
    expect(new Set(dev2.map((r) => r.id)).size).toBe(dev2.length);
    for (const [cause, list] of causes) {
      expect({ cause, n: list.length >= 8 && list.length <= 50 }).toEqual({ cause, n: true });
      expect({ cause, programs: new Set(list.map((r) => r.program)).size }).toEqual({ cause, programs: 1 });
      expect({ cause, exits: new Set(list.map((r) => `${r.status}/${r.exitCode}`)).size }).toEqual({ cause, exits: 1 });
    }
    for (const r of dev2) expect(r.exitCode === 0 || r.output === '' || Buffer.byteLength(r.output) > OUTPUT_LIMIT_BYTES).toBe(false);
  });

  it('hold-out: ≥ 10 causes, none of them in the main set', () => {
    expect(existsSync(holdoutFile)).toBe(true);
    const holdout = loadFixture(holdoutFile);
    const mainCauses = new Set(loadFixture(mainFile).map((r) => r.cause));
    const causes = new Set(holdout.map((r) => r.cause));
    expect(causes.size).toBeGreaterThanOrEqual(10);
    expect([...causes].filter((c) => mainCauses.has(c))).toEqual([]);
    expect(new Set(holdout.map((r) => r.shape))).toEqual(new Set(SHAPES));
  });

  it('hold-out 2: ≥ 350 results of ≥ 18 causes from ≥ 10 programs in no other set, in the bare and its own 5 shapes, labels consistent', () => {
    // Prepare: every other set's programs and causes.
    const holdout2 = loadFixture(join(DATA, 'real-outputs-holdout2.jsonl.gz'));
    const others = ['real-outputs.jsonl.gz', 'real-outputs-dev.jsonl.gz', 'real-outputs-dev2.jsonl.gz', 'real-outputs-holdout.jsonl.gz'].flatMap((f) => loadFixture(join(DATA, f)));
    const otherPrograms = new Set(others.map((r) => r.program));
    const otherCauses = new Set(others.map((r) => r.cause));
    const causes = new Map<string, RealOutput[]>();
    for (const r of holdout2) causes.set(r.cause, [...(causes.get(r.cause) ?? []), r]);

    // Assess
    expect(holdout2.length).toBeGreaterThanOrEqual(350);
    expect(causes.size).toBeGreaterThanOrEqual(18);
    expect(new Set(holdout2.map((r) => r.program)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(holdout2.map((r) => r.shape))).toEqual(new Set(['bare', ...BLIND_SHAPES.slice(0, 5)]));
    expect(holdout2.filter((r) => otherPrograms.has(r.program) || otherCauses.has(r.cause)).map((r) => r.id)).toEqual([]);
    expect(new Set(holdout2.map((r) => r.id)).size).toBe(holdout2.length);
    for (const [cause, list] of causes) {
      // Each cause: 8–40 instances, one program, one status, one exit code per shape (a wrapper may end with its own).
      expect({ cause, n: list.length >= 8 && list.length <= 40 }).toEqual({ cause, n: true });
      expect({ cause, programs: new Set(list.map((r) => r.program)).size }).toEqual({ cause, programs: 1 });
      expect({ cause, statuses: new Set(list.map((r) => r.status)).size }).toEqual({ cause, statuses: 1 });
      const exits = new Map<string, Set<number>>();
      for (const r of list) exits.set(r.shape, (exits.get(r.shape) ?? new Set()).add(r.exitCode));
      expect({ cause, exits: [...exits.values()].every((e) => e.size === 1) }).toEqual({ cause, exits: true });
    }
    for (const r of holdout2) expect(r.exitCode === 0 || r.output === '' || Buffer.byteLength(r.output) > OUTPUT_LIMIT_BYTES).toBe(false);
  });

  it('hold-out 3: ≥ 600 results of ≥ 45 causes from ≥ 15 programs in no other set, in the bare and its own 7 shapes, labels consistent', () => {
    // Prepare: every other set's programs and causes (the second hold-out's too).
    const holdout3 = loadFixture(join(DATA, 'real-outputs-holdout3.jsonl.gz'));
    const others = ['real-outputs.jsonl.gz', 'real-outputs-dev.jsonl.gz', 'real-outputs-dev2.jsonl.gz', 'real-outputs-holdout.jsonl.gz', 'real-outputs-holdout2.jsonl.gz'].flatMap((f) => loadFixture(join(DATA, f)));
    const otherPrograms = new Set(others.map((r) => r.program));
    const otherCauses = new Set(others.map((r) => r.cause));
    const causes = new Map<string, RealOutput[]>();
    for (const r of holdout3) causes.set(r.cause, [...(causes.get(r.cause) ?? []), r]);

    // Assess
    expect(holdout3.length).toBeGreaterThanOrEqual(600);
    expect(causes.size).toBeGreaterThanOrEqual(45);
    expect(new Set(holdout3.map((r) => r.program)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(holdout3.map((r) => r.shape))).toEqual(new Set(['bare', ...BLIND_SHAPES]));
    expect(holdout3.filter((r) => otherPrograms.has(r.program) || otherCauses.has(r.cause)).map((r) => r.id)).toEqual([]);
    expect(new Set(holdout3.map((r) => r.id)).size).toBe(holdout3.length);
    for (const [cause, list] of causes) {
      // Each cause: 6–20 instances in ≥ 5 shapes, one program, one status, one exit code per shape (a wrapper may end with its own).
      expect({ cause, n: list.length >= 6 && list.length <= 20 }).toEqual({ cause, n: true });
      expect({ cause, shapes: new Set(list.map((r) => r.shape)).size >= 5 }).toEqual({ cause, shapes: true });
      expect({ cause, programs: new Set(list.map((r) => r.program)).size }).toEqual({ cause, programs: 1 });
      expect({ cause, statuses: new Set(list.map((r) => r.status)).size }).toEqual({ cause, statuses: 1 });
      const exits = new Map<string, Set<number>>();
      for (const r of list) exits.set(r.shape, (exits.get(r.shape) ?? new Set()).add(r.exitCode));
      expect({ cause, exits: [...exits.values()].every((e) => e.size === 1) }).toEqual({ cause, exits: true });
    }
    for (const r of holdout3) expect(r.exitCode === 0 || r.output === '' || Buffer.byteLength(r.output) > OUTPUT_LIMIT_BYTES).toBe(false);
  });
});
