/**
 * The vocabulary of the real-output benchmark's generator (`make.ts`): what a true cause is, what one instance of it
 * needs on disk and runs, and the varied names (hosts, apps, packages, keys, paths) instances draw from.
 *
 * A cause is labelled by "same fix = same cause": every instance of it is fixed by the same change (create that
 * config file, install that binary, raise that timeout, ...), whatever its parameters and whatever script ran it.
 */
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';

/** What the generator gives a cause to make one instance with. */
export interface RunEnv {
  rng: Rng;
  /** The fixed folder every run happens in (emptied before each run); absolute, without a trailing slash. */
  root: string;
  /** This instance's host name (also in the prefixed shape's lines). */
  host: string;
  /** Loopback HTTP servers the generator runs: `http://<addr>:<port>`; `/status/<code>/…` answers that code, `/hang/…` never answers. */
  http: readonly { addr: string; port: number }[];
  /** Loopback ports nothing listens on (connection refused). */
  closedPorts: readonly number[];
  /** Index of this instance within its cause (0-based). */
  index: number;
}

/** One instance of a cause: what is put on disk, the failing script part, the step it belongs to. */
export interface Instance {
  /** Files to create before the run: path relative to the run root → content (string or bytes), optional mode. */
  files?: Record<string, string | Buffer | { content: string | Buffer; mode: number }>;
  /** Bash run before the script (in the run root), its output discarded: repositories, databases. Must succeed. */
  setup?: string;
  /** The script part that fails (bash). Its last command fails; nothing after it runs. */
  command: string;
  /** Name of the step, printed by the progress and trap shapes. */
  step: string;
  /** Seconds after which the run is stopped the way Cloud Assistant stops a command past its `Timeout`. */
  killAfterSeconds?: number;
  /** The run must not be repeated (the retry variant of the progress shape would change what it prints). */
  once?: boolean;
}

/** A true cause: its label, the program that prints it, the fix, and how to make instances. */
export interface CauseSpec {
  /** Label, unique across both sets. */
  id: string;
  /** The program or runtime that prints the error (`python3`, `node`, `bash`, `curl`, ...). */
  program: string;
  /** The fix, in words: what makes every instance of this cause one cause. */
  fix: string;
  /** Every instance's combined output must match this (a check that the run failed the intended way). */
  expect: RegExp;
  /** The exit code every instance must end with (`-1`: stopped by the Cloud Assistant timeout). */
  exitCode: number;
  make(env: RunEnv): Instance;
}

/** The script shapes a command runs in (`shapes.ts` writes them). */
export const SHAPES = ['bare', 'progress', 'prefixed', 'trap'] as const;
export type Shape = (typeof SHAPES)[number];
/** Shapes only the second development set (`dev2.ts`) has: `set -x` tracing; steps run in turn with a summary table at the end. */
export const MORE_SHAPES = ['xtrace', 'summary'] as const;
/**
 * The blind hold-outs' own shapes, named without saying what they are: the second hold-out (`holdout2.ts`) has k1–k5,
 * the third (`holdout3.ts`) k1–k7 (each set's own wrapper styles: a label means nothing across sets).
 */
export const BLIND_SHAPES = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'] as const;
export type AnyShape = Shape | (typeof MORE_SHAPES)[number] | (typeof BLIND_SHAPES)[number];

/** Cloud Assistant keeps at most 24 KB of a command's output; the rest is counted in `Dropped`. */
export const OUTPUT_LIMIT_BYTES = 24 * 1024;

/** One labelled result, as the fixture holds it. */
export interface RealOutput {
  id: string;
  /** The true cause (label): same fix = same cause. */
  cause: string;
  program: string;
  shape: AnyShape;
  /** `Failed`, or `Timeout` when the run was stopped at its timeout. */
  status: 'Failed' | 'Timeout';
  errorCode: 'ExitCodeNonzero' | 'ExecutionTimeout';
  exitCode: number;
  /** Combined stdout and stderr, at most 24 KB (UTF-8). */
  output: string;
  /** Bytes cut off the output. */
  dropped: number;
  host: string;
}

/** The first 24 KB of an output (cut back to a whole UTF-8 character) and how many bytes were cut off. */
export function cutOutput(bytes: Buffer): { output: string; dropped: number } {
  if (bytes.length <= OUTPUT_LIMIT_BYTES) return { output: bytes.toString('utf8'), dropped: 0 };
  let end = OUTPUT_LIMIT_BYTES;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { output: bytes.toString('utf8', 0, end), dropped: bytes.length - end };
}

// ---- Vocabulary: names of the kind real fleets carry, with and without digits. ----

