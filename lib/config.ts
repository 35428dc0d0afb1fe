/**
 * Configuration from environment variables: tiny typed readers that trim, parse and fail with a message naming the
 * variable, and {@link loadConfig}, which reads everything once into a frozen object so a misconfigured deployment
 * fails on its first invocation rather than halfway through a run.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { normalizeEndpoint, type Service } from './cloud/endpoints';
import type { EnvAccessKey } from './cloud/credentials';
import { parseDeliveryAllowList, type DeliveryAllowEntry } from './cloud/delivery';
import { ConfigError } from './errors';
import { DEFAULT_CLAIM_TTL_SECONDS } from './archive/claim';
import { REGION_ID } from './ids';
import type { LogLevel } from './log';

/** Options shared by the readers. */
export interface ReadOptions<T> {
  /** The key of the variable, used in error messages. */
  key: string;
  /** The environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Returned when the variable is unset or blank. @default undefined */
  defaultValue?: T;
  /** Throw a ConfigError when the variable is unset or blank and there is no default. @default false */
  required?: boolean;
}

/** Options of the numeric reader. */
export interface ReadIntOptions extends ReadOptions<number> {
  /** Smallest accepted value (inclusive). @default Number.MIN_SAFE_INTEGER */
  min?: number;
  /** Largest accepted value (inclusive). @default Number.MAX_SAFE_INTEGER */
  max?: number;
}

/** Options of the URL reader. */
export interface ReadUrlOptions extends ReadOptions<string> {
  /** Accepted schemes, with the colon. @default ['http:', 'https:'] */
  protocols?: readonly string[];
}

type WithValue<O> = O & ({ defaultValue: unknown } | { required: true });

function rawValue(options: ReadOptions<unknown>): string | undefined {
  const env = options.env ?? process.env;
  const value = env[options.key]?.trim();
  if (value === undefined || value === '') {
    if (options.defaultValue === undefined && options.required) {
      throw new ConfigError(`environment variable ${options.key} is required but not set`);
    }
    return undefined;
  }
  return value;
}

/**
 * Reads a trimmed string; blank counts as unset.
 * @throws ConfigError when required and unset.
 * @example readString({ key: 'LOG_LEVEL', defaultValue: 'info' })
 */
export function readString(options: WithValue<ReadOptions<string>>): string;
export function readString(options: ReadOptions<string>): string | undefined;
export function readString(options: ReadOptions<string>): string | undefined {
  return rawValue(options) ?? options.defaultValue;
}

/**
 * Reads a base-10 integer (`_` separators are not accepted) within `[min, max]`.
 * @throws ConfigError naming the variable when it is not an integer, out of range, or required and unset.
 * @example readInt({ key: 'API_TIMEOUT_MS', defaultValue: 10_000, min: 100 })
 */
