/**
 * s.yaml and deploy/ram-policy.json against the code: `s preview` renders it offline; every function folder is
 * deployed with a bundle that exports its handler; triggers are well-formed; every environment variable is
 * documented; the RAM policy grants exactly the API actions the code calls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, RUNTIME_VARIABLES } from '../../lib/config';
import { parseDigestPayload } from '../../lib/digest';
import { ensureBundles } from '@execution-archive/local-cloud/host/bundles';
import { parseSchedule } from '@execution-archive/local-cloud/host/cron';
import { matchesPattern } from '@execution-archive/local-cloud/host/pattern';
import type { Json } from '../helpers/json';

const root = resolve(__dirname, '../..');
const sYaml = parse(readFileSync(join(root, 's.yaml'), 'utf8')) as {
  vars: Record<string, string>;
  actions?: Record<string, { run: string; path: string }[]>;
  resources: Record<string, { component: string; props: Record<string, Json> }>;
};
const resources = Object.entries(sYaml.resources);
const functionFolders = readdirSync(join(root, 'functions')).filter((n) => existsSync(join(root, 'functions', n, 'index.ts')));
const sBin = join(root, 'node_modules', '.bin', 's');

describe('s preview (Serverless Devs, offline)', () => {
  it.skipIf(!existsSync(sBin))('renders s.yaml with exit 0 and all five functions', () => {
    const home = mkdtempSync(join(tmpdir(), 'ea-s-home-'));
    try {
      const env = { ...process.env, HOME: home, npm_config_update_notifier: 'false', NO_UPDATE_NOTIFIER: '1' };
      const opts = { cwd: root, env, encoding: 'utf8' as const, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
      const set = spawnSync(sBin, ['set', 'analysis', 'disable'], opts);
      expect(set.status, set.stderr).toBe(0);
      const preview = spawnSync(sBin, ['preview', '-t', 's.yaml', '--silent'], opts);
      expect(preview.status, `${preview.stdout}\n${preview.stderr}`).toBe(0);
      for (const name of ['collect', 'summarize', 'on-cloud-assistant-event', 'sweep', 'digest']) {
        expect(preview.stdout).toContain(`execution-archive-${name}`);
      }
      // ${vars.*} were rendered.
      expect(preview.stdout).toContain(`oss://${sYaml.vars.bucket}/${sYaml.vars.prefix}`);
      expect(preview.stdout).not.toContain('${vars.');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('s.yaml matches the code', () => {
  beforeAll(async () => {
    await ensureBundles({ root });
  }, 120_000);

  it('deploys every function folder, each from its dist bundle, with an exported handler', () => {
    expect(resources.map(([, r]) => r.component)).toEqual(resources.map(() => 'fc3'));
    const codeFolders = resources.map(([, r]) => r.props.code as string);
    expect(codeFolders.map((c) => basename(c)).sort()).toEqual([...functionFolders].sort());
    expect(functionFolders.sort()).toEqual(['collect', 'digest', 'on-cloud-assistant-event', 'summarize', 'sweep']);
    const req = createRequire(__filename);
    for (const [key, { props }] of resources) {
      const folder = basename(props.code);
      expect(props.code, key).toBe(`./dist/${folder}`);
      expect(props.functionName, key).toBe(`execution-archive-${folder}`);
      expect(props.runtime, key).toBe('nodejs20');
      expect(props.handler, key).toBe('index.handler');
      expect(props.role, key).toBe('${vars.role}');
      expect(props.logConfig, key).toBe('auto');
      expect(existsSync(join(root, 'functions', folder, 'index.ts')), key).toBe(true);
      const bundle = join(root, 'dist', folder, 'index.js');
      expect(existsSync(bundle), bundle).toBe(true);
      const mod = req(bundle) as { handler?: unknown };
      expect(typeof mod.handler, bundle).toBe('function');
    }
    expect(sYaml.actions?.['pre-deploy']).toEqual([{ run: 'npm run build', path: './' }]);
  });

  it('sizes memory and timeouts for the work', () => {
    const sizes = Object.fromEntries(resources.map(([k, r]) => [k, [r.props.memorySize, r.props.timeout]]));
    expect(sizes).toEqual({ collect: [1024, 900], summarize: [1024, 600], 'on-cloud-assistant-event': [256, 60], sweep: [512, 600], digest: [512, 600] });
    const collect = sYaml.resources.collect?.props;
    expect(collect?.asyncInvokeConfig.maxAsyncRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(collect?.asyncInvokeConfig.maxAsyncEventAgeInSeconds).toBeGreaterThan(0);
  });

  it('has valid triggers: HTTP methods, a 6-field UTC cron with a JSON payload, an EventBridge TaskCompleted pattern', () => {
    const triggers = resources.flatMap(([key, r]) => (r.props.triggers ?? []).map((t: Json) => ({ key, ...t })));
    const byKey = (k: string) => triggers.filter((t) => t.key === k);
    const http = triggers.filter((t) => t.triggerType === 'http');
    expect(http.map((t) => [t.key, t.triggerConfig.methods])).toEqual([
      ['collect', ['POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']],
      ['summarize', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']],
    ]);
    for (const t of http) {
      expect(['anonymous', 'function', 'jwt']).toContain(t.triggerConfig.authType);
      for (const m of t.triggerConfig.methods) expect(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']).toContain(m);
    }
    const [timer] = byKey('sweep');
    expect(timer.triggerType).toBe('timer');
    expect(timer.triggerConfig.cronExpression.trim().split(/\s+/)).toHaveLength(6);
    expect(timer.triggerConfig.enable).toBe(true);
    const next = parseSchedule(timer.triggerConfig.cronExpression).next(Date.parse('2026-01-01T00:10:00Z'));
    expect(new Date(next ?? 0).toISOString()).toBe('2026-01-01T00:30:00.000Z');
    expect(typeof timer.triggerConfig.payload).toBe('string');
    expect(JSON.parse(timer.triggerConfig.payload)).toBeTypeOf('object');

    const [daily] = byKey('digest');
    expect(daily.triggerType).toBe('timer');
    expect(daily.triggerConfig.enable).toBe(true);
    const at = parseSchedule(daily.triggerConfig.cronExpression).next(Date.parse('2026-01-01T00:10:00Z'));
    expect(new Date(at ?? 0).toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(parseDigestPayload({ triggerTime: '2026-01-01T01:00:00Z', triggerName: 'daily', payload: daily.triggerConfig.payload })).toMatchObject({ days: 7, historyDays: 30 });

    const [eb] = byKey('on-cloud-assistant-event');
    expect(eb.triggerType).toBe('eventbridge');
    const c = eb.triggerConfig;
    expect(c.eventSourceConfig.eventSourceType).toBe('Default');
    expect(c.eventSinkConfig.deliveryOption).toEqual({ mode: 'event-driven', eventSchema: 'CloudEvents' });
    expect(c.runOptions.mode).toBe('event-driven');
    expect(c.runOptions.retryStrategy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(typeof c.eventRuleFilterPattern).toBe('string');
    const pattern = JSON.parse(c.eventRuleFilterPattern);
    expect(pattern).toEqual({ source: ['acs.ecs'], type: ['ecs:CloudAssistant:TaskCompleted'] });
    expect(matchesPattern({ source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: {} }, pattern)).toBe(true);
    expect(matchesPattern({ source: 'acs.ecs', type: 'ecs:CloudAssistant:FirstHeartbeat', data: {} }, pattern)).toBe(false);
    expect(byKey('collect').every((t) => t.triggerType === 'http')).toBe(true);
  });

  it('documents every environment variable in CONFIG_VARIABLES', () => {
    const documented = new Set([...CONFIG_VARIABLES, ...RUNTIME_VARIABLES].map((v) => v.name));
    for (const [key, { props }] of resources) {
      for (const name of Object.keys(props.environmentVariables ?? {})) expect(documented.has(name), `${key}: ${name}`).toBe(true);
      expect(props.environmentVariables.ARCHIVE_URL, key).toBe('oss://${vars.bucket}/${vars.prefix}');
    }
    const env = sYaml.resources.collect?.props.environmentVariables;
    expect(env).toMatchObject({
      COLLECT_FUNCTION_NAME: 'execution-archive-collect',
      SUMMARIZE_FUNCTION_NAME: 'execution-archive-summarize',
      SUMMARIZE_AFTER_COLLECT: 'async',
      NODE_OPTIONS: '--max-semi-space-size=4',
      MALLOC_ARENA_MAX: '2',
    });
    // The names the functions invoke are functions of this file.
    const names = new Set(resources.map(([, r]) => r.props.functionName));
    for (const [, { props }] of resources) {
      for (const k of ['COLLECT_FUNCTION_NAME', 'SUMMARIZE_FUNCTION_NAME']) {
        const v = props.environmentVariables?.[k];
        if (v !== undefined) expect(names.has(v), v).toBe(true);
      }
    }
  });
});

describe('deploy/ram-policy.json', () => {
  const policy = JSON.parse(readFileSync(join(root, 'deploy', 'ram-policy.json'), 'utf8')) as {
    Version: string;
    Statement: { Effect: string; Action: string[]; Resource: string | string[]; Condition?: unknown }[];
  };
  const granted = policy.Statement.flatMap((s) => s.Action);

  function libFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? libFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  }
  const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  const files = libFiles(join(root, 'lib'));

  it('grants exactly the OOS and ECS actions the code calls', () => {
    const called = new Map<string, string>();
    for (const [service, file] of [
      ['oos', 'lib/cloud/oos.ts'],
      ['ecs', 'lib/cloud/ecs.ts'],
    ] as const) {
      // `const action = 'X'` or `action: 'X'` (the walkers name the action they page through).
      for (const m of code(join(root, file)).matchAll(/\baction\s*[:=]\s*'(\w+)'/g)) called.set(m[1] as string, service);
    }
    // Any request('Action', …) elsewhere in lib must be one of those (or the policy misses it).
    for (const f of files) {
      for (const m of code(f).matchAll(/\.request(?:<[^>]*>)?\(\s*'(\w+)'/g)) expect(called.has(m[1] as string), `${f}: ${m[1]}`).toBe(true);
    }
    expect(called.size).toBeGreaterThan(0);
    const rpcGranted = granted.filter((a) => a.startsWith('oos:') || a.startsWith('ecs:')).sort();
    expect(rpcGranted).toEqual([...called].map(([action, service]) => `${service}:${action}`).sort());
    expect(rpcGranted).toEqual(['ecs:DescribeInvocationResults', 'ecs:DescribeInvocations', 'oos:ListExecutions', 'oos:ListResourceExecutionStatus']);
  });

  it('grants exactly the OSS actions behind the ali-oss calls, on the archive prefix only', () => {
    const ramActionOf: Record<string, string[]> = {
      put: ['oss:PutObject'],
      putStream: ['oss:PutObject'],
      initMultipartUpload: ['oss:PutObject'],
      uploadPart: ['oss:PutObject'],
      completeMultipartUpload: ['oss:PutObject'],
      multipartUpload: ['oss:PutObject'],
      abortMultipartUpload: ['oss:AbortMultipartUpload'],
      listParts: ['oss:ListParts'],
      get: ['oss:GetObject'],
      getStream: ['oss:GetObject'],
      head: ['oss:GetObject'],
      delete: ['oss:DeleteObject'],
      deleteMulti: ['oss:DeleteObject'],
      copy: ['oss:GetObject', 'oss:PutObject'],
      list: ['oss:ListObjects'],
      listUploads: ['oss:ListMultipartUploads'],
      listV2: ['oss:ListObjects'],
    };
    const needed = new Set<string>();
    for (const m of code(join(root, 'lib/archive/oss.ts')).matchAll(/\boss\.(\w+)\(/g)) {
      const actions = ramActionOf[m[1] as string];
      expect(actions, `ali-oss method ${m[1]} has no RAM action mapping in this test`).toBeDefined();
      for (const a of actions ?? []) needed.add(a);
    }
    // (oss:GetObject is granted once more, where Cloud Assistant delivers outputs: see the next test.)
    expect([...new Set(granted.filter((a) => a.startsWith('oss:')))].sort()).toEqual([...needed].sort());
    const objects = policy.Statement.find((s) => s.Action.includes('oss:PutObject'));
    expect(objects?.Resource).toBe('acs:oss:*:*:<bucket>/<prefix>/*');
    const list = policy.Statement.find((s) => s.Action.includes('oss:ListObjects'));
    expect(list?.Action).toEqual(['oss:ListObjects', 'oss:ListMultipartUploads']);
    expect(list?.Resource).toBe('acs:oss:*:*:<bucket>');
    expect(list?.Condition).toEqual({ StringLike: { 'oss:Prefix': ['<prefix>/*'] } });
  });

  it('enables asynchronous tasks on every function the code invokes with a task id (FC honours task ids only there)', () => {
    // Prepare: the functions invoked asynchronously with an x-fc-async-task-id (lib/fanout.ts `taskId`).
    const invokedWithTaskIds = ['execution-archive-collect', 'execution-archive-summarize', 'execution-archive-on-cloud-assistant-event'];
    expect(files.some((f) => /invokeAsync\([^)]*\{ taskId/.test(code(f)))).toBe(true);
    // Act
    const enabled = resources
      .filter(([, r]) => (r.props.asyncInvokeConfig as { asyncTask?: unknown } | undefined)?.asyncTask === true)
      .map(([, r]) => r.props.functionName);
    // Assess
    expect(enabled.sort()).toEqual(invokedWithTaskIds.sort());
  });

  it('grants only oss:GetObject where Cloud Assistant delivers outputs: collect only HEADs and GETs there', () => {
    const delivery = policy.Statement.filter((s) => String(s.Resource).includes('<delivery-bucket>'));
    expect(delivery).toEqual([{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: 'acs:oss:*:*:<delivery-bucket>/<delivery-prefix>/*' }]);
    // What lib/collect/outputs.ts does with a delivery bucket (deps.openBucket → `source`): head and getStream only.
    const calls = [...code(join(root, 'lib/collect/outputs.ts')).matchAll(/\bsource\.(\w+)\(/g)].map((m) => m[1]);
    expect(new Set(calls)).toEqual(new Set(['head', 'getStream']));
    expect(code(join(root, 'lib/collect/outputs.ts'))).toMatch(/const source = deps\.openBucket\(/);
  });

  it('lets the functions invoke only collect, summarize and the event consumer (its deadline hand-off)', () => {
    const usesInvoke = files.some((f) => /InvokeFunction|invokeFunction/.test(code(f)));
    expect(usesInvoke).toBe(true);
    const fc = policy.Statement.filter((s) => s.Action.some((a) => a.startsWith('fc:')));
    expect(fc).toHaveLength(1);
    expect(fc[0]?.Action).toEqual(['fc:InvokeFunction']);
    expect(fc[0]?.Resource).toEqual([
      'acs:fc:*:*:functions/execution-archive-collect',
      'acs:fc:*:*:functions/execution-archive-summarize',
      'acs:fc:*:*:functions/execution-archive-on-cloud-assistant-event',
    ]);
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(granted.every((a) => !a.includes('*'))).toBe(true);
  });
});
