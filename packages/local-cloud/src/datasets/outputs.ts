/**
 * What commands print: realistic success outputs, a few failure causes per dataset, unicode, CRLF, empty outputs and
 * outputs truncated at Cloud Assistant's 24 KB limit. Everything is a pure function of an {@link Rng}.
 */
import { Rng } from './prng';

/**
 * Cloud Assistant keeps at most 24 KB of output; the rest is counted in `Dropped` (protocols §4.3). Which part is
 * kept the docs do not say (the SDK models: "The size of the Output text that was truncated and discarded because the
 * Output value exceeded 24 KB"); the local cloud keeps the start and drops the end, the stricter case for a reader,
 * since errors are usually at the end (a collector that reads the full output from OSS handles either).
 */
export const OUTPUT_LIMIT_BYTES = 24 * 1024;

/**
 * `long`: long outputs (package updates, builds) whose error is only in their last lines: every failed run and a
 * fifth of the successful ones print 30–200 KB, so the API's 24 KB keeps their start only; the complete text is what
 * OSS output delivery writes.
 */
export type OutputMode = 'realistic' | 'large' | 'unicode' | 'long';

/** Per-instance status values of DescribeInvocationResults (protocols §4.3). */
export type InstanceStatus =
  | 'Pending'
  | 'Invalid'
  | 'Aborted'
  | 'Running'
  | 'Success'
  | 'Failed'
  | 'Error'
  | 'Timeout'
  | 'Cancelled'
  | 'Stopping'
  | 'Terminated'
  | 'Scheduled';

export interface OutputContext {
  instanceId: string;
}

export interface Rendered {
  output: string;
  exitCode: number;
  /** One line saying why it failed, for OOS `StatusMessage`. */
  reason: string;
}

/** A realistic way for a command to fail on one instance. */
export interface FailureCause {
  id: string;
  status: Extract<InstanceStatus, 'Failed' | 'Timeout' | 'Aborted' | 'Invalid' | 'Error'>;
  errorCode: string;
  errorInfo: string;
  /** False when the command never started on the instance (no StartTime, no output). */
  ran: boolean;
  render(rng: Rng, ctx: OutputContext): Rendered;
}

const ip10 = (rng: Rng) => `10.${rng.int(8)}.${rng.int(32)}.${rng.range(2, 254)}`;
const EXIT_NONZERO_INFO = 'The command execution exit code is not zero.';

/** A cause whose script ran and exited non-zero (Cloud Assistant's ExitCodeNonzero), its output drawn by `render`. */
function exitNonzero(id: string, render: FailureCause['render']): FailureCause {
  return { id, status: 'Failed', errorCode: 'ExitCodeNonzero', errorInfo: EXIT_NONZERO_INFO, ran: true, render };
}

/** A cause under which the script never ran: no output, exit code 0, the reason is the error code and its text. */
function notRun(id: string, status: FailureCause['status'], errorCode: string, errorInfo: string): FailureCause {
  return { id, status, errorCode, errorInfo, ran: false, render: () => ({ output: '', exitCode: 0, reason: `${errorCode}: ${errorInfo}` }) };
}