export function readInt(options: WithValue<ReadIntOptions>): number;
export function readInt(options: ReadIntOptions): number | undefined;
export function readInt(options: ReadIntOptions): number | undefined {
  const raw = rawValue(options);
  if (raw === undefined) return options.defaultValue;
  if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new ConfigError(`environment variable ${options.key} must be an integer, got ${JSON.stringify(raw)}`);
  }
  const value = Number(raw);
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (value < min || value > max) {
    throw new ConfigError(`environment variable ${options.key} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Reads a boolean: `true/1/yes/on` or `false/0/no/off`, case-insensitive.
 * @throws ConfigError naming the variable for anything else, or when required and unset.
 * @example readBool({ key: 'DRY_RUN', defaultValue: false })
 */
export function readBool(options: WithValue<ReadOptions<boolean>>): boolean;
export function readBool(options: ReadOptions<boolean>): boolean | undefined;
export function readBool(options: ReadOptions<boolean>): boolean | undefined {
  const raw = rawValue(options);
  if (raw === undefined) return options.defaultValue;
  const lower = raw.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new ConfigError(`environment variable ${options.key} must be true or false, got ${JSON.stringify(raw)}`);
}

/**
 * Reads an absolute URL whose scheme is one of `protocols`; returns it as written (trimmed). The default value is
 * returned unchecked.
 * @throws ConfigError naming the variable when it does not parse or has another scheme.
 * @example readUrl({ key: 'ARCHIVE_URL', protocols: ['oss:', 'file:'], required: true })
 */
export function readUrl(options: WithValue<ReadUrlOptions>): string;
export function readUrl(options: ReadUrlOptions): string | undefined;
export function readUrl(options: ReadUrlOptions): string | undefined {
  const raw = rawValue(options);
  if (raw === undefined) return options.defaultValue;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`environment variable ${options.key} must be an absolute URL, got ${JSON.stringify(raw)}`);
  }
  const protocols = options.protocols ?? ['http:', 'https:'];
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`environment variable ${options.key} must use one of ${protocols.join(' ')} (got ${url.protocol})`);
  }
  return raw;
}

/**
 * How a variable is read, with its default as a value: {@link loadConfig} reads it with this rule and the docs' table
 * prints the same default, so no default is written twice.
 */
export type ConfigRule =
  | { kind: 'int'; default?: number; min: number; max: number }
  | { kind: 'ratio'; default: number }
  | { kind: 'enum'; values: readonly string[]; default: string }
  | { kind: 'string'; default: string };

/** One documented environment variable (docs/configuration.md's table is generated from this list: scripts/config-table.ts). */
export interface ConfigVariable {
  name: string;
  meaning: string;
  /**
   * The default in words, for a variable whose default is not a value of its `rule` (computed, or someone else's);
   * `null` when there is none. Leave it out when the rule holds the default.
   */
  default?: string | null;
  /** How {@link loadConfig} reads it (its default included), for the variables read by value. */
  rule?: ConfigRule;
  required: boolean;
}

/** The default of a variable as the docs print it: its rule's value, else its words; `null` when there is none. */
export function defaultInWords(v: ConfigVariable): string | null {
  if (v.rule?.default !== undefined) return String(v.rule.default);
  return v.default ?? null;
}

/** Every environment variable the project reads, in the order docs/configuration.md lists them. */
const VARIABLES = [
  {
    name: 'ARCHIVE_URL',
    meaning: 'Where archives are written: `oss://<bucket>/<prefix>` in the cloud, `file:///abs/dir` locally.',
    default: 'file://<cwd>/.local-cloud/archive',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_REGION',
    meaning: 'Region of the OOS and ECS APIs called (RegionId).',
    default: 'FC_REGION (set by Function Compute), else cn-hangzhou',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_OOS_ENDPOINT',
    meaning: 'Full URL of the OOS API (http allowed), e.g. the local emulator or a VPC endpoint.',
    default: 'https://oos.<region>.aliyuncs.com',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_ECS_ENDPOINT',
    meaning: 'Full URL of the ECS (Cloud Assistant) API (http allowed).',
    default: 'https://ecs.<region>.aliyuncs.com',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_OSS_ENDPOINT',
    meaning: 'Full URL of the OSS endpoint used for `oss://` archives (http allowed).',
    default: 'the region\'s public OSS endpoint',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_FC_ENDPOINT',
    meaning: 'Full URL of the Function Compute 3.0 API (http allowed).',
    default: 'the region\'s public FC endpoint',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    meaning: 'AccessKey id, used only when the FC context carries no credentials (local runs).',
    default: '@alicloud/credentials default chain',
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    meaning: 'AccessKey secret paired with ALIBABA_CLOUD_ACCESS_KEY_ID. Never logged.',
    default: null,
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_SECURITY_TOKEN',
    meaning: 'STS security token paired with the AccessKey above, when it is temporary. Never logged.',
    default: null,
    required: false,
  },
  {
    name: 'ALIBABA_CLOUD_PROFILE',
    meaning: 'Profile of `~/.alibabacloud/credentials` or `~/.aliyun/config.json` the default credential chain uses (read by `@alicloud/credentials`; `execution-archive --profile` sets it).',
    default: 'default (credentials file), the current profile (config.json)',
    required: false,
  },
  {
    name: 'BROWSER',
    meaning: 'The program `execution-archive report --open` opens the HTML report with (command line only).',
    default: 'xdg-open (Linux), open (macOS), start (Windows)',
    required: false,
  },
  {
    name: 'API_TIMEOUT_MS',
    meaning: 'Connect and read timeout of each OOS/ECS API request, in milliseconds (100–120000).',
    rule: { kind: 'int', default: 10_000, min: 100, max: 120_000 },
    required: false,
  },
  {
    name: 'API_MAX_ATTEMPTS',
    meaning: 'Attempts per API call, including the first (1–20); retries use full-jitter exponential backoff.',
    rule: { kind: 'int', default: 6, min: 1, max: 20 },
    required: false,
  },
  {
    name: 'API_RATE_LIMIT_PER_SECOND',
    meaning:
      'An optional hard ceiling on the requests per second one invocation sends to one API (OOS or ECS) in a region. Below it the send rate adapts to the API: no limit until the API throttles, then slower and growing back (0 or unset: no ceiling).',
    default: 'none',
    rule: { kind: 'int', min: 0, max: 10_000 },
    required: false,
  },
  {
    name: 'API_ACCOUNT_RATE_BUDGET',
    meaning:
      'Requests per second per API and region that all collectors of the account together should stay under. The sweep gives each collect it starts budget ÷ its concurrency as a ceiling, the event consumer budget ÷ API_BUDGET_SHARES (unset: no budget; each collector adapts to throttling alone).',
    default: 'none',
    rule: { kind: 'int', min: 1, max: 100_000 },
    required: false,
  },
  {
    name: 'API_BUDGET_SHARES',
    meaning: 'Into how many equal shares the event consumer splits API_ACCOUNT_RATE_BUDGET, one per collect it starts (how many collections may run at once).',
    rule: { kind: 'int', default: 16, min: 1, max: 1_000 },
    required: false,
  },
  {
    name: 'LOG_LEVEL',
    meaning: 'Lowest level logged: debug, info, warn or error.',
    rule: { kind: 'enum', values: ['debug', 'info', 'warn', 'error'], default: 'info' },
    required: false,
  },
  {
    name: 'ARCHIVE_PART_MAX_RECORDS',
    meaning: 'A part of the archive is closed (at a page boundary) once it holds this many records.',
    rule: { kind: 'int', default: 100_000, min: 1, max: 10_000_000 },
    required: false,
  },
  {
    name: 'ARCHIVE_PART_MAX_MB',
    meaning: 'A part is closed once its uncompressed NDJSON reaches this many MiB (bounds the collector\'s memory).',
    rule: { kind: 'int', default: 32, min: 1, max: 1024 },
    required: false,
  },
  {
    name: 'ECS_PAGE_CONCURRENCY',
    meaning:
      'Pages of a finished Cloud Assistant invocation (without IncludeHistory) read at once through the legacy PageNumber/PageSize paging, which Alibaba calls about to be deprecated and documents no order for; 1 reads one NextToken page after another. Above 1 the walk checks TotalCount and every InstanceId against the invocation\'s instance count and, on any mismatch, discards what it read and starts over with NextToken; the archive is the same bytes either way (1–16).',
    rule: { kind: 'int', default: 1, min: 1, max: 16 },
    required: false,
  },
  {
    name: 'OUTPUT_DELIVERY_ALLOW',
    meaning:
      'Where collect may read the full outputs Cloud Assistant delivered to OSS (RunCommand/InvokeCommand `OssOutputDelivery`) for results the API cut (`Dropped` > 0): `oss://<bucket>[/<prefix>]` entries separated by commas or spaces, each read from the invocation\'s region, or `<region>=oss://<bucket>[/<prefix>]` for a bucket elsewhere. An `OssOutputUri` outside them is never read (a note in the report). Unset: full outputs are not read.',
    default: 'none (off)',
    required: false,
  },
  {
    name: 'OUTPUT_DELIVERY_MAX_KB',
    meaning: 'Most KiB of one delivered output kept in the archive (32–1048576); of a larger one only its end is read and stored, and the bytes before it are counted as omitted.',
    rule: { kind: 'int', default: 8192, min: 32, max: 1_048_576 },
    required: false,
  },
  {
    name: 'OUTPUT_DELIVERY_FAILED',
    meaning: 'Also read the delivered output of every failed result, not only of those the API cut.',
    default: 'false',
    required: false,
  },
  {
    name: 'SUMMARIZE_AFTER_COLLECT',
    meaning: 'What collect does when an archive becomes complete: `inline` (store the summary before answering, aggregated while the walk goes), `async` (invoke the summarize function), `off`.',
    rule: { kind: 'enum', values: ['inline', 'async', 'off'], default: 'inline' },
    required: false,
  },
  {
    name: 'SUMMARIZE_FUNCTION_NAME',
    meaning: 'The summarize function invoked when SUMMARIZE_AFTER_COLLECT=async.',
    rule: { kind: 'string', default: 'execution-archive-summarize' },
    required: false,
  },
  {
    name: 'COLLECT_FUNCTION_NAME',
    meaning: 'The collect function that continuations, events and the sweep invoke asynchronously.',
    default: 'the running function\'s own name (collect), else execution-archive-collect',
    required: false,
  },
  {
    name: 'CLAIM_TTL_SECONDS',
    meaning: 'How long the event consumer\'s per-invocation claim (`_claim.json`) holds before another delivery may take it over.',
    rule: { kind: 'int', default: DEFAULT_CLAIM_TTL_SECONDS, min: 10, max: 86_400 },
    required: false,
  },
  {
    name: 'FC_ACCOUNT_ID',
    meaning: 'Account id for the FC invoke endpoint when the FC context does not carry one (local runs).',
    default: 'context.accountId',
    required: false,
  },
  {
    name: 'NOTIFY_WEBHOOK_URL',
    meaning: 'Webhook that receives the headline and top failure groups (once per archive). Off when unset.',
    default: null,
    required: false,
  },
  {
    name: 'NOTIFY_FORMAT',
    meaning: '`json` (generic POST) or `dingtalk` (DingTalk robot markdown message).',
    rule: { kind: 'enum', values: ['json', 'dingtalk'], default: 'json' },
    required: false,
  },
  {
    name: 'NOTIFY_DINGTALK_SECRET',
    meaning: 'The DingTalk robot\'s signing secret ("加签"), when the robot uses one; never logged.',
    default: null,
    required: false,
  },
  {
    name: 'NOTIFY_MIN_FAILURES',
    meaning: 'Notify only when at least this many records failed.',
    rule: { kind: 'int', default: 1, min: 0, max: Number.MAX_SAFE_INTEGER },
    required: false,
  },
  {
    name: 'NOTIFY_MIN_FAILURE_RATIO',
    meaning: 'Notify only when at least this share (0–1) of the records failed.',
    rule: { kind: 'ratio', default: 0 },
    required: false,
  },
] as const satisfies readonly ConfigVariable[];
export const CONFIG_VARIABLES: readonly ConfigVariable[] = Object.freeze(VARIABLES);

