import { describe, expect, it } from 'vitest';
import { defaultEndpoint } from '../../lib/cloud/endpoints';
import { CONFIG_VARIABLES, defaultInWords, loadConfig, readBool, readInt, readString, readUrl, readVariable, type ConfigRule } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

describe('readers', () => {
  it('readString trims, treats blank as unset, applies the default', () => {
    expect(readString({ env: { A: '  x  ' }, key: 'A' })).toBe('x');
    expect(readString({ env: { A: '   ' }, key: 'A' })).toBeUndefined();
    expect(readString({ env: {}, key: 'A', defaultValue: 'd' })).toBe('d');
  });

  it('required variables name themselves when missing', () => {
    expect(() => readString({ env: {}, key: 'ARCHIVE_URL', required: true })).toThrow(ConfigError);
    expect(() => readString({ env: { ARCHIVE_URL: ' ' }, key: 'ARCHIVE_URL', required: true })).toThrow(/ARCHIVE_URL/);
  });

  it('readInt parses, bounds and rejects junk', () => {
    expect(readInt({ env: { N: ' 42 ' }, key: 'N' })).toBe(42);
    expect(readInt({ env: {}, key: 'N', defaultValue: 7 })).toBe(7);
    expect(readInt({ env: { N: '-3' }, key: 'N', min: -5 })).toBe(-3);
    for (const bad of ['4.2', '1e3', 'ten', '0x10', '99999999999999999999']) {
      expect(() => readInt({ env: { N: bad }, key: 'N' })).toThrow(/N must be an integer/);
    }
    expect(() => readInt({ env: { N: '0' }, key: 'N', min: 1 })).toThrow(/between 1 and/);
    expect(() => readInt({ env: { N: '11' }, key: 'N', max: 10 })).toThrow(ConfigError);
  });

  it('readBool accepts the usual spellings', () => {
    for (const t of ['true', 'TRUE', '1', 'yes', 'on']) expect(readBool({ env: { B: t }, key: 'B' })).toBe(true);
    for (const f of ['false', 'False', '0', 'no', 'off']) expect(readBool({ env: { B: f }, key: 'B' })).toBe(false);
    expect(readBool({ env: {}, key: 'B', defaultValue: true })).toBe(true);
    expect(() => readBool({ env: { B: 'maybe' }, key: 'B' })).toThrow(/B must be true or false/);
  });

  it('readUrl checks the scheme', () => {
    expect(readUrl({ env: { U: 'https://x.example/a' }, key: 'U' })).toBe('https://x.example/a');
    expect(readUrl({ env: { U: 'oss://bucket/prefix' }, key: 'U', protocols: ['oss:', 'file:'] })).toBe('oss://bucket/prefix');
    expect(() => readUrl({ env: { U: 'not a url' }, key: 'U' })).toThrow(/U must be an absolute URL/);
    expect(() => readUrl({ env: { U: 'ftp://x' }, key: 'U' })).toThrow(/U must use one of/);
  });
});

describe('RPC endpoints', () => {
  it('uses the documented public endpoints', () => {
    expect(defaultEndpoint('oos', 'cn-hangzhou')).toBe('https://oos.cn-hangzhou.aliyuncs.com');
    expect(defaultEndpoint('ecs', 'ap-southeast-1')).toBe('https://ecs.ap-southeast-1.aliyuncs.com');
  });
  it('honours and normalises the overrides (http allowed)', () => {
    const env = { ALIBABA_CLOUD_OOS_ENDPOINT: ' http://127.0.0.1:9000/ ', ALIBABA_CLOUD_ECS_ENDPOINT: 'https://ecs-vpc.cn-hangzhou.aliyuncs.com' };
    expect(loadConfig(env).rpcEndpoints.oos).toBe('http://127.0.0.1:9000');
    expect(loadConfig(env).rpcEndpoints.ecs).toBe('https://ecs-vpc.cn-hangzhou.aliyuncs.com');
    expect(loadConfig({ ALIBABA_CLOUD_OOS_ENDPOINT: 'http://localhost:8080/rpc/oos/' }).rpcEndpoints.oos).toBe('http://localhost:8080/rpc/oos');
  });
  it.each(['oos.cn-hangzhou.aliyuncs.com', 'ftp://x', 'http://u:p@h', 'http://h/?a=1', 'http://h/#x', 'http://'])('rejects the malformed override %s', (value) => {
    expect(() => loadConfig({ ALIBABA_CLOUD_OOS_ENDPOINT: value })).toThrow(/ALIBABA_CLOUD_OOS_ENDPOINT/);
  });
  it('rejects a bad region', () => {
    expect(() => defaultEndpoint('ecs', 'Hangzhou/../x')).toThrow(ConfigError);
  });
});

