/**
 * The warehouse's layout is a contract with query engines: the Parquet files written for an ECS and an OOS archive
 * have exactly the columns, types and nullability docs/warehouse.md documents, in that order, and sit at the
 * documented Hive-partitioned keys; so do the compacted files, and the DuckDB-on-OSS views documented are `sql`'s.
 * Also the `sql` command, run as a user does, over the same folder.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { createFileStore } from '../../lib/archive/file';
import { silentLogger } from '../../lib/log';
import { compactWarehouse } from '../../lib/warehouse/compact';
import { openWarehouseSql, viewDdl, type WarehouseSql } from '../../lib/warehouse/sql';
import { runCli } from '../helpers/cli';
import { fcContext, useTestCloud, type TestCloud } from '../helpers/local-cloud';

let t: TestCloud;
let rt: Runtime;
let root: string;
let db: WarehouseSql;
let ids: { invokeId: string; executionId: string };
useTestCloud({ seed: 7 }, (cloud) => (t = cloud));
beforeAll(async () => {
  rt = createRuntime(fcContext(), { env: t.env('file', { SUMMARIZE_AFTER_COLLECT: 'inline' }) });
  const data = t.cloud.rpc.data;
  ids = {
    invokeId: data.addInvocation({ instances: 120, failureRate: 0.25, commandName: 'patch.sh', createdAt: '2026-10-30T23:59:00Z' }).invokeId,
    executionId: data.addExecution({ resources: 80, failureRate: 0.2, startedAt: '2026-10-31T01:00:00Z' }).executionId,
  };
  await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: ids.invokeId }), rt);
  await runCollect(parseCollectRequest({ source: 'oos', regionId: 'cn-hangzhou', executionId: ids.executionId }), rt);
  root = fileURLToPath(rt.store.url);
  db = await openWarehouseSql(root);
}, 60_000);
afterAll(async () => {
  db?.close();
});

/** The documented columns of a table: the rows of the Markdown table between its schema markers. */
function documented(table: string): { name: string; type: string; nullable: boolean }[] {
  const doc = readFileSync(resolve(__dirname, '../../docs/warehouse.md'), 'utf8');
  const section = doc.split(`<!-- schema:${table} -->`)[1]?.split(`<!-- /schema:${table} -->`)[0] ?? '';
  return [...section.matchAll(/^\| `([a-z_]+)` \| ([A-Z]+) \| (yes|no) \|/gm)].map((m) => ({ name: m[1] ?? '', type: m[2] ?? '', nullable: m[3] === 'yes' }));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

describe('the warehouse files', () => {
  it('sit at the documented keys: Hive partitions by source, region and the run’s own date', () => {
    expect(filesUnder(join(root, 'warehouse'))).toEqual([
      `warehouse/causes/source=ecs/region=cn-hangzhou/date=2026-10-30/${ids.invokeId}.parquet`,
      `warehouse/causes/source=oos/region=cn-hangzhou/date=2026-10-31/${ids.executionId}.parquet`,
      `warehouse/results/source=ecs/region=cn-hangzhou/date=2026-10-30/${ids.invokeId}.parquet`,
      `warehouse/results/source=oos/region=cn-hangzhou/date=2026-10-31/${ids.executionId}.parquet`,
    ]);
  });

  it.each(['results', 'causes'])('%s: every file has the documented columns, types and nullability, in order', async (table) => {
    const expected = documented(table);
    expect(expected.length).toBeGreaterThan(8);
    for (const file of filesUnder(join(root, 'warehouse', table))) {
      const path = join(root, file).replace(/'/g, "''");
      const described = await db.all(`describe select * from read_parquet('${path}', hive_partitioning = false)`);
      expect(described.map((c) => ({ name: c.column_name, type: c.column_type }))).toEqual(expected.map(({ name, type }) => ({ name, type })));
      const schema = await db.all(`select name, repetition_type from parquet_schema('${path}') where name <> 'root'`);
      expect(schema.map((c) => ({ name: c.name, nullable: c.repetition_type === 'OPTIONAL' }))).toEqual(expected.map(({ name, nullable }) => ({ name, nullable })));
    }
    // The views add the partition columns.
    const view = await db.all(`describe ${table}`);
    expect(view.map((c) => `${String(c.column_name)} ${String(c.column_type)}`).slice(-3).sort()).toEqual(['date DATE', 'region VARCHAR', 'source VARCHAR']);
  });

  it('compacted files have the same documented columns, and the views over both trees add the same partition columns', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'ea-compacted-'));
    try {
      cpSync(root, copy, { recursive: true });
      const result = await compactWarehouse({ store: createFileStore(copy), logger: silentLogger, closedAfterMs: 0, graceMs: 3_600_000 });
      expect(result).toMatchObject({ compacted: 4, retired: 0 });
      const both = await openWarehouseSql(copy);
      try {
        for (const table of ['results', 'causes'] as const) {
          const expected = documented(table);
          const compacted = filesUnder(join(copy, 'warehouse', 'compacted', table)).map((f) => resolve(root, f));
          expect(compacted.map((f) => relative(copy, f))).toEqual([
            `warehouse/compacted/${table}/source=ecs/region=cn-hangzhou/date=2026-10-30/compacted.parquet`,
            `warehouse/compacted/${table}/source=oos/region=cn-hangzhou/date=2026-10-31/compacted.parquet`,
          ]);
          for (const path of compacted) {
            const described = await both.all(`describe select * from read_parquet('${path.replace(/'/g, "''")}', hive_partitioning = false)`);
            expect(described.map((c) => ({ name: c.column_name, type: c.column_type }))).toEqual(expected.map(({ name, type }) => ({ name, type })));
            const schema = await both.all(`select name, repetition_type from parquet_schema('${path.replace(/'/g, "''")}') where name <> 'root'`);
            expect(schema.map((c) => ({ name: c.name, nullable: c.repetition_type === 'OPTIONAL' }))).toEqual(expected.map(({ name, nullable }) => ({ name, nullable })));
          }
          const columns = (await both.all(`describe ${table}`)).map((c) => String(c.column_name));
          expect(columns).toEqual([...expected.map((c) => c.name), 'source', 'region', 'date']);
          // Both trees hold every run now (the per-archive objects wait for the grace period): each counted once.
          expect(await both.all(`select count(*)::integer as n from ${table}`)).toEqual(await db.all(`select count(*)::integer as n from ${table}`));
        }
      } finally {
        both.close();
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('the DuckDB-on-OSS views docs/warehouse.md documents are the ones `sql` runs, with an s3:// root', () => {
    const doc = readFileSync(resolve(__dirname, '../../docs/warehouse.md'), 'utf8');
    const block = doc.split('<!-- ddl:duckdb-oss -->')[1]?.split('<!-- /ddl:duckdb-oss -->')[0] ?? '';
    for (const table of ['results', 'causes'] as const) expect(block).toContain(`${viewDdl(table, 's3://<bucket>/<prefix>', { small: true, compacted: true })};`);
  });

  it('an archive with nothing summarized yet has both views, with every column and no rows', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ea-empty-'));
    const emptyDb = await openWarehouseSql(empty);
    try {
      for (const table of ['results', 'causes']) {
        expect(await emptyDb.all(`select count(*)::integer as n from ${table}`)).toEqual([{ n: 0 }]);
        const columns = (await emptyDb.all(`describe ${table}`)).map((c) => String(c.column_name));
        expect(columns).toEqual([...documented(table).map((c) => c.name), 'source', 'region', 'date']);
      }
    } finally {
      emptyDb.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('`execution-archive sql` answers over the folder as a table, CSV and JSON', async () => {
    const query = "select source, outcome, count(*) as n from results group by all order by all";
    const table = await runCli(['sql', query, '--to', root]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^source\s+outcome\s+n$/);
    expect(lines.at(-1)).toBe('(4 rows)');
    const csv = await runCli(['sql', query, '--to', root, '--format', 'csv']);
    const rows = csv.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('source,outcome,n');
    const total = rows.slice(1).reduce((n, r) => n + Number(r.split(',')[2]), 0);
    expect(total).toBe(200);
    const json = await runCli(['sql', 'select count(*)::integer as n from causes where cause_key is null', '--to', root, '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual([{ n: 0 }]);
    const remote = await runCli(['sql', 'select 1', '--to', 'oss://bucket/prefix']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/sql reads a local archive root/);
    const bad = await runCli(['sql', 'select nope from results', '--to', root]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nope/);
  }, 60_000);
});