/** The name of a variable of {@link CONFIG_VARIABLES}. */
type VariableName = (typeof VARIABLES)[number]['name'];
/** The rule of one variable, as written in the spec (its default's presence included). */
type RuleOf<N extends VariableName> = Extract<(typeof VARIABLES)[number], { name: N }> extends { rule: infer R } ? R : never;
/** What reading a variable by its rule gives: a value when the rule has a default, else possibly `undefined`. */
type ValueOf<N extends VariableName> =
  RuleOf<N> extends { kind: 'enum'; values: readonly (infer V)[] } ? V
  : RuleOf<N> extends { default: infer D } ? (D extends number ? number : string)
  : number | undefined;

/**
 * Reads a variable with the rule (and the default) the spec gives it.
 * @throws ConfigError naming the variable when its value breaks the rule.
 * @example readVariable(process.env, 'API_TIMEOUT_MS') // 10000 when unset
 */
export function readVariable<N extends VariableName>(env: NodeJS.ProcessEnv, name: N): ValueOf<N> {
  const rule = (VARIABLES.find((v) => v.name === name) as ConfigVariable | undefined)?.rule;
  if (rule === undefined) throw new Error(`${name} has no rule in CONFIG_VARIABLES`);
  const key = name as string;
  switch (rule.kind) {
    case 'int':
      return readInt({ env, key, min: rule.min, max: rule.max, ...(rule.default === undefined ? {} : { defaultValue: rule.default }) }) as ValueOf<N>;
    case 'ratio':
      return readRatio({ env, key, defaultValue: rule.default }) as ValueOf<N>;
    case 'enum':
      return readEnum({ env, key, values: rule.values, defaultValue: rule.default }) as ValueOf<N>;
    case 'string':
      return readString({ env, key, defaultValue: rule.default }) as ValueOf<N>;
  }
}

