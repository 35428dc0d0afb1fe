/**
 * The live summary pays what the first failure costs once per process while the walk waits for its first answers
 * (lib/summary/live.ts `started`): the masker's tables are built then, not at the first failed record, and the
 * throwaway failure it aggregates leaves nothing in the summary.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as TriggerScan from '../../lib/causes/trigger-scan';
import type * as Parquet from '../../lib/warehouse/parquet';

describe('the live summary warms up while the walk waits', () => {
  afterEach(() => {
    vi.doUnmock('../../lib/causes/trigger-scan');
    vi.resetModules();
  });

  it('builds the masker’s tables when the walk has started, none at the first failure, none at a second start', async () => {
    // Prepare: a fresh module graph whose trigger scanners are counted
    vi.resetModules();
    const built = vi.fn();
    vi.doMock('../../lib/causes/trigger-scan', async (original) => {
      const real = await original<typeof TriggerScan>();
      return {
        ...real,
        createTriggerScanner: (...args: Parameters<typeof real.createTriggerScanner>) => {
          built(args[0].length);
          return real.createTriggerScanner(...args);
        },
      };
    });
    const { createLiveSummary } = await import('../../lib/summary/live');
    const live = createLiveSummary('ecs');
    const beforeStart = built.mock.calls.length;
    // Act: the walk starts, then its first page holds a failure with a secret
    live.started();
    const afterStart = built.mock.calls.length;
    live.subject({ InvokeId: 't-warm', CommandName: 'deploy.sh' });
    live.records([{ InstanceId: 'i-1', InvocationStatus: 'Failed', ExitCode: 2, ErrorCode: '', Output: 'export TOKEN=abc\nError: disk full\n' }]);
    const afterFailure = built.mock.calls.length;
    live.started();
    // Assess: nothing before the start; the tables (the masker's scanner, at least) at the start; none later
    expect(beforeStart).toBe(0);
    expect(afterStart).toBeGreaterThanOrEqual(1);
    expect(afterFailure).toBe(afterStart);
    expect(built.mock.calls.length).toBe(afterStart);
    live.discard();
  });

  it('with the warehouse, encodes a throwaway table once: the Parquet writer is warm before the first row group closes', async () => {
    // Prepare: a fresh module graph whose Parquet column writes are counted
    vi.resetModules();
    const chunks = vi.fn();
    vi.doMock('../../lib/warehouse/parquet', async (original) => {
      const real = await original<typeof Parquet>();
      class Counted extends real.ColumnChunksWriter {
        override chunk(...args: Parameters<InstanceType<typeof real.ColumnChunksWriter>['chunk']>): void {
          chunks(args[1], args[2].length);
          super.chunk(...args);
        }
      }
      return { ...real, ColumnChunksWriter: Counted };
    });
    const { createLiveSummary } = await import('../../lib/summary/live');
    const { RESULT_COLUMNS } = await import('../../lib/warehouse/layout');
    const live = createLiveSummary('ecs', { warehouse: true });
    // Act
    live.started();
    const afterStart = chunks.mock.calls.length;
    live.started();
    createLiveSummary('ecs', { warehouse: true }).started();
    // Assess: every column of the results table, 50 rows each, once per process
    expect(afterStart).toBe(RESULT_COLUMNS.length);
    expect(chunks.mock.calls.map((c) => c[0])).toEqual(RESULT_COLUMNS.map((c) => c.name));
    expect(chunks.mock.calls.every((c) => c[1] === 50)).toBe(true);
    live.discard();
    vi.doUnmock('../../lib/warehouse/parquet');
  });
});
