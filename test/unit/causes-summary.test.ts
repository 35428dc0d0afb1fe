/**
 * The error line through summarize: a cause's title is its error line's template (never a trailer or a footer), its
 * example is one instance's own output with that line marked in summary.json, the report and the Markdown.
 */
import { describe, expect, it } from 'vitest';
import { reportKey, summaryMarkdownKey, type ArchiveRef } from '../../lib/archive/layout';
import { silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0err' };
const failed = { InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ErrorInfo: 'The command execution exit code is not zero.', ExitCode: 1 };

/** A Node crash: the error on top, its stack, the runtime's footer. */
const nodeCrash = (n: number) =>
  `/srv/app/index.js:${n}\nconst x = cfg.db.host;\n                 ^\n\nTypeError: Cannot read properties of undefined (reading 'host')\n    at Object.<anonymous> (/srv/app/index.js:${n}:18)\n\nNode.js v20.20.2\n`;
/** A failure followed by a cleanup trap's trailer. */
const trapped = (n: number, error: string) => `step 1 ok\n${error}\ncleaning up /tmp/work-${n}\nERROR: step 'deploy' failed with exit code 1\n`;

describe('summarize: the error line as title and marked example', () => {
  it('titles each cause by its error line and marks it in the example, the report and the Markdown', async () => {
    // Prepare: 3 causes × 4 instances: a Node crash, and two failures behind the same trap trailer
    const records: Record<string, unknown>[] = [];
    for (let n = 0; n < 4; n++) {
      records.push(ecsRecord({ ...failed, InstanceId: instanceId(n * 3), Output: nodeCrash(n + 1) }));
      records.push(ecsRecord({ ...failed, InstanceId: instanceId(n * 3 + 1), Output: trapped(n, `E: Unable to locate package nginx-extra-${n}`) }));
      records.push(ecsRecord({ ...failed, InstanceId: instanceId(n * 3 + 2), Output: trapped(n, `psql: error: connection to server at "10.0.0.${n}", port 5432 failed: Connection refused`) }));
    }
    const store = createMemoryStore();
    await writeArchive(store, { ref: REF, records });
    // Act
    const { summary } = await summarizeArchive({ store, ref: REF, logger: silentLogger });
    const html = (await store.get(reportKey(REF)))?.toString('utf8') ?? '';
    const md = (await store.get(summaryMarkdownKey(REF)))?.toString('utf8') ?? '';
    // Assess: three causes of 4, titled by their error lines (not the footer, not the trailer)
    expect(summary.groups.map((g) => g.count)).toEqual([4, 4, 4]);
    const titles = summary.groups.map((g) => g.title).sort();
    expect(titles).toEqual([
      'E: Unable to locate package nginx-extra-<*>',
      "TypeError: Cannot read properties of undefined (reading '<*>')",
      'psql: error: connection to server at "<*>", port <*> failed: Connection refused',
    ]);
    const node = summary.groups.find((g) => g.title.startsWith('TypeError'));
    expect(node?.example.id).toBe(instanceId(0));
    const lines = node?.example.text.split('\n') ?? [];
    expect(lines[node?.example.line ?? -1]).toBe("TypeError: Cannot read properties of undefined (reading 'host')");
    expect(node?.instanceErrors[1]).toEqual({ id: instanceId(3), error: "TypeError: Cannot read properties of undefined (reading 'host')" });
    expect(html).toContain('<mark class="error-line">TypeError: Cannot read properties of undefined (reading &#39;host&#39;)</mark>');
    expect(md).toContain("▶ TypeError: Cannot read properties of undefined (reading 'host')");
    const apt = summary.groups.find((g) => g.title.startsWith('E:'));
    expect(apt?.example.text.split('\n')[apt.example.line ?? -1]).toBe('E: Unable to locate package nginx-extra-0');
  });
});