/**
 * Runtime settings s.yaml gives the collect function: environment variables that Node.js and glibc read as the
 * function's process starts, not the code (so not in {@link CONFIG_VARIABLES}). bench/collect.ts starts the
 * processes it measures with them, as FC starts the function. `default` is what applies without them.
 */
export const RUNTIME_VARIABLES: readonly ConfigVariable[] = Object.freeze([
  {
    name: 'NODE_OPTIONS',
    meaning:
      'Node.js options; s.yaml sets `--max-semi-space-size=4` for collect: V8\'s young generation stops growing at 4 MiB per semi-space instead of what V8 picks for the memory the process sees (16 MiB on a machine of 4 GB or more). V8 grows it by the bytes that survive its scavenges, so it reaches 16 MiB only in long walks, which then hold ~24 MiB more heap than short ones; capped, its scavenges are smaller and more frequent (the bench\'s CPU rows run with it). collect logs what reached its process at cold start (`cold start: runtime limits`: V8\'s heap limit, which the semi-space cap lowers, and the settings as received).',
    default: 'none: V8 sizes the young generation from the memory the process sees (its semi-spaces up to that ÷ 256, between 1 and 16 MiB: 4 MiB in a 1024 MB instance that shows its memory to the process, 16 MiB from 4 GB on); collect\'s cold-start line logs that memory (`memorySeenMb`)',
    required: false,
  },
  {
    name: 'MALLOC_ARENA_MAX',
    meaning:
      'glibc\'s number of malloc arenas; s.yaml sets `2` for collect. glibc gives threads arenas of their own (up to 8 per core), V8\'s and libuv\'s threads allocate too (GC, compilation, zlib, file I/O), and each arena keeps its own free memory; with 2, freed memory is reused instead: ~8 MB less peak RSS in a 1M-record walk, ~2 MB in a short one (measured).',
    default: 'glibc: 8 per CPU core',
    required: false,
  },
] satisfies ConfigVariable[]);