export const APPS = [
  'billing', 'gateway', 'orders', 'search', 'inventory', 'checkout', 'auth', 'notifier', 'reports', 'ledger',
  'catalog', 'payments', 'mailer', 'scheduler', 'crm', 'geo', 'pricing', 'media', 'warehouse', 'ingest',
] as const;
export const CONFIG_NAMES = ['agent.toml', 'db.toml', 'settings.ini', 'app.yaml', 'logging.conf', 'config.json', 'env', 'secrets.env', 'upstream.conf', 'limits.yaml'] as const;
export const HOST_KINDS = ['web', 'api', 'worker', 'db', 'cache', 'batch', 'edge', 'ingest', 'job', 'app'] as const;
export const REGIONS = ['hz', 'sh', 'bj', 'sz', 'sg', 'fra', 'us-west'] as const;
export const PACKAGES = [
  'nginx', 'openssl', 'libgpg-error0', 'python3-requests', 'node-exporter', 'redis-tools', 'libpq5', 'curl', 'ca-certificates',
  'libssl3', 'tzdata', 'jq', 'git', 'htop', 'zlib1g', 'libc6', 'systemd-timesyncd', 'logrotate', 'rsyslog', 'chrony',
] as const;
export const MISSING_PACKAGES = [
  'nginx-extras-plus', 'python-boto', 'libssl1.0.0', 'node-exporter-bin', 'aliyun-cli', 'ossutil', 'redis-sentinel-tools',
  'openjdk-8-jre-headless', 'mysql-client-5.7', 'php7.4-fpm', 'libmysqlclient20', 'python2-minimal', 'docker-ce-cli-legacy',
  'td-agent-bit', 'filebeat-oss', 'consul-template', 'cloudmonitor-agent', 'logtail', 'ilogtail-agent', 'libffi7',
] as const;
export const KEYS = [
  'database_url', 'redis_host', 'region', 'bucket', 'queue_name', 'replicas', 'timeout_seconds', 'endpoint', 'log_level',
  'shard_count', 'max_connections', 'tenant', 'feature_flags', 'smtp_host', 'cache_ttl', 'upstream', 'zone_id', 'pool_size',
] as const;
export const SERVICES = ['orders-api', 'payments', 'auth-service', 'inventory-sync', 'search-indexer', 'mailer', 'ledger-db', 'gateway'] as const;
export const WORDS = ['alpha', 'blue', 'canary', 'delta', 'east', 'green', 'main', 'nightly', 'prod', 'west', 'stage', 'hotfix'] as const;

/** A host name: `web-17`, `ip-10-0-3-25`, `worker-sg-a3`, `db-primary`. */
export function hostName(rng: Rng): string {
  switch (rng.int(4)) {
    case 0:
      return `${rng.pick(HOST_KINDS)}-${rng.range(1, 64)}`;
    case 1:
      return `ip-10-${rng.int(8)}-${rng.int(32)}-${rng.range(2, 254)}`;
    case 2:
      return `${rng.pick(HOST_KINDS)}-${rng.pick(REGIONS)}-${rng.alnum(2)}`;
    default:
      return `${rng.pick(HOST_KINDS)}-${rng.pick(['primary', 'replica', 'blue', 'green', 'canary'])}`;
  }
}

/** A version: `2.4.17`, `1.0.0-rc.3`, `24.04`. */
export function version(rng: Rng): string {
  switch (rng.int(3)) {
    case 0:
      return `${rng.range(0, 4)}.${rng.range(0, 30)}.${rng.range(0, 40)}`;
    case 1:
      return `${rng.range(1, 3)}.${rng.range(0, 9)}.${rng.range(0, 9)}-rc.${rng.range(1, 5)}`;
    default:
      return `${rng.range(20, 26)}.${rng.pick(['04', '10', '1', '2'])}`;
  }
}

/** A lower-case identifier made of two words, with or without a digit: `blue_cache`, `shard3`. */
export function ident(rng: Rng, sep = '_'): string {
  const a = rng.pick(WORDS);
  return rng.int(3) === 0 ? `${a}${rng.range(1, 9)}` : `${a}${sep}${rng.pick(['cache', 'queue', 'pool', 'store', 'index', 'job', 'sync', 'feed'])}`;
}

/** A path of an app's file that does not exist on any machine: `/etc/billing/agent.toml`, `/opt/orders2/conf/db.toml`. */
export function missingConfigPath(rng: Rng): string {
  const app = rng.pick(APPS);
  const name = rng.pick(CONFIG_NAMES);
  switch (rng.int(3)) {
    case 0:
      return `/etc/${app}/${name}`;
    case 1:
      return `/opt/${app}${rng.int(2) === 0 ? rng.range(2, 9) : ''}/conf/${name}`;
    default:
      return `/etc/${app}/${rng.pick(['conf.d', 'env.d', 'sites'])}/${rng.pick(WORDS)}.${name.split('.').pop() ?? 'conf'}`;
  }
}

/** Python-quoted string literal of `s` (no quotes or backslashes in what we pass). */
export const pyStr = (s: string): string => `'${s}'`;

/** A one-line shell word quoted for bash. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