/** The catalogue; a dataset draws two to four of these, with the first one dominant. */
export const FAILURE_CAUSES: readonly FailureCause[] = [
  exitNonzero('yum-baseurl', (rng) => {
    const ip = `100.100.${rng.int(4)}.${rng.range(2, 254)}`;
    const output =
      'Loaded plugins: fastestmirror\n' +
      'Determining fastest mirrors\n' +
      `Could not retrieve mirrorlist http://mirrors.cloud.aliyuncs.com/?release=7&arch=x86_64&repo=os error was\n` +
      `14: curl#7 - "Failed connect to ${ip}:80; Connection refused"\n\n\n` +
      ' One of the configured repositories failed (Unknown),\n' +
      " and yum doesn't have enough cached data to continue. At this point the only\n" +
      ' safe thing yum can do is fail.\n\n' +
      'Cannot find a valid baseurl for repo: base/7/x86_64\n';
    return { output, exitCode: 1, reason: 'yum: Cannot find a valid baseurl for repo: base/7/x86_64' };
  }),
  exitNonzero('disk-full', (rng) => {
    const pct = rng.range(96, 100);
    const output =
      `cp: error writing '/var/lib/app/cache/blob-${rng.hex(8)}': No space left on device\n` +
      `error: disk full on /dev/vda1 (${pct}%)\n`;
    return { output, exitCode: 1, reason: `disk full on /dev/vda1 (${pct}%)` };
  }),
  exitNonzero('connection-refused', (rng) => {
    const ip = ip10(rng);
    const port = rng.pick([8080, 3306, 6379, 9200]);
    const output =
      `curl: (7) Failed to connect to ${ip} port ${port}: Connection refused\n` +
      `health check failed after 3 attempts\n`;
    return { output, exitCode: 7, reason: `Connection refused to ${ip}:${port}` };
  }),
  {
    id: 'execution-timeout',
    status: 'Timeout',
    errorCode: 'ExecutionTimeout',
    errorInfo: 'The command execution has been timeout.',
    ran: true,
    render(rng) {
      const pct = rng.range(3, 97);
      const output = `Downloading artifact app-2.4.${rng.int(9)}.tar.gz from oss://deploy-artifacts/releases/\n ${pct}% [${'='.repeat(Math.floor(pct / 5))}>${' '.repeat(20 - Math.floor(pct / 5))}]\n`;
      return { output, exitCode: -1, reason: 'The command execution has been timeout.' };
    },
  },
  notRun('client-not-running', 'Aborted', 'ClientNotRunning', 'The aliyun service is not running on the instance.'),
  notRun('instance-not-running', 'Invalid', 'InstanceNotRunning', 'The instance is not running.'),
  exitNonzero('permission-denied', () => {
    return {
      output: 'bash: /opt/deploy/run.sh: Permission denied\n',
      exitCode: 126,
      reason: 'bash: /opt/deploy/run.sh: Permission denied',
    };
  }),
  exitNonzero('command-not-found', (rng) => {
    return {
      output: `/tmp/aliyun_assist_${rng.hex(32)}.sh: line 4: docker: command not found\n`,
      exitCode: 127,
      reason: 'docker: command not found',
    };
  }),
  exitNonzero('oom-killed', (rng) => {
    return {
      output: `Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n\tat com.example.batch.Loader.load(Loader.java:${rng.range(40, 400)})\nKilled\n`,
      exitCode: 137,
      reason: 'java.lang.OutOfMemoryError: Java heap space (killed, exit 137)',
    };
  }),
  notRun('delivery-timeout', 'Aborted', 'DeliveryTimeout', 'The command delivery has been timeout.'),
];

const PRIMARY = ['yum-baseurl', 'disk-full', 'connection-refused'];

/** Draws the few failure causes of one dataset (weights sum to 1, the first dominates). */
export function drawCauses(rng: Rng): { causes: FailureCause[]; weights: number[] } {
  const primary = FAILURE_CAUSES.find((c) => c.id === rng.pick(PRIMARY));
  const others = FAILURE_CAUSES.filter((c) => c !== primary);
  const causes: FailureCause[] = primary ? [primary] : [];
  const extra = rng.range(1, 3);
  while (causes.length < 1 + extra) {
    const c = rng.pick(others);
    if (!causes.includes(c)) causes.push(c);
  }
  const weights = [0.55, 0.25, 0.12, 0.08].slice(0, causes.length);
  return { causes, weights };
}

/**
 * What one dataset's rows are drawn from: its failure causes (see {@link drawCauses}) and failure rate, or, where the
 * dataset was given `statuses`, those statuses (the ones of positive weight) and their weights.
 */
export interface OutcomeMix<S extends string> {
  causes: FailureCause[];
  causeWeights: number[];
  failureRate: number;
  statusNames?: S[] | undefined;
  statusWeights?: number[] | undefined;
}

/** Draws a dataset's {@link OutcomeMix} from its options (failure rate 0.08 unless given). */
export function drawMix<S extends string>(rng: Rng, opts: { failureRate?: number | undefined; statuses?: Partial<Record<S, number>> | undefined }): OutcomeMix<S> {
  const drawn = drawCauses(rng);
  const mix: OutcomeMix<S> = { causes: drawn.causes, causeWeights: drawn.weights, failureRate: opts.failureRate ?? 0.08 };
  const entries = Object.entries(opts.statuses ?? {}).filter(([, w]) => ((w as number | undefined) ?? 0) > 0) as [S, number][];
  if (entries.length) {
    mix.statusNames = entries.map(([s]) => s);
    mix.statusWeights = entries.map(([, w]) => w);
  }
  return mix;
}

/**
 * One row's status, drawn from its dataset's mix with the row's own `rng`: where the dataset was given statuses, one
 * of them by its weight (`causeOf` then says which cause, if any, that status shows; it may draw from `rng`), else a
 * failure at the mix's failure rate with a cause by its weight (`failedAs`: the status a failure with that cause
 * shows, or undefined for none, a success), else Success. The draws come in this order, for every source alike.
 */