/** Where and when to send failure notifications (lib/summary/notify.ts). */
export interface NotifyConfig {
  /** NOTIFY_WEBHOOK_URL (http or https). */
  webhookUrl: string;
  /** NOTIFY_FORMAT. @default 'json' */
  format: 'json' | 'dingtalk';
  /** NOTIFY_MIN_FAILURES: notify when at least this many records failed. @default 1 */
  minFailures: number;
  /** NOTIFY_MIN_FAILURE_RATIO (0–1): ... and at least this share of the records failed. @default 0 */
  minFailureRatio: number;
  /** NOTIFY_DINGTALK_SECRET: the DingTalk robot's signing secret ("加签"), if the robot uses one. */
  dingtalkSecret?: string | undefined;
  /** @default 5000 */
  timeoutMs?: number;
}

/** Reading Cloud Assistant's OSS output delivery (lib/collect/outputs.ts). */
export interface OutputDeliveryConfig {
  /** OUTPUT_DELIVERY_ALLOW, parsed: the only buckets, prefixes and regions read from. */
  allow: readonly DeliveryAllowEntry[];
  /** OUTPUT_DELIVERY_MAX_KB, in bytes. */
  maxBytes: number;
  /** OUTPUT_DELIVERY_FAILED. */
  failedResults: boolean;
}

