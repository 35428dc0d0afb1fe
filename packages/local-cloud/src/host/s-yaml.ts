/**
 * Reads the project's `s.yaml` (Serverless Devs 3, component `fc3`) into what the local host needs: each function's
 * name, code folder, handler, memory, timeout, environment and triggers. `${vars.x}` and `${env('X', 'default')}`
 * are rendered like `s preview` does; anything else in `${…}` is an error (the host must not guess).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/** An HTTP trigger (`triggerType: http`). */
export interface HttpTriggerSpec {
  type: 'http';
  name: string;
  authType: string;
  /** Upper-case methods. */
  methods: string[];
}

/** A timer trigger (`triggerType: timer`). */
export interface TimerTriggerSpec {
  type: 'timer';
  name: string;
  cronExpression: string;
  enable: boolean;
  /** The configured payload string (often JSON text), passed as is. */
  payload: string | undefined;
}

/** An EventBridge trigger (`triggerType: eventbridge`). */
export interface EventBridgeTriggerSpec {
  type: 'eventbridge';
  name: string;
  enable: boolean;
  /** Parsed `eventRuleFilterPattern`. */
  pattern: Record<string, unknown>;
  eventSchema: 'CloudEvents' | 'RawData';
  /** `runOptions.retryStrategy.MaximumRetryAttempts` (default 3). */
  maxRetryAttempts: number;
  /** `runOptions.retryStrategy.PushRetryStrategy` (default BACKOFF_RETRY). */
  retryStrategy: string;
}

export type TriggerSpec = HttpTriggerSpec | TimerTriggerSpec | EventBridgeTriggerSpec;

/** One function of s.yaml, rendered. */
export interface FunctionSpec {
  /** The key under `resources`. */
  resource: string;
  /** `props.functionName`. */
  name: string;
  runtime: string;
  /** Absolute path of `props.code`. */
  codeDir: string;
  /** `props.code` as written (e.g. `./dist/collect`). */
  code: string;
  /** `props.handler`, e.g. `index.handler`. */
  handler: string;
  /** MB. */
  memorySize: number;
  /** Seconds. */
  timeout: number;
  region: string;
  role: string | undefined;
  environment: Record<string, string>;
  asyncInvokeConfig: { maxAsyncRetryAttempts?: number; maxAsyncEventAgeInSeconds?: number; asyncTask?: boolean } | undefined;
  triggers: TriggerSpec[];
}

/** The whole file, rendered. */
export interface ProjectSpec {
  name: string;
  vars: Record<string, unknown>;
  functions: FunctionSpec[];
}