export function drawOutcome<S extends string>(
  mix: OutcomeMix<S>,
  rng: Rng,
  how: { causeOf(status: S, rng: Rng): FailureCause | undefined; failedAs(cause: FailureCause | undefined): S | undefined },
): { status: S | 'Success'; cause?: FailureCause | undefined } {
  if (mix.statusNames && mix.statusWeights) {
    const status = mix.statusNames[rng.weighted(mix.statusWeights)] ?? 'Success';
    return { status, cause: status === 'Success' ? undefined : how.causeOf(status as S, rng) };
  }
  if (rng.next() < mix.failureRate) {
    const cause = mix.causes[rng.weighted(mix.causeWeights)];
    const status = how.failedAs(cause);
    if (status !== undefined) return { status, cause };
  }
  return { status: 'Success' };
}

const SERVICES = ['nginx', 'sshd', 'crond', 'docker', 'chronyd', 'app-worker'];

function asciiSuccess(rng: Rng, ctx: OutputContext): string {
  switch (rng.int(5)) {
    case 0:
      return `hello from ${ctx.instanceId}\n`;
    case 1: {
      const used = rng.range(8, 80);
      return (
        'Filesystem      Size  Used Avail Use% Mounted on\n' +
        `/dev/vda1        40G  ${Math.round((40 * used) / 100)}G  ${40 - Math.round((40 * used) / 100)}G  ${used}% /\n` +
        'tmpfs           1.9G     0  1.9G   0% /dev/shm\n'
      );
    }
    case 2: {
      const svc = rng.pick(SERVICES);
      return (
        `● ${svc}.service - ${svc} daemon\n` +
        `   Loaded: loaded (/usr/lib/systemd/system/${svc}.service; enabled; vendor preset: disabled)\n` +
        `   Active: active (running) since Thu 2026-11-19 0${rng.int(10)}:${rng.range(10, 59)}:${rng.range(10, 59)} CST; ${rng.range(1, 30)} days ago\n` +
        ` Main PID: ${rng.range(300, 32000)} (${svc})\n`
      );
    }
    case 3:
      return 'Loaded plugins: fastestmirror\nLoading mirror speeds from cached hostfile\nNo packages marked for update\n';
    default:
      return `deploy: release app-2.4.${rng.int(9)} activated\nrestarted 1 service in ${rng.range(1, 9)}.${rng.int(10)}s\n`;
  }
}

function crlfSuccess(rng: Rng, ctx: OutputContext): string {
  return (
    '\r\nWindows IP Configuration\r\n\r\n' +
    `   Host Name . . . . . . . . . . . . : iZ${ctx.instanceId.slice(2)}Z\r\n` +
    `   IPv4 Address. . . . . . . . . . . : ${ip10(rng)}\r\n` +
    '   Subnet Mask . . . . . . . . . . . : 255.255.192.0\r\n'
  );
}

const UNICODE_LINES = [
  '部署完成 ✅',
  '服务 nginx 已重启，耗时 1.3 秒 🚀',
  '检查磁盘：/dev/vda1 使用率 42%',
  '内存：可用 3.2 GiB 🧠',
  '日本語のログ出力テスト',
  'Ünïcödé lïnë — ok ✔',
  '🔥✨👩‍💻 emoji with ZWJ',
  'Ελληνικά και Кириллица',
];

function unicodeSuccess(rng: Rng): string {
  const n = rng.range(1, 4);
  let out = '';
  for (let i = 0; i < n; i++) out += rng.pick(UNICODE_LINES) + '\n';
  return out;
}

/**
 * 40 KB of varied log lines, ASCII and multi-byte mixed, built once. Large outputs are a record-specific head plus a
 * slice of this, so a 24 KB output costs one Buffer copy, not 24 KB of string building.
 */
const FILLER: string = (() => {
  const rng = new Rng(0x24c0de);
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < 40 * 1024; i++) {
    const line =
      i % 7 === 3
        ? `[${String(i).padStart(5, '0')}] ${rng.pick(UNICODE_LINES)}`
        : `[${String(i).padStart(5, '0')}] INFO  worker-${rng.int(16)} processed batch ${rng.hex(8)} in ${rng.range(1, 999)}ms`;
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  return lines.join('\n') + '\n';
})();

/**
 * Makes an output of exactly {@link OUTPUT_LIMIT_BYTES} UTF-8 bytes starting with `head`. The cut never splits a
 * character: when the limit falls inside a multi-byte character, the last bytes are padded with ASCII newlines.
 */
function truncatedTo24k(head: string, rng: Rng): string {
  const start = rng.int(4096);
  const buf = Buffer.from(head + FILLER.slice(start), 'utf8');
  let end = OUTPUT_LIMIT_BYTES;
  // Step back over UTF-8 continuation bytes (10xxxxxx) to the start of the character that straddles the limit.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  const text = buf.toString('utf8', 0, end);
  return end === OUTPUT_LIMIT_BYTES ? text : text + '\n'.repeat(OUTPUT_LIMIT_BYTES - end);
}