/** What collect does once an archive is complete (SUMMARIZE_AFTER_COLLECT). */
export type SummarizeAfterCollect = 'inline' | 'async' | 'off';

/** The validated configuration: every variable of {@link CONFIG_VARIABLES}, parsed. */
export interface AppConfig {
  /** ARCHIVE_URL. */
  readonly archiveUrl: string;
  /** ALIBABA_CLOUD_REGION, else FC_REGION, else `cn-hangzhou`. */
  readonly regionId: string;
  /**
   * ALIBABA_CLOUD_OOS_ENDPOINT / ALIBABA_CLOUD_ECS_ENDPOINT, normalised; `undefined` = the documented public
   * endpoint of the region a client is made for (the region comes with each request, not from here).
   */
  readonly rpcEndpoints: Readonly<Record<Service, string | undefined>>;
  /** ALIBABA_CLOUD_OSS_ENDPOINT, normalised; `undefined` = the SDK's regional default. */
  readonly ossEndpoint: string | undefined;
  /** ALIBABA_CLOUD_FC_ENDPOINT, normalised; `undefined` = the SDK's regional default. */
  readonly fcEndpoint: string | undefined;
  /** ALIBABA_CLOUD_ACCESS_KEY_ID + _SECRET (+ SECURITY_TOKEN); `undefined` unless both id and secret are set. */
  readonly accessKey: EnvAccessKey | undefined;
  /** ALIBABA_CLOUD_PROFILE: the default chain's profile; `undefined` = the chain's own choice. */
  readonly credentialsProfile: string | undefined;
  /** BROWSER: what `execution-archive report --open` runs; `undefined` = the platform's opener. */
  readonly browser: string | undefined;
  /** API_TIMEOUT_MS. */
  readonly apiTimeoutMs: number;
  /** API_MAX_ATTEMPTS. */
  readonly apiMaxAttempts: number;
  /** API_RATE_LIMIT_PER_SECOND; `undefined` = no ceiling (0 means the same). */
  readonly apiRateLimit: number | undefined;
  /** API_ACCOUNT_RATE_BUDGET; `undefined` = no account budget. */
  readonly apiAccountBudget: number | undefined;
  /** API_BUDGET_SHARES. */
  readonly apiBudgetShares: number;
  /** LOG_LEVEL. */
  readonly logLevel: LogLevel;
  /** ARCHIVE_PART_MAX_RECORDS. */
  readonly partMaxRecords: number;
  /** ARCHIVE_PART_MAX_MB, in bytes. */
  readonly partMaxBytes: number;
  /** ECS_PAGE_CONCURRENCY: legacy PageNumber pages read at once for a finished invocation (1 = NextToken, one page after another). */
  readonly ecsPageConcurrency: number;
  /** OUTPUT_DELIVERY_*; `undefined` when OUTPUT_DELIVERY_ALLOW is unset (full outputs are not read). */
  readonly outputDelivery: Readonly<OutputDeliveryConfig> | undefined;
  /** SUMMARIZE_AFTER_COLLECT. */
  readonly summarizeAfterCollect: SummarizeAfterCollect;
  /** SUMMARIZE_FUNCTION_NAME. */
  readonly summarizeFunctionName: string;
  /** COLLECT_FUNCTION_NAME; `undefined` = the running collect's own name, else the default (lib/fanout.ts). */
  readonly collectFunctionName: string | undefined;
  /** CLAIM_TTL_SECONDS. */
  readonly claimTtlSeconds: number;
  /** FC_ACCOUNT_ID; the FC context's accountId wins over it. */
  readonly fcAccountId: string | undefined;
  /** NOTIFY_*; `undefined` when NOTIFY_WEBHOOK_URL is unset (notifications off). */
  readonly notify: Readonly<NotifyConfig> | undefined;
}

