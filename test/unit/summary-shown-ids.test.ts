/**
 * The ids a summary shows are masked once, as their records come (aggregate.ts), and every object shows the same form:
 * summary.json's samples (looked up, not masked again), retry.txt, failures.ndjson.gz, truncated.txt and a cut
 * cause's list. Ids no API should send (a bidirectional override, a control character, a secret-looking pair) are
 * shown as `displayText` shows them, everywhere.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { failuresKey, retryListKey, truncatedListKey, type ArchiveRef } from '../../lib/archive/layout';
import { displayText } from '../../lib/causes/secrets';
import { silentLogger } from '../../lib/log';
import { SAMPLE_IDS } from '../../lib/summary/aggregate';
import { summarizeArchive } from '../../lib/summary/index';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';

/** Ids each needing their display form, in turn. */
const odd = (n: number): string => [`${instanceId(n)}\u202egnp`, `${instanceId(n)}\u0007`, `${instanceId(n)} password=hunter${n}`, instanceId(n)][n % 4] ?? instanceId(n);

describe('the ids a summary shows', () => {
  it('are shown alike in summary.json and every list object, masked', async () => {
    // Prepare: more failed instances of one cause than its sample holds (its list is cut to an object), two in three
    // with a cut output, then succeeded instances with cut outputs (more truncated ids than a sample holds too), and
    // ids that need masking
    const store = createMemoryStore();
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0shownids0001' };
    const n = SAMPLE_IDS + 30;
    const ok = 400;
    const ids = Array.from({ length: n + ok }, (_, i) => odd(i));
    const cut = (i: number) => i >= n || i % 3 !== 1;
    await writeArchive(store, {
      ref,
      records: ids.map((id, i) =>
        i < n
          ? ecsRecord({ InstanceId: id, InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, Output: 'connecting\nerror: disk full\n', Dropped: cut(i) ? 10 : 0 })
          : ecsRecord({ InstanceId: id, Dropped: 10 }),
      ),
      related: { invocation: [{ InvokeId: ref.id, CommandName: 'deploy', InvocationStatus: 'Failed', CreationTime: '2024-05-01T10:00:00Z' }] },
    });
    const all = ids.map((id) => displayText(id));
    const shown = all.slice(0, n);
    // The forms differ from the ids (the test would not see an id left unmasked otherwise)
    expect(shown.filter((s, i) => s !== ids[i]).length).toBeGreaterThan(n / 2);

    // Act
    const { summary } = await summarizeArchive({ store, ref, logger: silentLogger });
    const text = async (key: string) => (await store.get(key))?.toString('utf8') ?? '';
    const lines = (body: string) => body.split('\n').filter((l) => l !== '');

    // Assess: one cause, its sample and the retry sample the first ids as shown; its list, retry.txt, the failures'
    // list and truncated.txt all of them, as shown
    expect(summary.groups).toHaveLength(1);
    const group = summary.groups[0];
    expect(group?.resourceIds).toEqual(shown.slice(0, SAMPLE_IDS));
    expect(group?.resourceCount).toBe(n);
    expect(lines(await text(group?.resourceIdsKey ?? ''))).toEqual(shown);
    expect(summary.retry.ids).toEqual(shown.slice(0, SAMPLE_IDS));
    expect(lines(await text(retryListKey(ref)))).toEqual(shown);
    const failures = lines(gunzipSync((await store.get(failuresKey(ref))) ?? Buffer.alloc(0)).toString('utf8')).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(failures).toEqual(shown);
    const truncated = all.filter((_, i) => cut(i));
    expect(truncated.length).toBeGreaterThan(SAMPLE_IDS);
    expect(summary.truncatedOutputs.ids).toEqual(truncated.slice(0, SAMPLE_IDS));
    expect(lines(await text(truncatedListKey(ref)))).toEqual(truncated);
  });
});