describe('loadConfig', () => {
  it('has documented defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      archiveUrl: `file://${process.cwd()}/.local-cloud/archive`,
      regionId: 'cn-hangzhou',
      rpcEndpoints: { oos: undefined, ecs: undefined },
      ossEndpoint: undefined,
      fcEndpoint: undefined,
      accessKey: undefined,
      apiTimeoutMs: 10_000,
      apiMaxAttempts: 6,
      apiRateLimit: undefined,
      apiAccountBudget: undefined,
      apiBudgetShares: 16,
      logLevel: 'info',
      partMaxRecords: 100_000,
      partMaxBytes: 32 * 1024 * 1024,
      ecsPageConcurrency: 1,
      summarizeAfterCollect: 'inline',
      summarizeFunctionName: 'execution-archive-summarize',
      collectFunctionName: undefined,
      claimTtlSeconds: 900,
      fcAccountId: undefined,
      notify: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes the region from FC_REGION, and ALIBABA_CLOUD_REGION over it', () => {
    expect(loadConfig({ FC_REGION: 'cn-shanghai' }).regionId).toBe('cn-shanghai');
    expect(loadConfig({ FC_REGION: 'cn-shanghai', ALIBABA_CLOUD_REGION: 'cn-beijing' })).toMatchObject({ regionId: 'cn-beijing' });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ARCHIVE_URL: 'oss://my-bucket/archive',
      ALIBABA_CLOUD_OOS_ENDPOINT: 'http://127.0.0.1:1/',
      ALIBABA_CLOUD_ECS_ENDPOINT: 'http://127.0.0.1:2',
      ALIBABA_CLOUD_OSS_ENDPOINT: 'http://127.0.0.1:3/',
      ALIBABA_CLOUD_FC_ENDPOINT: 'http://127.0.0.1:4',
      API_TIMEOUT_MS: '2500',
      API_MAX_ATTEMPTS: '3',
      API_RATE_LIMIT_PER_SECOND: '40',
      API_ACCOUNT_RATE_BUDGET: '200',
      API_BUDGET_SHARES: '8',
      LOG_LEVEL: 'DEBUG',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tEnvKey000001',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'envSecret',
      ARCHIVE_PART_MAX_RECORDS: '500',
      ARCHIVE_PART_MAX_MB: '2',
      ECS_PAGE_CONCURRENCY: '8',
      SUMMARIZE_AFTER_COLLECT: 'Async',
      SUMMARIZE_FUNCTION_NAME: 'my-summarize',
      COLLECT_FUNCTION_NAME: 'my-collect',
      CLAIM_TTL_SECONDS: '60',
      FC_ACCOUNT_ID: '1234567890',
    });
    expect(config).toMatchObject({
      archiveUrl: 'oss://my-bucket/archive',
      rpcEndpoints: { oos: 'http://127.0.0.1:1', ecs: 'http://127.0.0.1:2' },
      ossEndpoint: 'http://127.0.0.1:3',
      fcEndpoint: 'http://127.0.0.1:4',
      apiTimeoutMs: 2500,
      apiMaxAttempts: 3,
      apiRateLimit: 40,
      apiAccountBudget: 200,
      apiBudgetShares: 8,
      logLevel: 'debug',
      accessKey: { accessKeyId: 'LTAI5tEnvKey000001', accessKeySecret: 'envSecret' },
      partMaxRecords: 500,
      partMaxBytes: 2 * 1024 * 1024,
      ecsPageConcurrency: 8,
      summarizeAfterCollect: 'async',
      summarizeFunctionName: 'my-summarize',
      collectFunctionName: 'my-collect',
      claimTtlSeconds: 60,
      fcAccountId: '1234567890',
    });
  });

  it.each([
    ['API_TIMEOUT_MS', 'soon'],
    ['API_MAX_ATTEMPTS', '0'],
    ['API_RATE_LIMIT_PER_SECOND', '-1'],
    ['LOG_LEVEL', 'verbose'],
    ['ARCHIVE_URL', 'http://example.com'],
    ['ALIBABA_CLOUD_REGION', 'not a region'],
    ['ALIBABA_CLOUD_OSS_ENDPOINT', 'oss-cn-hangzhou.aliyuncs.com'],
    ['SUMMARIZE_AFTER_COLLECT', 'later'],
    ['CLAIM_TTL_SECONDS', '5'],
    ['ECS_PAGE_CONCURRENCY', '0'],
    ['ECS_PAGE_CONCURRENCY', '17'],
  ])('names %s when it is malformed', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(key));
  });

  it('reads exactly the documented variables (and FC_REGION, which Function Compute sets)', () => {
    const read = new Set<string>();
    const env = new Proxy({ NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x' } as NodeJS.ProcessEnv, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    });
    loadConfig(env);
    expect([...read].sort()).toEqual([...CONFIG_VARIABLES.map((v) => v.name), 'FC_REGION'].sort());
  });

  it('documents every variable it reads', () => {
    const names = CONFIG_VARIABLES.map((v) => v.name);
    for (const key of ['ARCHIVE_URL', 'ALIBABA_CLOUD_REGION', 'ALIBABA_CLOUD_OOS_ENDPOINT', 'ALIBABA_CLOUD_ECS_ENDPOINT', 'ALIBABA_CLOUD_OSS_ENDPOINT', 'ALIBABA_CLOUD_FC_ENDPOINT', 'API_TIMEOUT_MS', 'API_MAX_ATTEMPTS', 'API_RATE_LIMIT_PER_SECOND', 'LOG_LEVEL']) {
      expect(names).toContain(key);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('applies, for every variable read by value, the default and the bounds its spec entry gives (the docs print the same)', () => {
    const withRule = CONFIG_VARIABLES.filter((v) => v.rule !== undefined);
    expect(withRule.length).toBeGreaterThanOrEqual(15);
    for (const v of withRule) {
      const rule = v.rule as ConfigRule;
      const name = v.name as Parameters<typeof readVariable>[1];
      expect(readVariable({}, name), v.name).toBe(rule.default);
      if (rule.default !== undefined) expect(defaultInWords(v)).toBe(String(rule.default));
      if (rule.kind === 'int') {
        expect(readVariable({ [v.name]: String(rule.max) }, name)).toBe(rule.max);
        expect(() => readVariable({ [v.name]: String(rule.min - 1) }, name), v.name).toThrow(new RegExp(v.name));
      }
      if (rule.kind === 'enum') expect(() => readVariable({ [v.name]: 'no-such-value' }, name)).toThrow(new RegExp(`${v.name} must be one of ${rule.values.join(', ')}`));
    }
    // The parsed configuration carries them: the defaults of a few fields, read through loadConfig.
    const config = loadConfig({});
    const spec = (name: string) => CONFIG_VARIABLES.find((v) => v.name === name)?.rule?.default;
    expect(config.apiTimeoutMs).toBe(spec('API_TIMEOUT_MS'));
    expect(config.partMaxBytes).toBe(Number(spec('ARCHIVE_PART_MAX_MB')) * 1024 * 1024);
    expect(config.summarizeAfterCollect).toBe(spec('SUMMARIZE_AFTER_COLLECT'));
    expect(config.claimTtlSeconds).toBe(spec('CLAIM_TTL_SECONDS'));
  });
});