/**
 * Reads one of a fixed set of words, case-insensitive; returns it lower-cased.
 * @throws ConfigError naming the variable and the accepted words.
 * @example readEnum({ key: 'NOTIFY_FORMAT', values: ['json', 'dingtalk'], defaultValue: 'json' })
 */
export function readEnum<T extends string>(options: ReadOptions<T> & { values: readonly T[]; defaultValue: T }): T {
  const raw = rawValue(options);
  if (raw === undefined) return options.defaultValue;
  const lower = raw.toLowerCase();
  if (!(options.values as readonly string[]).includes(lower)) {
    throw new ConfigError(`environment variable ${options.key} must be one of ${options.values.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return lower as T;
}

/**
 * Reads a decimal fraction from 0 to 1 (`0.05`, `.5`, `1`).
 * @throws ConfigError naming the variable for anything else.
 * @example readRatio({ key: 'NOTIFY_MIN_FAILURE_RATIO', defaultValue: 0 })
 */
export function readRatio(options: ReadOptions<number> & { defaultValue: number }): number {
  const raw = rawValue(options);
  if (raw === undefined) return options.defaultValue;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`environment variable ${options.key} must be a number from 0 to 1, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function optionalEndpoint(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const raw = readString({ env, key });
  return raw === undefined ? undefined : normalizeEndpoint(raw, key);
}

/** The AccessKey of the environment; a half-set pair (id without secret) counts as none. Blank token = none. */
function readAccessKey(env: NodeJS.ProcessEnv): EnvAccessKey | undefined {
  const accessKeyId = readString({ env, key: 'ALIBABA_CLOUD_ACCESS_KEY_ID' });
  const accessKeySecret = readString({ env, key: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET' });
  const securityToken = readString({ env, key: 'ALIBABA_CLOUD_SECURITY_TOKEN' });
  if (accessKeyId === undefined || accessKeySecret === undefined) return undefined;
  return securityToken === undefined ? { accessKeyId, accessKeySecret } : { accessKeyId, accessKeySecret, securityToken };
}

/**
 * The notification settings; `undefined` when NOTIFY_WEBHOOK_URL is unset.
 * @throws ConfigError naming the variable when a value is malformed.
 */
function readNotify(env: NodeJS.ProcessEnv): NotifyConfig | undefined {
  const webhookUrl = readUrl({ env, key: 'NOTIFY_WEBHOOK_URL' });
  if (webhookUrl === undefined) return undefined;
  return {
    webhookUrl,
    format: readVariable(env, 'NOTIFY_FORMAT'),
    minFailures: readVariable(env, 'NOTIFY_MIN_FAILURES'),
    minFailureRatio: readVariable(env, 'NOTIFY_MIN_FAILURE_RATIO'),
    dingtalkSecret: readString({ env, key: 'NOTIFY_DINGTALK_SECRET' }),
  };
}

/** The output delivery settings; `undefined` when OUTPUT_DELIVERY_ALLOW is unset (or lists nothing). */
function readOutputDelivery(env: NodeJS.ProcessEnv): Readonly<OutputDeliveryConfig> | undefined {
  const raw = readString({ env, key: 'OUTPUT_DELIVERY_ALLOW' });
  const allow = raw === undefined ? [] : parseDeliveryAllowList(raw);
  const maxBytes = readVariable(env, 'OUTPUT_DELIVERY_MAX_KB') * 1024;
  const failedResults = readBool({ env, key: 'OUTPUT_DELIVERY_FAILED', defaultValue: false });
  if (allow.length === 0) return undefined;
  return Object.freeze({ allow: Object.freeze(allow.map((e) => Object.freeze(e))), maxBytes, failedResults });
}

/**
 * Reads and validates every variable of {@link CONFIG_VARIABLES} into a frozen object. Handlers get it through
 * `createRuntime` (lib/runtime.ts), which reads `process.env` once per cold start; nothing else reads the environment.
 *
 * @param env the environment to read. @default process.env
 * @throws ConfigError naming the first malformed variable.
 * @example const config = loadConfig(); createRpcClient({ service: 'oos', regionId: config.regionId, ... })
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const regionId = readString({ env, key: 'ALIBABA_CLOUD_REGION', defaultValue: readString({ env, key: 'FC_REGION', defaultValue: 'cn-hangzhou' }) });
  if (!REGION_ID.test(regionId)) {
    throw new ConfigError(`environment variable ALIBABA_CLOUD_REGION (or FC_REGION) is not a region id: ${JSON.stringify(regionId)}`);
  }
  const notify = readNotify(env);
  return Object.freeze({
    archiveUrl: readUrl({
      env,
      key: 'ARCHIVE_URL',
      protocols: ['oss:', 'file:'],
      defaultValue: pathToFileURL(join(process.cwd(), '.local-cloud', 'archive')).href,
    }),
    regionId,
    rpcEndpoints: Object.freeze({
      oos: optionalEndpoint(env, 'ALIBABA_CLOUD_OOS_ENDPOINT'),
      ecs: optionalEndpoint(env, 'ALIBABA_CLOUD_ECS_ENDPOINT'),
    }),
    ossEndpoint: optionalEndpoint(env, 'ALIBABA_CLOUD_OSS_ENDPOINT'),
    fcEndpoint: optionalEndpoint(env, 'ALIBABA_CLOUD_FC_ENDPOINT'),
    accessKey: readAccessKey(env),
    credentialsProfile: readString({ env, key: 'ALIBABA_CLOUD_PROFILE' }),
    browser: readString({ env, key: 'BROWSER' }),
    apiTimeoutMs: readVariable(env, 'API_TIMEOUT_MS'),
    apiMaxAttempts: readVariable(env, 'API_MAX_ATTEMPTS'),
    apiRateLimit: readVariable(env, 'API_RATE_LIMIT_PER_SECOND') || undefined,
    apiAccountBudget: readVariable(env, 'API_ACCOUNT_RATE_BUDGET'),
    apiBudgetShares: readVariable(env, 'API_BUDGET_SHARES'),
    logLevel: readVariable(env, 'LOG_LEVEL'),
    partMaxRecords: readVariable(env, 'ARCHIVE_PART_MAX_RECORDS'),
    partMaxBytes: readVariable(env, 'ARCHIVE_PART_MAX_MB') * 1024 * 1024,
    ecsPageConcurrency: readVariable(env, 'ECS_PAGE_CONCURRENCY'),
    outputDelivery: readOutputDelivery(env),
    summarizeAfterCollect: readVariable(env, 'SUMMARIZE_AFTER_COLLECT'),
    summarizeFunctionName: readVariable(env, 'SUMMARIZE_FUNCTION_NAME'),
    collectFunctionName: readString({ env, key: 'COLLECT_FUNCTION_NAME' }),
    claimTtlSeconds: readVariable(env, 'CLAIM_TTL_SECONDS'),
    fcAccountId: readString({ env, key: 'FC_ACCOUNT_ID' }),
    notify: notify === undefined ? undefined : Object.freeze(notify),
  });
}