export interface GeneratedOutput {
  output: string;
  dropped: number;
  /** The complete output (what OSS output delivery writes), built when asked: `output` plus the `dropped` bytes. */
  full: () => string;
}

/** ASCII progress lines, built once: the continuation of a cut output is a slice of them (bytes = characters). */
const ASCII_FILLER: string = (() => {
  const rng = new Rng(0x10a9);
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < 64 * 1024; i++) {
    const pkg = rng.pick(['kernel', 'glibc', 'openssl', 'systemd', 'python3', 'nginx', 'curl', 'libxml2']);
    const line = `  ${rng.pick(['Updating', 'Installing', 'Verifying', 'Cleanup'])}  : ${pkg}-${rng.range(1, 9)}.${rng.range(0, 40)}.${rng.range(0, 99)}-${rng.range(1, 30)}.el8.x86_64  ${rng.range(1, 400)}/${rng.range(400, 800)}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  return lines.join('\n') + '\n';
})();

/** Exactly `bytes` ASCII bytes of progress lines (from a seeded offset), ending with a newline. */
function continuation(bytes: number, offset: number): string {
  if (bytes <= 0) return '';
  let out = '';
  let at = offset % ASCII_FILLER.length;
  while (out.length < bytes) {
    out += ASCII_FILLER.slice(at, at + (bytes - out.length));
    at = 0;
  }
  return out.slice(0, bytes - 1) + '\n';
}

/** An output as the API gives it: whole when it fits, else its first 24 KB (never splitting a character) + Dropped. */
function cut(full: string): GeneratedOutput {
  const buf = Buffer.from(full, 'utf8');
  if (buf.length <= OUTPUT_LIMIT_BYTES) return { output: full, dropped: 0, full: () => full };
  let end = OUTPUT_LIMIT_BYTES;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return { output: buf.toString('utf8', 0, end), dropped: buf.length - end, full: () => full };
}

/** A cut output whose start is `output` (24 KB) and whose dropped part is `dropped` bytes of progress lines. */
function cutWithDropped(output: string, dropped: number): GeneratedOutput {
  // The continuation's offset comes from `dropped` (no extra draw: every other seeded value stays as it was).
  return { output, dropped, full: () => output + continuation(dropped, dropped * 7919) };
}

/** A whole output (nothing cut). */
function whole(output: string): GeneratedOutput {
  return { output, dropped: 0, full: () => output };
}

/** A long run's output: 30–200 KB of progress lines, then `end` (its error, or its last words). */
function longRun(rng: Rng, end: string): GeneratedOutput {
  const head = `Last metadata expiration check: 0:${rng.range(10, 59)}:${rng.range(10, 59)} ago.\nDependencies resolved.\n`;
  return cut(head + continuation(rng.range(30, 200) * 1024, rng.int(ASCII_FILLER.length)) + end);
}

/** Output of a successful run, in the dataset's mode. */
export function successOutput(rng: Rng, mode: OutputMode, ctx: OutputContext): GeneratedOutput {
  if (mode === 'large') return cutWithDropped(truncatedTo24k(asciiSuccess(rng, ctx), rng), rng.range(1, 500_000));
  if (mode === 'unicode') {
    const text = unicodeSuccess(rng);
    return whole(rng.int(4) === 0 ? text.replace(/\n/g, '\r\n') : text);
  }
  if (mode === 'long') return rng.int(5) === 0 ? longRun(rng, `Complete!\n${asciiSuccess(rng, ctx)}`) : whole(asciiSuccess(rng, ctx));
  const roll = rng.int(1000);
  if (roll < 60) return whole('');
  if (roll < 100) return whole(crlfSuccess(rng, ctx));
  if (roll < 160) return whole(unicodeSuccess(rng));
  if (roll < 165) return cutWithDropped(truncatedTo24k(asciiSuccess(rng, ctx), rng), rng.range(1, 200_000));
  return whole(asciiSuccess(rng, ctx));
}

/** Output of a failed run: the cause's text, shaped by the dataset's mode. */
export function failureOutput(rendered: Rendered, rng: Rng, mode: OutputMode, cause: FailureCause): GeneratedOutput {
  if (!cause.ran) return whole('');
  if (mode === 'large') return cutWithDropped(truncatedTo24k(rendered.output, rng), rng.range(1, 500_000));
  if (mode === 'unicode') return whole(`${rendered.output}错误：任务失败 ❌\n`);
  if (mode === 'long') return longRun(rng, rendered.output);
  return whole(rendered.output);
}