/** Options of {@link loadProject}. */
export interface LoadProjectOptions {
  /** Overrides of `vars` (e.g. the local bucket). */
  vars?: Record<string, string>;
  /** The environment `${env('X')}` reads. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const EXPR = /\$\{([^}]*)\}/g;

function renderString(text: string, vars: Record<string, unknown>, env: NodeJS.ProcessEnv, where: string): unknown {
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  const evaluate = (expr: string): unknown => {
    const e = expr.trim();
    const v = /^vars\.([A-Za-z_][\w-]*)$/.exec(e);
    if (v?.[1] !== undefined) {
      if (!(v[1] in vars)) throw new Error(`${where}: \${${e}} not found in vars`);
      return vars[v[1]];
    }
    const f = /^env\(\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)$/.exec(e) ?? /^env\.([A-Za-z_]\w*)()$/.exec(e);
    if (f?.[1] !== undefined) {
      const value = env[f[1]] ?? (f[2] === '' ? undefined : f[2]);
      if (value === undefined) throw new Error(`${where}: environment variable ${f[1]} is not set`);
      return value;
    }
    throw new Error(`${where}: the local host cannot render \${${e}}`);
  };
  if (whole?.[1] !== undefined) return evaluate(whole[1]);
  return text.replace(EXPR, (_, expr: string) => String(evaluate(expr)));
}

function render(value: unknown, vars: Record<string, unknown>, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof value === 'string') return renderString(value, vars, env, where);
  if (Array.isArray(value)) return value.map((v, i) => render(v, vars, env, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, vars, env, `${where}.${k}`)]));
  }
  return value;
}

function obj(value: unknown, where: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where} must be a mapping`);
  return value as Record<string, unknown>;
}

function str(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${where} must be a non-empty string`);
  return value;
}

function num(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${where} must be a number`);
  return n;
}

function trigger(raw: unknown, where: string): TriggerSpec {
  const t = obj(raw, where);
  const name = str(t.triggerName, `${where}.triggerName`);
  const config = obj(t.triggerConfig ?? {}, `${where}.triggerConfig`);
  switch (t.triggerType) {
    case 'http':
      return {
        type: 'http',
        name,
        authType: String(config.authType ?? 'anonymous'),
        methods: (Array.isArray(config.methods) ? config.methods : ['GET']).map((m) => String(m).toUpperCase()),
      };
    case 'timer':
      return {
        type: 'timer',
        name,
        cronExpression: str(config.cronExpression, `${where}.triggerConfig.cronExpression`),
        enable: config.enable !== false,
        payload: config.payload === undefined ? undefined : String(config.payload),
      };
    case 'eventbridge': {
      const patternText = str(config.eventRuleFilterPattern, `${where}.triggerConfig.eventRuleFilterPattern`);
      let pattern: unknown;
      try {
        pattern = JSON.parse(patternText);
      } catch (err) {
        throw new Error(`${where}.triggerConfig.eventRuleFilterPattern is not JSON: ${(err as Error).message}`);
      }
      const sink = obj(obj(config.eventSinkConfig ?? {}, 'eventSinkConfig').deliveryOption ?? {}, 'deliveryOption');
      const retry = obj(obj(config.runOptions ?? {}, 'runOptions').retryStrategy ?? {}, 'retryStrategy');
      return {
        type: 'eventbridge',
        name,
        enable: config.triggerEnable !== false,
        pattern: obj(pattern, `${where}.triggerConfig.eventRuleFilterPattern`),
        eventSchema: sink.eventSchema === 'RawData' ? 'RawData' : 'CloudEvents',
        maxRetryAttempts: num(retry.MaximumRetryAttempts, 'MaximumRetryAttempts', 3),
        retryStrategy: String(retry.PushRetryStrategy ?? 'BACKOFF_RETRY'),
      };
    }
    default:
      throw new Error(`${where}.triggerType ${JSON.stringify(t.triggerType)} is not supported by the local host`);
  }
}

/**
 * Parses and renders an s.yaml. Only `component: fc3` resources are functions; others are ignored.
 *
 * @throws Error naming the field when the file is malformed or uses a variable it cannot render.
 * @example const project = loadProject('s.yaml', { vars: { bucket: 'execution-archive' } });
 */
export function loadProject(sYamlPath: string, options: LoadProjectOptions = {}): ProjectSpec {
  const doc = obj(parse(readFileSync(sYamlPath, 'utf8')), sYamlPath);
  const env = options.env ?? process.env;
  const vars: Record<string, unknown> = { ...obj(doc.vars ?? {}, 'vars'), ...(options.vars ?? {}) };
  const root = dirname(resolve(sYamlPath));
  const functions: FunctionSpec[] = [];
  for (const [resource, raw] of Object.entries(obj(doc.resources, 'resources'))) {
    const r = obj(raw, `resources.${resource}`);
    if (r.component !== 'fc3') continue;
    const where = `resources.${resource}.props`;
    const p = obj(render(r.props, vars, env, where), where);
    const code = str(p.code, `${where}.code`);
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(p.environmentVariables ?? {}, `${where}.environmentVariables`))) environment[k] = String(v);
    functions.push({
      resource,
      name: str(p.functionName, `${where}.functionName`),
      runtime: str(p.runtime, `${where}.runtime`),
      code,
      codeDir: resolve(root, code),
      handler: str(p.handler ?? 'index.handler', `${where}.handler`),
      memorySize: num(p.memorySize, `${where}.memorySize`, 128),
      timeout: num(p.timeout, `${where}.timeout`, 3),
      region: str(p.region, `${where}.region`),
      role: typeof p.role === 'string' ? p.role : undefined,
      environment,
      asyncInvokeConfig: p.asyncInvokeConfig as FunctionSpec['asyncInvokeConfig'],
      triggers: (Array.isArray(p.triggers) ? p.triggers : []).map((t, i) => trigger(t, `${where}.triggers[${i}]`)),
    });
  }
  return { name: String(doc.name ?? ''), vars, functions };
}
